/**
 * Issue 16 "Hostile": the second factor on two instances sharing PostgreSQL and Redis
 * (SEC-ASVS-09). A TOTP code accepted on A is a replay on B; wrong codes alternating between A
 * and B reach the lockout at the same count as on one instance; a sign-in whose password was
 * checked on A is finished on B. Required in CI; skipped with a printed reason elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie, setCookie, whoami } from '../support/auth.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { base32Decode } from '../support/mfa.ts';

const postgres = await probePostgres();
const redis = await probeRedis();
const THRESHOLD = 6;

function pendingCookie(response: { headers: Record<string, unknown> }): string {
  const cookie = setCookie(response as never, '__Host-gatehouse-mfa');
  assert.ok(cookie, 'a pending cookie was set');
  return cookie.split(';')[0]!;
}

describe('MFA on two instances sharing PostgreSQL + Redis', { skip: skipUnless(postgres) || skipUnless(redis) }, () => {
  let a: TestApp;
  let b: TestApp;
  let drop: () => Promise<void>;
  // One clock for both instances, moved forward between tests so that each starts on fresh TOTP steps.
  let offset = 0;
  const now = () => Date.now() + offset;

  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    const env = { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix(), GATEHOUSE_LOCKOUT_THRESHOLD: String(THRESHOLD) };
    a = await createTestApp({ env, now });
    b = await createTestApp({ env, now });
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await drop?.();
  });

  /** A user with an authenticator app, enrolled on A; returns its secret. */
  async function userWithTotp(email: string): Promise<Buffer> {
    const cookie = await registerAndSignIn(a, email);
    const enrolment = (await postJSON(a, '/api/auth/mfa/totp', {}, { cookie })).json();
    const secret = base32Decode(enrolment.secret);
    const confirm = await postJSON(a, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(secret, now()) }, { cookie });
    assert.equal(confirm.statusCode, 200, confirm.body);
    offset += 120_000; // past the enrolment code's validity
    return secret;
  }

  it('a TOTP code accepted on A is refused when replayed on B', async () => {
    const email = 'replay@example.com';
    const secret = await userWithTotp(email);
    const code = totp(secret, now());
    const onA = await postJSON(a, '/api/auth/mfa/verify', { method: 'totp', code }, { cookie: pendingCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD })) });
    assert.equal(onA.statusCode, 200, onA.body);
    const onB = await postJSON(b, '/api/auth/mfa/verify', { method: 'totp', code }, { cookie: pendingCookie(await postJSON(b, '/api/auth/sign-in', { email, password: PASSWORD })) });
    assert.equal(onB.statusCode, 401);
    assert.equal(onB.json().error, 'invalid_mfa_code');
  });

  it('the same fresh code sent to A and B at once is accepted once', async () => {
    const email = 'race@example.com';
    const secret = await userWithTotp(email);
    const pendings = [await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD }), await postJSON(b, '/api/auth/sign-in', { email, password: PASSWORD })].map(pendingCookie);
    const code = totp(secret, now());
    const answers = await Promise.all([a, b, a, b].map((instance, index) => postJSON(instance, '/api/auth/mfa/verify', { method: 'totp', code }, { cookie: pendings[index % 2]! })));
    assert.equal(answers.filter((answer) => answer.statusCode === 200).length, 1, answers.map((answer) => answer.statusCode).join(','));
  });

  it('wrong codes alternating between A and B reach the lockout at the same count as on one instance', async () => {
    const email = 'alternate@example.com';
    const secret = await userWithTotp(email);
    const pending = pendingCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD }));
    const right = totp(secret, now());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    for (let attempt = 0; attempt < THRESHOLD; attempt += 1) {
      const instance = attempt % 2 === 0 ? a : b;
      const answer = await postJSON(instance, '/api/auth/mfa/verify', { method: 'totp', code: wrong }, { cookie: pending });
      assert.equal(answer.statusCode, 401, `attempt ${attempt + 1}`);
    }
    for (const instance of [a, b]) {
      const locked = await postJSON(instance, '/api/auth/mfa/verify', { method: 'totp', code: right }, { cookie: pending });
      assert.equal(locked.statusCode, 429, locked.body);
      assert.ok(locked.headers['retry-after']);
    }
  });

  it('a sign-in started on A (password) is completed on B (second step), once', async () => {
    const email = 'across@example.com';
    const secret = await userWithTotp(email);
    const pending = pendingCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD }));
    const done = await postJSON(b, '/api/auth/mfa/verify', { method: 'totp', code: totp(secret, now()) }, { cookie: pending });
    assert.equal(done.statusCode, 200, done.body);
    const session = sessionCookie(done);
    for (const instance of [a, b]) assert.equal((await whoami(instance, session)).statusCode, 200);
    // Used up on B: A does not finish it again.
    offset += 30_000;
    assert.equal((await postJSON(a, '/api/auth/mfa/verify', { method: 'totp', code: totp(secret, now()) }, { cookie: pending })).statusCode, 401);
  });
});
