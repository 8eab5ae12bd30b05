/**
 * A TOTP set-up resumes (issue 16, docs/mfa.md "Factors"): each user has one pending set-up —
 * the secret sealed in the ephemeral store for 10 minutes — and every start hands it back until
 * it is confirmed or expires. So after a wrong or empty first code the page (and the API) shows
 * the QR code the user already scanned, and the next code from that same secret is accepted; a
 * confirmed or expired set-up is gone. Frozen clock; codes from the test's own RFC 6238 generator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie } from '../support/auth.ts';
import { base32Decode } from '../support/mfa.ts';
import { createBrowser, formToken, signUpViaApi, type PageBrowser } from '../../src/ui/test-browser.ts';
import { rfc6238 } from './rfc6238.ts';

const wrongFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

function hidden(body: string, name: string): string {
  const value = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(body)?.[1];
  assert.ok(value !== undefined, `hidden ${name}`);
  return value;
}

/** What the user scans on a set-up page: the key shown for typing, and the QR image. */
function shown(response: LightMyRequestResponse): { key: string; qr: string; enrolmentId: string } {
  const key = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(response.body)?.[1];
  const qr = /<img src="(data:image\/svg\+xml;base64,[^"]+)"/.exec(response.body)?.[1];
  assert.ok(key && qr, 'a set-up page with its key and QR code');
  return { key: key.replace(/ /g, ''), qr, enrolmentId: hidden(response.body, 'enrolment_id') };
}

describe('TOTP set-up resumes after a wrong code (JSON API)', () => {
  let t: TestApp;
  let clock = Date.UTC(2030, 3, 1, 9, 0, 0);
  before(async () => {
    t = await createTestApp({ now: () => clock });
  });
  after(() => t.close());

  it('every start returns the same pending set-up; a wrong code keeps it; the right code from that secret confirms it; then it is gone', async () => {
    const cookie = await registerAndSignIn(t, 'resume-api@example.com');
    const first = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    const again = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    assert.equal(again.enrolment_id, first.enrolment_id);
    assert.equal(again.secret, first.secret);
    assert.equal(again.otpauth_uri, first.otpauth_uri);
    const secret = base32Decode(first.secret);
    const wrong = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: first.enrolment_id, code: wrongFor(rfc6238(secret, clock / 1000)) }, { cookie });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error, 'invalid_mfa_code');
    clock += 30_000;
    const resumed = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    assert.equal(resumed.secret, first.secret, 'the secret the app already has');
    const done = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: resumed.enrolment_id, code: rfc6238(secret, clock / 1000) }, { cookie });
    assert.equal(done.statusCode, 200, done.body);
    // Confirmed: gone. The old id is refused, and a new start (after the step-up a further factor needs) is a new secret.
    const stale = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: first.enrolment_id, code: rfc6238(secret, clock / 1000) }, { cookie });
    assert.equal(stale.statusCode, 400);
    assert.equal(stale.json().error, 'invalid_request');
    const stepped = sessionCookie(await stepUp(t, cookie, secret));
    const second = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie: stepped })).json();
    assert.notEqual(second.secret, first.secret);
    assert.notEqual(second.enrolment_id, first.enrolment_id);
  });

  /** A second start needs a recent second factor once the user has one: step up with a code of `secret`. */
  async function stepUp(t: TestApp, cookie: string, secret: Buffer): Promise<LightMyRequestResponse> {
    clock += 60_000;
    const response = await postJSON(t, '/api/auth/mfa/step-up', { method: 'totp', code: rfc6238(secret, clock / 1000) }, { cookie });
    assert.equal(response.statusCode, 200, response.body);
    return response;
  }

  it('an expired set-up is gone: its id is refused and the next start is a new secret', async () => {
    const cookie = await registerAndSignIn(t, 'resume-expiry@example.com');
    const first = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    clock += 10 * 60_000 + 1_000;
    const late = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: first.enrolment_id, code: rfc6238(base32Decode(first.secret), clock / 1000) }, { cookie });
    assert.equal(late.statusCode, 400, late.body);
    assert.equal(late.json().error, 'invalid_request');
    const next = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    assert.notEqual(next.secret, first.secret);
    assert.notEqual(next.enrolment_id, first.enrolment_id);
    // Another user's start is their own set-up.
    const other = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie: await registerAndSignIn(t, 'resume-other@example.com') })).json();
    assert.notEqual(other.secret, next.secret);
    // Two starts at once (two tabs) share one set-up.
    const cookie3 = await registerAndSignIn(t, 'resume-race@example.com');
    const both = await Promise.all([postJSON(t, '/api/auth/mfa/totp', {}, { cookie: cookie3 }), postJSON(t, '/api/auth/mfa/totp', {}, { cookie: cookie3 })]);
    assert.equal(both[0].json().secret, both[1].json().secret);
    assert.ok(!t.logText().includes(first.secret), 'no secret in the logs');
  });
});

describe('TOTP set-up resumes on the pages', () => {
  let t: TestApp;
  let clock = Date.UTC(2030, 3, 2, 9, 0, 0);
  const code = (key: string) => rfc6238(base32Decode(key), clock / 1000);
  before(async () => {
    t = await createTestApp({ now: () => clock, env: { GATEHOUSE_MFA_REQUIRED_ROLES: 'admin' } });
  });
  after(() => t.close());

  async function signedInBrowser(email: string): Promise<PageBrowser> {
    await signUpViaApi(t.app, { email, password: PASSWORD });
    const b = createBrowser(t.app);
    assert.equal((await b.submit('/login', '/login', { email, password: PASSWORD })).statusCode, 303);
    return b;
  }

  it('/account/mfa: after an empty and a wrong code the same QR code is shown, and its next code adds the app', async () => {
    const b = await signedInBrowser('resume-page@example.com');
    const start = await b.post('/account/mfa/totp', { csrf: formToken((await b.get('/account/mfa')).body) });
    assert.equal(start.statusCode, 200);
    const scanned = shown(start);
    const empty = await b.post('/account/mfa/totp/confirm', { csrf: formToken(start.body), enrolment_id: scanned.enrolmentId, name: 'Phone', code: '' });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(shown(empty), scanned, 'the same key, QR code and set-up after an empty code');
    const wrong = await b.post('/account/mfa/totp/confirm', { csrf: formToken(empty.body), enrolment_id: scanned.enrolmentId, name: 'Phone', code: wrongFor(code(scanned.key)) });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /<p class="field-error" id="code-error">That code is not correct\./);
    assert.deepEqual(shown(wrong), scanned, 'the same key, QR code and set-up after a wrong code');
    assert.doesNotMatch(wrong.body, /new code/i, 'no talk of a new code to scan');
    // A reload of the set-up (the add button again) resumes it too.
    const reload = await b.post('/account/mfa/totp', { csrf: formToken(wrong.body) });
    assert.deepEqual(shown(reload), scanned);
    clock += 30_000;
    const done = await b.post('/account/mfa/totp/confirm', { csrf: formToken(reload.body), enrolment_id: scanned.enrolmentId, name: 'Phone', code: code(scanned.key) });
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, /<h1>Authenticator app added<\/h1>/);
  });

  it('/login/mfa (required enrolment): a wrong code shows the same QR code; its next code completes the sign-in', async () => {
    const email = 'resume-admin@example.com';
    await signUpViaApi(t.app, { email, password: PASSWORD });
    // Grey-box: an operator gave the user the admin role, which policy requires MFA of.
    await t.storage.database.db.updateTable('users').set({ roles: JSON.stringify(['admin']) }).where('email', '=', email).execute();
    const b = createBrowser(t.app);
    const first = await b.submit('/login', '/login', { email, password: PASSWORD });
    assert.equal(first.statusCode, 303);
    assert.match(String(first.headers.location), /^\/login\/mfa/);
    const page = await b.get('/login/mfa');
    const scanned = shown(page);
    const wrong = await b.post('/login/mfa', { csrf: formToken(page.body), enrolment_id: scanned.enrolmentId, name: 'Phone', code: wrongFor(code(scanned.key)) });
    assert.equal(wrong.statusCode, 401, wrong.body);
    assert.deepEqual(shown(wrong), scanned, 'the same set-up after a wrong code');
    assert.deepEqual(shown(await b.get('/login/mfa')), scanned, 'and after a reload');
    clock += 30_000;
    const done = await b.post('/login/mfa', { csrf: formToken(wrong.body), enrolment_id: scanned.enrolmentId, name: 'Phone', code: code(scanned.key) });
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, /<h1>Two-step verification is on<\/h1>/);
    assert.ok(b.jar.has('__Host-gatehouse'), 'signed in');
  });
});
