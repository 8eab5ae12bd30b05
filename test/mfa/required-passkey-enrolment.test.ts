/**
 * Required enrolment with a passkey (issue 16, docs/mfa.md "Policy"): when policy holds a sign-in
 * for enrolment, the step offers a passkey as well as an authenticator app, on the JSON API and on
 * /login/mfa. The registration ceremony is the ordinary one (@simplewebauthn/server verifying a
 * software authenticator's genuine ES256 attestation), its challenge bound to the pending sign-in
 * — its cookie or mfa_token — not to a session, since there is none yet.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { linkToken, PASSWORD, postJSON, sessionCookie, setCookie, whoami } from '../support/auth.ts';
import { createOAuthApp } from '../support/oauth.ts';
import { createBrowser, formToken, type PageBrowser } from '../../src/ui/test-browser.ts';
import { createSoftAuthenticator, type SoftAuthenticator } from './soft-authenticator.ts';

function pendingCookie(response: LightMyRequestResponse): string {
  const cookie = setCookie(response, '__Host-gatehouse-mfa');
  assert.ok(cookie, 'a pending cookie was set');
  return cookie.split(';')[0]!;
}

/** The creation options a passkey form carries in data-options (HTML-escaped JSON). */
function passkeyFormOptions(body: string, ceremony: 'register' | 'authenticate'): Record<string, unknown> & { challenge: string; rp: { id?: string; name: string }; user: { id: string; name: string } } {
  const match = new RegExp(`<form method="post" action="/login/mfa" class="passkey" data-webauthn="${ceremony}" data-options="([^"]*)"`).exec(body);
  assert.ok(match, `a ${ceremony} passkey form posting to /login/mfa`);
  const text = match[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(text);
}

describe('required enrolment with a passkey (JSON API)', () => {
  let t: TestApp;
  let origin = '';
  const lastSignInMethods = async () => {
    const rows = await t.storage.database.db.selectFrom('audit_events').select(['outcome', 'detail']).where('type', '=', 'sign-in').orderBy('at').execute();
    return (JSON.parse(rows.filter((row) => row.outcome === 'success').at(-1)!.detail as string) as { method: string }).method.split(' ').sort();
  };

  async function signUpVerified(email: string): Promise<void> {
    assert.equal((await postJSON(t, '/api/auth/sign-up', { email, password: PASSWORD })).statusCode, 202);
    assert.equal((await postJSON(t, '/api/auth/verify-email', { token: linkToken(t, email, '/verify-email') })).statusCode, 200);
  }

  before(async () => {
    t = await createOAuthApp({ env: { GATEHOUSE_MFA_REQUIRED_FOR_ALL: 'true' } });
    origin = new URL(t.config.publicUrl).origin;
  });
  after(() => t.close());

  it('browser: mfa_required names the passkey enrolment; options bound to the pending cookie; the answer completes the sign-in', async () => {
    const email = 'enrol-passkey@example.com';
    await signUpVerified(email);
    const authenticator: SoftAuthenticator = createSoftAuthenticator({ origin });
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD });
    assert.equal(first.statusCode, 401, first.body);
    const answer = first.json();
    assert.equal(answer.enrolment_required, true);
    assert.deepEqual(answer.mfa_methods.sort(), ['passkey', 'totp']);
    assert.equal(answer.passkey_options, '/api/auth/mfa/enrol/passkey/options');
    assert.equal(answer.passkey_complete_with, '/api/auth/mfa/enrol/passkey');
    const pending = pendingCookie(first);
    const other = pendingCookie(await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD }));

    // No pending sign-in: no options. The pending cookie is no session: the session ceremony refuses it.
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey/options', {})).statusCode, 401);
    assert.equal((await postJSON(t, '/api/auth/mfa/passkeys/options', {}, { cookie: pending })).statusCode, 401);

    const started = await postJSON(t, '/api/auth/mfa/enrol/passkey/options', {}, { cookie: pending });
    assert.equal(started.statusCode, 200, started.body);
    assert.equal(started.headers['cache-control'], 'no-store');
    const { options, expires_in } = started.json();
    assert.equal(expires_in, 300);
    assert.equal(options.rp.id, new URL(origin).hostname);
    assert.equal(options.user.name, email);
    assert.equal(options.attestation, 'none');
    const credential = authenticator.register(options);

    // Another pending sign-in of the same user may not answer this one's ceremony (and that uses the challenge up).
    const foreign = await postJSON(t, '/api/auth/mfa/enrol/passkey', { credential, name: 'Laptop' }, { cookie: other });
    assert.equal(foreign.statusCode, 401, foreign.body);
    assert.equal(foreign.json().error, 'invalid_mfa_code');
    assert.equal(setCookie(foreign, '__Host-gatehouse'), undefined, 'no session');
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey', { credential, name: 'Laptop' }, { cookie: pending })).statusCode, 401, 'the challenge was used up');
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey', { credential: { id: 1 } }, { cookie: pending })).statusCode, 400, 'a malformed answer: 400');

    const fresh = (await postJSON(t, '/api/auth/mfa/enrol/passkey/options', {}, { cookie: pending })).json().options;
    const done = await postJSON(t, '/api/auth/mfa/enrol/passkey', { credential: authenticator.register(fresh), name: 'Laptop' }, { cookie: pending });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().recovery_codes.length, 10);
    const session = sessionCookie(done);
    assert.match(setCookie(done, '__Host-gatehouse-mfa')!, /Max-Age=0/, 'the pending cookie goes');
    assert.equal((await whoami(t, session)).statusCode, 200);
    assert.deepEqual(await lastSignInMethods(), ['hwk', 'mfa', 'pwd', 'user']);
    const factors = (await t.app.inject({ url: '/api/auth/mfa', headers: { cookie: session } })).json().factors;
    assert.deepEqual(factors.map((factor: { kind: string; name: string }) => [factor.kind, factor.name]), [['passkey', 'Laptop']]);
    assert.ok(t.mails.some((mail) => mail.to === email && /passkey was added/i.test(mail.subject)));

    // The pending sign-in was used once; the other pending one cannot enrol a second factor this way now.
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey/options', {}, { cookie: pending })).statusCode, 401);
    // Next sign-in: the ordinary second step with the new passkey.
    const next = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD });
    assert.equal(next.json().enrolment_required, false);
    assert.ok(next.json().mfa_methods.includes('passkey'));
    const nextPending = pendingCookie(next);
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey/options', {}, { cookie: nextPending })).statusCode, 400, 'no enrolment once a factor exists');
    const assertion = authenticator.assert((await postJSON(t, '/api/auth/mfa/passkey/options', {}, { cookie: nextPending })).json().options);
    assert.equal((await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: assertion }, { cookie: nextPending })).statusCode, 200);
  });

  it('first-party app: the ceremony is bound to mfa_token + client_id and ends in tokens', async () => {
    const email = 'enrol-passkey-app@example.com';
    await signUpVerified(email);
    const authenticator = createSoftAuthenticator({ origin });
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' });
    assert.equal(first.json().enrolment_required, true);
    const mfaToken = first.json().mfa_token as string;
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey/options', { mfa_token: mfaToken })).statusCode, 400, 'the token without its client_id');
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey/options', { mfa_token: mfaToken, client_id: 'mobile2' })).statusCode, 401, 'another client');
    const { options } = (await postJSON(t, '/api/auth/mfa/enrol/passkey/options', { mfa_token: mfaToken, client_id: 'mobile' })).json();
    const credential = authenticator.register(options);
    // The cookie channel does not hold this pending sign-in.
    assert.equal((await postJSON(t, '/api/auth/mfa/enrol/passkey', { credential })).statusCode, 401);
    const done = await postJSON(t, '/api/auth/mfa/enrol/passkey', { credential, mfa_token: mfaToken, client_id: 'mobile' });
    assert.equal(done.statusCode, 200, done.body);
    const body = done.json();
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.access_token && body.refresh_token && body.device_token);
    assert.equal(body.recovery_codes.length, 10);
    assert.equal(setCookie(done, '__Host-gatehouse'), undefined, 'tokens, not a cookie');
    assert.ok(!t.logText().includes(mfaToken), 'the mfa_token is not logged');
  });
});

describe('required enrolment with a passkey (the /login/mfa page)', () => {
  let t: TestApp;
  let origin = '';
  before(async () => {
    t = await createOAuthApp({ env: { GATEHOUSE_MFA_REQUIRED_FOR_ALL: 'true' } });
    origin = new URL(t.config.publicUrl).origin;
  });
  after(() => t.close());

  async function pendingBrowser(email: string, headers: Record<string, string> = {}): Promise<{ b: PageBrowser; page: LightMyRequestResponse }> {
    assert.equal((await postJSON(t, '/api/auth/sign-up', { email, password: PASSWORD })).statusCode, 202);
    const b = createBrowser(t.app);
    const login = await b.get('/login', headers);
    const first = await b.post('/login', { csrf: formToken(login.body), email, password: PASSWORD }, headers);
    assert.equal(first.statusCode, 303, first.body);
    assert.match(String(first.headers.location), /^\/login\/mfa/);
    const page = await b.get('/login/mfa', headers);
    assert.equal(page.statusCode, 200, page.body);
    return { b, page };
  }

  it('offers an authenticator app and a passkey; the passkey form completes the sign-in and shows the recovery codes', async () => {
    const email = 'enrol-passkey-page@example.com';
    const { b, page } = await pendingBrowser(email);
    assert.match(page.body, /<h1>Set up two-step verification<\/h1>/);
    assert.match(page.body, /<h2>With an authenticator app<\/h2>/);
    assert.match(page.body, /<h2>Or with a passkey<\/h2>/);
    assert.match(page.body, /<input type="hidden" name="enrolment_id"/, 'the authenticator app set-up is there too');
    assert.match(page.body, /<script nonce="[^"]+" src="\/assets\/passkeys\.js"/, 'the page loads the passkey glue');
    const options = passkeyFormOptions(page.body, 'register');
    assert.equal(options.user.name, email);
    const authenticator = createSoftAuthenticator({ origin });

    // An answer that does not verify (the wrong origin): refused on the page, no session.
    const elsewhere = createSoftAuthenticator({ origin: 'https://evil.example' });
    const refused = await b.post('/login/mfa', { csrf: formToken(page.body), method: 'passkey', credential: JSON.stringify(elsewhere.register({ ...options, rp: { name: 'x' } })), name: 'Laptop' });
    assert.equal(refused.statusCode, 401, refused.body);
    assert.match(refused.body, /That passkey could not be verified/);
    assert.ok(!b.jar.has('__Host-gatehouse'), 'no session');
    // No answer at all: 400 on the page.
    assert.equal((await b.post('/login/mfa', { csrf: formToken(refused.body), method: 'passkey', credential: '' })).statusCode, 400);

    const again = await b.get('/login/mfa');
    const done = await b.post('/login/mfa', { csrf: formToken(again.body), method: 'passkey', credential: JSON.stringify(authenticator.register(passkeyFormOptions(again.body, 'register'))), name: 'Laptop' });
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, /<h1>Two-step verification is on<\/h1>/);
    assert.match(done.body, /<pre class="recovery-codes">/);
    assert.ok(b.jar.has('__Host-gatehouse'), 'a session');
    assert.ok(!b.jar.has('__Host-gatehouse-mfa'), 'the pending cookie went');
    const account = await b.get('/account/mfa');
    assert.equal(account.statusCode, 200);
    assert.match(account.body, /<strong>Laptop<\/strong> <span class="ua">Passkey<\/span>/);
  });

  it('in German: both ways, translated', async () => {
    const { page } = await pendingBrowser('enrol-passkey-de@example.com', { 'accept-language': 'de' });
    assert.match(page.body, /<html lang="de"/);
    assert.match(page.body, /<h2>Mit einer Authenticator-App<\/h2>/);
    assert.match(page.body, /<h2>Oder mit einem Passkey<\/h2>/);
    assert.match(page.body, /<button type="submit">Passkey erstellen<\/button>/);
  });
});
