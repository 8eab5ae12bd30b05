/**
 * Passkeys on the JSON API (issue 16, docs/mfa.md "Passkeys on the JSON API"), with a software
 * authenticator producing genuine ES256 WebAuthn answers (soft-authenticator.ts) and the server
 * verifying them with @simplewebauthn/server: enrolment, listing, renaming and removal; the second
 * step of a sign-in for browsers and for first-party apps; step-up and the recent-second-factor
 * rule; passwordless sign-in (session or tokens); replay, binding, RP ID and clone refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie, setCookie, whoami } from '../support/auth.ts';
import { createOAuthApp } from '../support/oauth.ts';
import { createSoftAuthenticator, type SoftAuthenticator } from './soft-authenticator.ts';

const WEBAUTHN_COOKIE = '__Host-gatehouse-webauthn';

function cookiePair(response: LightMyRequestResponse, name: string): string {
  const cookie = setCookie(response, name);
  assert.ok(cookie, `a ${name} cookie was set`);
  return cookie.split(';')[0]!;
}

describe('passkeys on the JSON API (software authenticator, real WebAuthn verification)', () => {
  let t: TestApp;
  let origin = '';
  let authenticator: SoftAuthenticator;
  const email = 'json-passkey@example.com';
  let passwordSession = '';
  let passkeyId = '';
  /** Every secret value the tests handled: none may reach the logs. */
  const secrets: string[] = [];

  const getJSON = (url: string, cookie: string) => t.app.inject({ url, headers: { cookie } });
  const send = (method: 'PATCH' | 'DELETE', url: string, cookie: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { cookie, origin, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });
  async function lastAudit(type: string): Promise<{ outcome: string; detail: string }[]> {
    return (await t.storage.database.db.selectFrom('audit_events').select(['outcome', 'detail']).where('type', '=', type).orderBy('at').execute()) as { outcome: string; detail: string }[];
  }
  const lastSignInMethods = async () => (JSON.parse((await lastAudit('sign-in')).filter((row) => row.outcome === 'success').at(-1)!.detail) as { method: string }).method.split(' ').sort();

  /** Password first: the pending cookie of the second step. */
  async function pendingAfterPassword(): Promise<string> {
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD });
    assert.equal(first.statusCode, 401, first.body);
    assert.equal(first.json().error, 'mfa_required');
    assert.ok(first.json().mfa_methods.includes('passkey'), first.body);
    assert.equal(first.json().passkey_options, '/api/auth/mfa/passkey/options');
    return cookiePair(first, '__Host-gatehouse-mfa');
  }

  before(async () => {
    t = await createOAuthApp();
    origin = new URL(t.config.publicUrl).origin;
    authenticator = createSoftAuthenticator({ origin });
    passwordSession = await registerAndSignIn(t, email);
  });
  after(async () => t.close());

  it('enrols a passkey: creation options bound to the session (RP ID from the public URL, attestation none, discoverable preferred); the first factor brings recovery codes', async () => {
    const started = await postJSON(t, '/api/auth/mfa/passkeys/options', {}, { cookie: passwordSession });
    assert.equal(started.statusCode, 200, started.body);
    assert.equal(started.headers['cache-control'], 'no-store');
    const { options, expires_in } = started.json();
    assert.equal(expires_in, 300);
    assert.equal(options.rp.id, new URL(origin).hostname);
    assert.equal(options.attestation, 'none');
    assert.equal(options.authenticatorSelection.residentKey, 'preferred');
    assert.equal(options.authenticatorSelection.userVerification, 'preferred');
    assert.ok(options.pubKeyCredParams.some((param: { alg: number }) => param.alg === -7), 'ES256 offered');
    const answer = authenticator.register(options);

    // Another session of the same user may not answer this session's ceremony.
    const otherSession = (await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD }));
    const foreign = await postJSON(t, '/api/auth/mfa/passkeys', { credential: answer, name: 'Laptop' }, { cookie: sessionCookie(otherSession) });
    assert.equal(foreign.statusCode, 401, foreign.body);
    assert.equal(foreign.json().error, 'invalid_mfa_code');

    // That attempt used the challenge up: the same answer in the right session is refused too.
    assert.equal((await postJSON(t, '/api/auth/mfa/passkeys', { credential: answer, name: 'Laptop' }, { cookie: passwordSession })).statusCode, 401);
    // A fresh ceremony in the right session works.
    const again = (await postJSON(t, '/api/auth/mfa/passkeys/options', {}, { cookie: passwordSession })).json().options;
    const added = await postJSON(t, '/api/auth/mfa/passkeys', { credential: authenticator.register(again), name: 'Laptop' }, { cookie: passwordSession });
    assert.equal(added.statusCode, 200, added.body);
    assert.equal(added.json().factor.kind, 'passkey');
    assert.equal(added.json().factor.name, 'Laptop');
    assert.equal(added.json().recovery_codes.length, 10);
    passkeyId = added.json().factor.id;
    authenticator.credentials.splice(0, authenticator.credentials.length - 1); // keep only the registered one
    assert.ok(t.mails.some((mail) => mail.to === email && /passkey was added/i.test(mail.subject)));
    assert.ok((await lastAudit('mfa-enrolled')).some((row) => row.outcome === 'success' && /"kind":"passkey"/.test(row.detail)));
  });

  it('lists and renames the passkey over the account API', async () => {
    const renamed = await send('PATCH', `/api/auth/mfa/factors/${passkeyId}`, passwordSession, { name: 'Work laptop' });
    assert.equal(renamed.statusCode, 204, renamed.body);
    const listed = (await getJSON('/api/auth/mfa', passwordSession)).json();
    assert.deepEqual(listed.factors.map((factor: { kind: string; name: string }) => [factor.kind, factor.name]), [['passkey', 'Work laptop']]);
    assert.equal(listed.recovery_codes_remaining, 10);
  });

  it('a password-only session needs a recent second factor to add or remove passkeys (403 mfa_step_up_required)', async () => {
    const options = await postJSON(t, '/api/auth/mfa/passkeys/options', {}, { cookie: passwordSession });
    assert.equal(options.statusCode, 403);
    assert.equal(options.json().error, 'mfa_step_up_required');
    assert.equal((await send('DELETE', `/api/auth/mfa/factors/${passkeyId}`, passwordSession)).statusCode, 403);
  });

  it('second step with the passkey (browser): options bound to the pending sign-in, verify → a new session, amr pwd hwk user mfa', async () => {
    // No pending sign-in: no options.
    assert.equal((await postJSON(t, '/api/auth/mfa/passkey/options', {})).statusCode, 401);
    const pending = await pendingAfterPassword();
    const other = await pendingAfterPassword();
    const started = await postJSON(t, '/api/auth/mfa/passkey/options', {}, { cookie: pending });
    assert.equal(started.statusCode, 200, started.body);
    const { options } = started.json();
    assert.deepEqual(options.allowCredentials.map((item: { id: string }) => item.id), authenticator.credentials.map((item) => item.id.toString('base64url')));
    assert.equal(options.rpId, new URL(origin).hostname);
    const assertion = authenticator.assert(options);
    // The half-signed-in state is no session.
    assert.equal((await whoami(t, pending)).statusCode, 401);
    // The challenge belongs to the first pending sign-in, not the other.
    const wrongHolder = await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: assertion }, { cookie: other });
    assert.equal(wrongHolder.statusCode, 401);
    assert.equal(wrongHolder.json().error, 'invalid_mfa_code');

    const again = authenticator.assert((await postJSON(t, '/api/auth/mfa/passkey/options', {}, { cookie: pending })).json().options);
    const done = await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: again }, { cookie: pending });
    assert.equal(done.statusCode, 200, done.body);
    const session = sessionCookie(done);
    assert.equal((await whoami(t, session)).statusCode, 200);
    assert.deepEqual(await lastSignInMethods(), ['hwk', 'mfa', 'pwd', 'user']);
    // Replayed on a new pending sign-in: refused.
    const replay = await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: again }, { cookie: await pendingAfterPassword() });
    assert.equal(replay.statusCode, 401);
    // A malformed answer is a 400, not a 500.
    const malformed = await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: { id: 1 } }, { cookie: await pendingAfterPassword() });
    assert.equal(malformed.statusCode, 400, malformed.body);
    assert.equal((await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey' }, { cookie: await pendingAfterPassword() })).statusCode, 400);
  });

  it('second step with the passkey (first-party app): mfa_token + client_id → access and refresh tokens', async () => {
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' });
    assert.equal(first.statusCode, 401);
    const mfaToken = first.json().mfa_token as string;
    secrets.push(mfaToken);
    // The token without its client_id, or with another client's: no options.
    assert.equal((await postJSON(t, '/api/auth/mfa/passkey/options', { mfa_token: mfaToken })).statusCode, 400);
    assert.equal((await postJSON(t, '/api/auth/mfa/passkey/options', { mfa_token: mfaToken, client_id: 'mobile2' })).statusCode, 401);
    const { options } = (await postJSON(t, '/api/auth/mfa/passkey/options', { mfa_token: mfaToken, client_id: 'mobile' })).json();
    const done = await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: authenticator.assert(options), mfa_token: mfaToken, client_id: 'mobile' });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().token_type, 'Bearer');
    assert.ok(done.json().access_token && done.json().refresh_token && done.json().device_token);
    assert.equal(setCookie(done, '__Host-gatehouse'), undefined, 'no session cookie for an app');
  });

  it('step-up with the passkey, then the recent second factor allows adding and removing a passkey', async () => {
    const started = await postJSON(t, '/api/auth/mfa/step-up/passkey/options', {}, { cookie: passwordSession });
    assert.equal(started.statusCode, 200, started.body);
    const stepped = await postJSON(t, '/api/auth/mfa/step-up', { method: 'passkey', credential: authenticator.assert(started.json().options) }, { cookie: passwordSession });
    assert.equal(stepped.statusCode, 200, stepped.body);
    const fresh = sessionCookie(stepped);
    assert.notEqual(fresh, passwordSession, 'SEC-SESS-02: a new session id');
    assert.equal((await whoami(t, passwordSession)).statusCode, 401, 'the old session ended');

    const second = createSoftAuthenticator({ origin });
    const options = (await postJSON(t, '/api/auth/mfa/passkeys/options', {}, { cookie: fresh })).json().options;
    assert.deepEqual(options.excludeCredentials.map((item: { id: string }) => item.id), [authenticator.credentials[0]!.id.toString('base64url')], 'the existing passkey is excluded');
    const added = await postJSON(t, '/api/auth/mfa/passkeys', { credential: second.register(options), name: 'Phone' }, { cookie: fresh });
    assert.equal(added.statusCode, 200, added.body);
    assert.equal(added.json().recovery_codes, undefined, 'recovery codes only with the first factor');
    const removed = await send('DELETE', `/api/auth/mfa/factors/${added.json().factor.id}`, fresh);
    assert.equal(removed.statusCode, 204, removed.body);
    assert.deepEqual((await getJSON('/api/auth/mfa', fresh)).json().factors.map((factor: { name: string }) => factor.name), ['Work laptop']);
    passwordSession = fresh;
  });

  it('passwordless sign-in (browser): discoverable request bound to a cookie → a session, amr hwk user mfa', async () => {
    const started = await postJSON(t, '/api/auth/sign-in/passkey/options', {});
    assert.equal(started.statusCode, 200, started.body);
    const binding = cookiePair(started, WEBAUTHN_COOKIE);
    const { options } = started.json();
    assert.deepEqual(options.allowCredentials ?? [], [], 'no credentials named: discoverable only');
    const assertion = authenticator.assert(options);
    // Without the browser's binding cookie: refused.
    assert.equal((await postJSON(t, '/api/auth/sign-in/passkey', { credential: assertion })).statusCode, 401);
    const again = authenticator.assert((await postJSON(t, '/api/auth/sign-in/passkey/options', {}, { cookie: binding })).json().options);
    const done = await postJSON(t, '/api/auth/sign-in/passkey', { credential: again }, { cookie: binding });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().user.email, email);
    assert.equal((await whoami(t, sessionCookie(done))).statusCode, 200);
    assert.deepEqual(await lastSignInMethods(), ['hwk', 'mfa', 'user']);
    const replay = await postJSON(t, '/api/auth/sign-in/passkey', { credential: again }, { cookie: binding });
    assert.equal(replay.statusCode, 401, 'a replayed assertion is refused');
  });

  it('passwordless sign-in (first-party app): ceremony_token + client_id → tokens like /api/auth/sign-in', async () => {
    const started = await postJSON(t, '/api/auth/sign-in/passkey/options', { client_id: 'mobile' });
    assert.equal(started.statusCode, 200, started.body);
    const { options, ceremony_token } = started.json();
    assert.match(ceremony_token, /^[A-Za-z0-9_-]{43}$/);
    const assertion = authenticator.assert(options);
    secrets.push(ceremony_token, (assertion.response as { signature: string }).signature);
    assert.equal((await postJSON(t, '/api/auth/sign-in/passkey', { credential: assertion, client_id: 'mobile' })).statusCode, 400, 'ceremony_token is required');
    // Another client presenting the ceremony token: refused (and the challenge is spent).
    assert.equal((await postJSON(t, '/api/auth/sign-in/passkey', { credential: assertion, client_id: 'mobile2', ceremony_token })).statusCode, 401);
    const next = (await postJSON(t, '/api/auth/sign-in/passkey/options', { client_id: 'mobile' })).json();
    const done = await postJSON(t, '/api/auth/sign-in/passkey', { credential: authenticator.assert(next.options), client_id: 'mobile', ceremony_token: next.ceremony_token });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().token_type, 'Bearer');
    assert.ok(done.json().access_token && done.json().refresh_token);
    // A client that may not sign users in is refused before any passkey is looked at.
    assert.equal((await postJSON(t, '/api/auth/sign-in/passkey/options', { client_id: 'svc' })).statusCode, 400);
  });

  it('passwordless without user verification is refused; a wrong origin and a wrong RP ID are refused', async () => {
    const started = await postJSON(t, '/api/auth/sign-in/passkey/options', {});
    const binding = cookiePair(started, WEBAUTHN_COOKIE);
    const noUv = createSoftAuthenticator({ origin, userVerified: false, credentials: authenticator.credentials });
    const refused = await postJSON(t, '/api/auth/sign-in/passkey', { credential: noUv.assert(started.json().options) }, { cookie: binding });
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().error_description, /did not verify you/);

    // Only the origin is wrong (a phishing page relaying the request): refused.
    const phished = createSoftAuthenticator({ origin: 'https://evil.example', credentials: authenticator.credentials });
    const phishedOptions = (await postJSON(t, '/api/auth/sign-in/passkey/options', {}, { cookie: binding })).json().options;
    assert.equal((await postJSON(t, '/api/auth/sign-in/passkey', { credential: phished.assert(phishedOptions) }, { cookie: binding })).statusCode, 401);
    // Origin and RP ID of another site: refused.
    const elsewhere = createSoftAuthenticator({ origin: 'https://evil.example', credentials: authenticator.credentials.map((item) => ({ ...item, rpId: 'evil.example' })) });
    const options = (await postJSON(t, '/api/auth/sign-in/passkey/options', {}, { cookie: binding })).json().options;
    const wrongOrigin = await postJSON(t, '/api/auth/sign-in/passkey', { credential: elsewhere.assert({ ...options, rpId: 'evil.example' }) }, { cookie: binding });
    assert.equal(wrongOrigin.statusCode, 401);
    assert.match(wrongOrigin.json().error_description, /could not be verified/);
  });

  it('a cloned authenticator (counter going back) is refused and audited', async () => {
    const clone = authenticator.clone(1);
    const pending = await pendingAfterPassword();
    const { options } = (await postJSON(t, '/api/auth/mfa/passkey/options', {}, { cookie: pending })).json();
    const refused = await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: clone.assert(options) }, { cookie: pending });
    assert.equal(refused.statusCode, 401);
    assert.equal(setCookie(refused, '__Host-gatehouse'), undefined, 'no session');
    assert.equal((await lastAudit('mfa-challenge')).filter((row) => row.outcome === 'failure' && /cloned authenticator/.test(row.detail)).length, 1);
    // The genuine authenticator still works (the pending sign-in was not used up by the refusal).
    const { options: next } = (await postJSON(t, '/api/auth/mfa/passkey/options', {}, { cookie: pending })).json();
    assert.equal((await postJSON(t, '/api/auth/mfa/verify', { method: 'passkey', credential: authenticator.assert(next) }, { cookie: pending })).statusCode, 200);
  });

  it('never logs a WebAuthn answer, token or ceremony token', () => {
    const logs = t.logText();
    assert.ok(secrets.length >= 3);
    for (const secret of secrets) assert.equal(logs.includes(secret), false);
    assert.doesNotMatch(logs, /attestationObject|authenticatorData|clientDataJSON/);
  });
});
