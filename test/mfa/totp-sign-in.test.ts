/**
 * TOTP second factor through the JSON API, in-process on SQLite with a frozen clock
 * (SEC-ASVS-09, SEC-SESS-02, SEC-ASVS-08, SEC-PWD-16): enrolment, the second step, replay,
 * window, lockout, recovery codes under concurrency, and that the half-signed-in state grants nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie, setCookie, whoami } from '../support/auth.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { base32Decode } from '../support/mfa.ts';

function pendingCookie(response: { headers: Record<string, unknown> }): string {
  const cookie = setCookie(response as never, '__Host-gatehouse-mfa');
  assert.ok(cookie, 'a pending cookie was set');
  return cookie.split(';')[0]!;
}

const THRESHOLD = 12;

describe('TOTP as a second factor (JSON API)', () => {
  let t: TestApp;
  let clock = Date.UTC(2030, 0, 1, 12, 0, 0);
  const email = 'totp@example.com';
  let secret: Buffer;
  let recoveryCodes: string[];

  before(async () => {
    // 12 attempts per lock window, so that 10 parallel submissions all reach the code check.
    t = await createTestApp({ now: () => clock, env: { GATEHOUSE_LOCKOUT_THRESHOLD: String(THRESHOLD) } });
  });
  after(async () => t.close());

  it('enrols: otpauth URI and SVG QR code, confirmed by a first code; the first factor brings 10 recovery codes', async () => {
    const cookie = await registerAndSignIn(t, email);
    const start = await postJSON(t, '/api/auth/mfa/totp', {}, { cookie });
    assert.equal(start.statusCode, 200, start.body);
    const enrolment = start.json();
    assert.match(enrolment.otpauth_uri, /^otpauth:\/\/totp\//);
    assert.match(enrolment.qr_svg, /^<svg /);
    secret = base32Decode(enrolment.secret);
    assert.equal(secret.length, 20);
    // Not a factor until confirmed.
    assert.equal((await t.app.inject({ url: '/api/auth/mfa', headers: { cookie } })).json().factors.length, 0);
    const wrong = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: '000000' === totp(secret, clock) ? '111111' : '000000' }, { cookie });
    assert.equal(wrong.statusCode, 401);
    const confirm = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(secret, clock), name: 'Phone' }, { cookie });
    assert.equal(confirm.statusCode, 200, confirm.body);
    recoveryCodes = confirm.json().recovery_codes;
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    const list = (await t.app.inject({ url: '/api/auth/mfa', headers: { cookie } })).json();
    assert.equal(list.factors[0].name, 'Phone');
    assert.equal(list.recovery_codes_remaining, 10);
    assert.ok(t.mails.some((mail) => mail.to === email && /authenticator app was added/i.test(mail.subject)), 'factor change mailed');
  });

  it('sign-in answers 401 mfa_required with a pending cookie that reaches no API and no account page', async () => {
    clock += 60_000;
    const response = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error, 'mfa_required');
    assert.deepEqual(response.json().mfa_methods.sort(), ['recovery_code', 'totp']);
    assert.equal(setCookie(response, '__Host-gatehouse'), undefined, 'no session cookie');
    const pending = pendingCookie(response);
    assert.match(setCookie(response, '__Host-gatehouse-mfa')!, /HttpOnly/);
    // The half-signed-in state grants nothing by itself.
    assert.equal((await whoami(t, pending)).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/api/auth/mfa', headers: { cookie: pending } })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/api/auth/sessions', headers: { cookie: pending } })).statusCode, 401);
    const account = await t.app.inject({ url: '/account', headers: { cookie: pending } });
    assert.equal(account.statusCode, 303);
    assert.match(String(account.headers.location), /^\/login/);
  });

  it('the second step: ±1 step accepted, ±2 refused, a used code refused on replay, the session is new (SEC-ASVS-09, SEC-SESS-02)', async () => {
    clock += 60_000;
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD });
    const pending = pendingCookie(first);
    const twoStepsAgo = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: totp(secret, clock - 60_000) }, { cookie: pending });
    assert.equal(twoStepsAgo.statusCode, 401);
    assert.equal(twoStepsAgo.json().error, 'invalid_mfa_code');
    const code = totp(secret, clock - 30_000);
    const ok = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code }, { cookie: pending });
    assert.equal(ok.statusCode, 200, ok.body);
    const session = sessionCookie(ok);
    assert.equal((await whoami(t, session)).statusCode, 200);
    // Consumed once: the pending cookie cannot be used again.
    assert.equal((await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: totp(secret, clock) }, { cookie: pending })).statusCode, 401);
    // Replay of the same code in a new sign-in: refused.
    const again = pendingCookie(await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD }));
    const replay = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code }, { cookie: again });
    assert.equal(replay.statusCode, 401);
    assert.equal(replay.json().error, 'invalid_mfa_code');
    const logs = t.logText();
    assert.ok(!logs.includes(code), 'the code is not logged');
    assert.ok(!logs.includes(recoveryCodes[0]!), 'no recovery code logged');
  });

  it('recovery codes are single use under 10 parallel submissions, and their use is mailed', async () => {
    const pendings: string[] = [];
    for (let index = 0; index < 10; index += 1) pendings.push(pendingCookie(await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD })));
    const code = recoveryCodes[0]!;
    const answers = await Promise.all(pendings.map((cookie) => postJSON(t, '/api/auth/mfa/verify', { method: 'recovery_code', code }, { cookie })));
    assert.equal(answers.filter((answer) => answer.statusCode === 200).length, 1, answers.map((a) => a.statusCode).join(','));
    assert.equal(answers.filter((answer) => answer.statusCode === 401 && answer.json().error === 'invalid_mfa_code').length, 9, 'the other nine were checked and refused');
    assert.ok(t.mails.some((mail) => mail.to === email && /recovery code was used/i.test(mail.subject)));
  });

  it('wrong codes count toward the account lockout: after the threshold the next is 429 even with the right code', async () => {
    clock += 3_600_000;
    const pending = pendingCookie(await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD }));
    const right = totp(secret, clock);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    for (let attempt = 0; attempt < THRESHOLD; attempt += 1) {
      assert.equal((await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: wrong }, { cookie: pending })).statusCode, 401);
    }
    const locked = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: right }, { cookie: pending });
    assert.equal(locked.statusCode, 429);
    assert.ok(locked.headers['retry-after']);
  });
});

describe('policy: MFA required for a role, first-party token sign-in (SEC-ASVS-08)', () => {
  let t: TestApp;
  const clock = Date.UTC(2030, 0, 2, 12, 0, 0);
  before(async () => {
    t = await createTestApp({ now: () => clock, env: { GATEHOUSE_MFA_REQUIRED_FOR_ALL: 'true' } });
  });
  after(async () => t.close());

  it('a user with no factor is taken through enrolment at sign-in, which completes it', async () => {
    const signUp = await postJSON(t, '/api/auth/sign-up', { email: 'policy@example.com', password: PASSWORD });
    assert.equal(signUp.statusCode, 202);
    const token = /verify-email\?token=([A-Za-z0-9_%-]+)/.exec(t.mails.at(-1)!.text)![1]!;
    assert.equal((await postJSON(t, '/api/auth/verify-email', { token: decodeURIComponent(token) })).statusCode, 200);
    const response = await postJSON(t, '/api/auth/sign-in', { email: 'policy@example.com', password: PASSWORD });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().enrolment_required, true);
    const pending = pendingCookie(response);
    // Verify is not a way around the enrolment.
    assert.equal((await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: '123456' }, { cookie: pending })).statusCode, 400);
    const enrolment = (await postJSON(t, '/api/auth/mfa/enrol/totp', {}, { cookie: pending })).json();
    const done = await postJSON(t, '/api/auth/mfa/enrol/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(base32Decode(enrolment.secret), clock) }, { cookie: pending });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().recovery_codes.length, 10);
    assert.equal((await whoami(t, sessionCookie(done))).statusCode, 200);
  });
});
