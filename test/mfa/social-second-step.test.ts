/**
 * A social sign-in leads to the same second step as a password one (docs/mfa.md): a user with
 * an authenticator app who signs in through the upstream provider (panva's oidc-provider as
 * "Google", on loopback) gets the pending cookie and /login/mfa, no session; the session comes
 * only after the code, with `fed otp mfa` in its `amr`, and the sign-in continues to return_to.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import { hotp, totpStep } from '../../src/features/mfa/totp.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { hidden } from '../support/oidc.ts';
import { base32Decode } from '../support/mfa.ts';
import { callbackFor, currentUser, socialAttempt, UPSTREAM_CLIENT_ID } from '../support/social.ts';
import { startGoogleLike, type GoogleLike } from '../support/upstream/google.ts';

const SECRET = 'upstream-client-secret-for-tests';
const SESSION_COOKIE = '__Host-gatehouse';
const PENDING_COOKIE = '__Host-gatehouse-mfa';

/**
 * Real time (the upstream's ID tokens are checked against it): each use takes a code of a step
 * not used before, the newest first, so no use is a replay whatever the timing.
 */
function authenticator(secret: Buffer): () => string {
  const usedSteps = new Set<number>();
  return () => {
    const current = totpStep(Date.now());
    const step = [current + 1, current, current - 1].find((candidate) => !usedSteps.has(candidate));
    assert.ok(step !== undefined, 'an unused step');
    usedSteps.add(step);
    return hotp(secret, step);
  };
}

/** Adds an authenticator app to the account of `cookie`; returns its code generator. */
async function addTotp(t: TestApp, cookie: string): Promise<() => string> {
  const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
  const fresh = authenticator(base32Decode(enrolment.secret));
  const confirm = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: fresh() }, { cookie });
  assert.equal(confirm.statusCode, 200, confirm.body);
  return fresh;
}

describe('social sign-in of a user with MFA goes through the second step', () => {
  let google: GoogleLike;
  let t: TestApp;
  const email = 'mfa-social@gmail.test';
  const asUser = (url: string) => google.signInHeadless(url, 'g-mfa');
  let freshCode: () => string;

  before(async () => {
    google = await startGoogleLike({ clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: SECRET, redirect_uris: [callbackFor('google')] }] });
    google.accounts.set('g-mfa', { email, email_verified: true, name: 'Mfa' });
    t = await createTestApp({
      env: {
        UPSTREAM_SECRET: SECRET,
        GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify([{ id: 'google', preset: 'google', issuer: google.issuer, client_id: UPSTREAM_CLIENT_ID, client_secret_env: 'UPSTREAM_SECRET' }]),
      },
    });
    // The first social sign-in creates the account (no factor yet: a session); it adds an authenticator app.
    const b = createBrowser(t.app);
    const first = await socialAttempt(b, 'google', asUser);
    assert.equal(first.response.statusCode, 303, first.response.body.slice(0, 400));
    assert.equal(first.response.headers.location, '/account');
    freshCode = await addTotp(t, `${SESSION_COOKIE}=${b.jar.get(SESSION_COOKIE)}`);
  });
  after(async () => {
    await t?.close();
    await google?.close();
  });

  async function toSecondStep(b: PageBrowser, returnTo?: string, account = 'g-mfa'): Promise<string> {
    const attempt = await socialAttempt(b, 'google', (url) => google.signInHeadless(url, account), returnTo);
    assert.equal(attempt.response.statusCode, 303, attempt.response.body.slice(0, 400));
    assert.ok(b.jar.has(PENDING_COOKIE), 'the pending cookie was set');
    assert.ok(!b.jar.has(SESSION_COOKIE), 'no session cookie');
    assert.equal(await currentUser(t, b), undefined, 'not signed in');
    return String(attempt.response.headers.location);
  }

  it('lands on /login/mfa without a session; a wrong code gives none; the right code does, with amr fed otp mfa', async () => {
    const b = createBrowser(t.app);
    const location = await toSecondStep(b);
    assert.equal(location, '/login/mfa');
    // The pending state reaches no account page.
    assert.equal((await b.get('/account')).statusCode, 303);
    const right = freshCode();
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const refused = await b.submit(location, '/login/mfa', { method: 'totp', code: wrong });
    assert.equal(refused.statusCode, 401);
    assert.ok(!b.jar.has(SESSION_COOKIE), 'still no session');
    const done = await b.submit(location, '/login/mfa', { method: 'totp', code: right });
    assert.equal(done.statusCode, 303, done.body.slice(0, 400));
    assert.equal(done.headers.location, '/account');
    const user = await currentUser(t, b);
    assert.equal(user?.email, email);
    const session = await t.storage.database.db.selectFrom('sessions').select('auth_methods').where('user_id', '=', user!.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(String(session.auth_methods)).sort(), ['fed', 'mfa', 'otp']);
  });

  it('return_to survives the second step', async () => {
    const b = createBrowser(t.app);
    const location = await toSecondStep(b, '/account/mfa');
    assert.equal(location, `/login/mfa?return_to=${encodeURIComponent('/account/mfa')}`);
    const done = await b.submit(location, '/login/mfa', { method: 'totp', code: freshCode(), return_to: '/account/mfa' });
    assert.equal(done.statusCode, 303, done.body.slice(0, 400));
    assert.equal(done.headers.location, '/account/mfa');
    assert.equal((await currentUser(t, b))?.email, email);
  });

  it('linking an existing MFA account by its password leads to the second step too', async () => {
    const linker = 'linker@example.com';
    const fresh = await addTotp(t, await registerAndSignIn(t, linker));
    google.accounts.set('g-linker', { email: linker, email_verified: true });
    const b = createBrowser(t.app);
    const attempt = await socialAttempt(b, 'google', (url) => google.signInHeadless(url, 'g-linker'));
    assert.equal(attempt.response.headers.location, '/login/social/link');
    const page = await b.get('/login/social/link');
    const proved = await b.post('/login/social/link', { csrf: hidden(page.body, 'csrf'), password: PASSWORD });
    assert.equal(proved.statusCode, 303, proved.body.slice(0, 400));
    assert.equal(proved.headers.location, '/login/mfa');
    assert.ok(b.jar.has(PENDING_COOKIE) && !b.jar.has(SESSION_COOKIE), 'pending, no session');
    const done = await b.submit('/login/mfa', '/login/mfa', { method: 'totp', code: fresh() });
    assert.equal(done.statusCode, 303, done.body.slice(0, 400));
    assert.equal((await currentUser(t, b))?.email, linker);
    // The identity is linked; its next sign-in also asks for the second factor.
    const again = createBrowser(t.app);
    assert.equal(await toSecondStep(again, undefined, 'g-linker'), '/login/mfa');
  });
});
