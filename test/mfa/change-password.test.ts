/**
 * Change-password needs a recent second factor from a user who has one (docs/mfa.md "Step-up",
 * SEC-ASVS-08): a password-only or stale session gets 403 `mfa_step_up_required` (the page sends
 * it to the step-up page) and the password stays; after step-up the change goes through.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie, setCookie } from '../support/auth.ts';
import { createBrowser } from '../../src/ui/test-browser.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { base32Decode } from '../support/mfa.ts';

const SESSION_COOKIE = '__Host-gatehouse';
const NEW_PASSWORD = 'a brand new passphrase for this';

describe('change-password needs a recent second factor', () => {
  let t: TestApp;
  let clock = Date.UTC(2030, 0, 3, 12, 0, 0);
  const step = (ms: number) => { clock += ms; };

  before(async () => {
    t = await createTestApp({ now: () => clock });
  });
  after(async () => t.close());

  /** A user with an authenticator app; returns its secret and a password-only session from before the enrolment. */
  async function userWithTotp(email: string): Promise<{ secret: Buffer; passwordOnly: string }> {
    const passwordOnly = await registerAndSignIn(t, email);
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie: passwordOnly })).json();
    const secret = base32Decode(enrolment.secret);
    assert.equal((await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(secret, clock) }, { cookie: passwordOnly })).statusCode, 200);
    step(90_000); // past the enrolment code
    return { secret, passwordOnly };
  }

  async function passwordStill(email: string, password: string): Promise<boolean> {
    return (await postJSON(t, '/api/auth/sign-in', { email, password })).json().error === 'mfa_required';
  }

  it('API: 403 mfa_step_up_required without a recent factor; 200 after step-up; 403 again once it is older than 15 minutes', async () => {
    const email = 'change-api@example.com';
    const { secret, passwordOnly } = await userWithTotp(email);
    const refused = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, { cookie: passwordOnly });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json().error, 'mfa_step_up_required');
    assert.ok(await passwordStill(email, PASSWORD), 'the password did not change');
    // A wrong current password is not even checked: no guess is spent before the step-up.
    assert.equal((await postJSON(t, '/api/auth/change-password', { current_password: 'not it at all', new_password: NEW_PASSWORD }, { cookie: passwordOnly })).json().error, 'mfa_step_up_required');

    const stepUp = await postJSON(t, '/api/auth/mfa/step-up', { method: 'totp', code: totp(secret, clock) }, { cookie: passwordOnly });
    assert.equal(stepUp.statusCode, 200, stepUp.body);
    const recent = sessionCookie(stepUp);
    const changed = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, { cookie: recent });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.ok(await passwordStill(email, NEW_PASSWORD), 'the new password is the password');
    const renewed = sessionCookie(changed);

    step(16 * 60_000);
    const stale = await postJSON(t, '/api/auth/change-password', { current_password: NEW_PASSWORD, new_password: PASSWORD }, { cookie: renewed });
    assert.equal(stale.statusCode, 403, stale.body);
    assert.equal(stale.json().error, 'mfa_step_up_required');
  });

  it('a full sign-in with both factors may change the password at once', async () => {
    const email = 'change-signin@example.com';
    const { secret } = await userWithTotp(email);
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD });
    const pending = setCookie(first, '__Host-gatehouse-mfa')!.split(';')[0]!;
    const done = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: totp(secret, clock) }, { cookie: pending });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal((await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, { cookie: sessionCookie(done) })).statusCode, 200);
  });

  it('a user without a second factor changes the password as before', async () => {
    const cookie = await registerAndSignIn(t, 'change-plain@example.com');
    assert.equal((await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, { cookie })).statusCode, 200);
  });

  it('page: /account/password sends a password-only session to the step-up page, which comes back to /account', async () => {
    const email = 'change-page@example.com';
    const { secret, passwordOnly } = await userWithTotp(email);
    const b = createBrowser(t.app);
    b.jar.set(SESSION_COOKIE, passwordOnly.slice(`${SESSION_COOKIE}=`.length));
    const refused = await b.submit('/account', '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD });
    assert.equal(refused.statusCode, 303);
    assert.equal(refused.headers.location, `/login/mfa?return_to=${encodeURIComponent('/account')}`);
    assert.ok(await passwordStill(email, PASSWORD), 'the password did not change');

    const stepped = await b.submit(String(refused.headers.location), '/login/mfa', { method: 'totp', code: totp(secret, clock), return_to: '/account' });
    assert.equal(stepped.statusCode, 303, stepped.body);
    assert.equal(stepped.headers.location, '/account');
    const changed = await b.submit('/account', '/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD });
    assert.equal(changed.statusCode, 303);
    assert.equal(changed.headers.location, '/account?notice=password-changed');
    assert.ok(await passwordStill(email, NEW_PASSWORD));
  });
});
