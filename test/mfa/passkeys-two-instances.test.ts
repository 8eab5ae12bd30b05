/**
 * Issue 16: passkeys on two instances sharing PostgreSQL and Redis, through the JSON API with a
 * software authenticator (genuine ES256 WebAuthn answers, verified by @simplewebauthn/server).
 * A second step whose options came from A is finished on B, once; a challenge is single use
 * across instances; the signature counter holds across instances: a cloned authenticator is
 * refused on B after the original was used on A, and of a genuine and a cloned assertion with the
 * same counter sent to A and B at once exactly one wins — the other is refused and audited.
 * Required in CI (TEST_POSTGRES_URL / TEST_REDIS_URL); skipped with a printed reason elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie, setCookie, whoami } from '../support/auth.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { createSoftAuthenticator, type SoftAuthenticator } from './soft-authenticator.ts';

const postgres = await probePostgres();
const redis = await probeRedis();

function pendingCookie(response: LightMyRequestResponse): string {
  assert.equal(response.statusCode, 401, response.body);
  const cookie = setCookie(response, '__Host-gatehouse-mfa');
  assert.ok(cookie, 'a pending cookie was set');
  return cookie.split(';')[0]!;
}

describe('passkeys on two instances sharing PostgreSQL + Redis', { skip: skipUnless(postgres) || skipUnless(redis) }, () => {
  let a: TestApp;
  let b: TestApp;
  let drop: () => Promise<void>;

  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    const env = { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix() };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await drop?.();
  });

  /** A user with a passkey, registered on A (options) and B (answer): the registration ceremony crosses instances too. */
  async function userWithPasskey(email: string): Promise<SoftAuthenticator> {
    const cookie = await registerAndSignIn(a, email);
    const authenticator = createSoftAuthenticator({ origin: new URL(a.config.publicUrl).origin });
    const { options } = (await postJSON(a, '/api/auth/mfa/passkeys/options', {}, { cookie })).json();
    const added = await postJSON(b, '/api/auth/mfa/passkeys', { credential: authenticator.register(options), name: 'Key' }, { cookie });
    assert.equal(added.statusCode, 200, added.body);
    return authenticator;
  }

  const secondStepOptions = async (instance: TestApp, pending: string) => {
    const response = await postJSON(instance, '/api/auth/mfa/passkey/options', {}, { cookie: pending });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().options;
  };
  const clones = async (instance: TestApp) =>
    (await instance.storage.database.db.selectFrom('audit_events').select(['detail']).where('type', '=', 'mfa-challenge').where('outcome', '=', 'failure').execute())
      .filter((row) => /cloned authenticator/.test(String(row.detail))).length;

  it('a passkey second step started on A (password, options) is finished on B, once; the challenge is single use on both', async () => {
    const email = 'pk-across@example.com';
    const authenticator = await userWithPasskey(email);
    const pending = pendingCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD }));
    const assertion = authenticator.assert(await secondStepOptions(a, pending));
    const done = await postJSON(b, '/api/auth/mfa/verify', { method: 'passkey', credential: assertion }, { cookie: pending });
    assert.equal(done.statusCode, 200, done.body);
    const session = sessionCookie(done);
    for (const instance of [a, b]) assert.equal((await whoami(instance, session)).statusCode, 200);
    // The same assertion on A (a new pending sign-in): its challenge was used up on B.
    const replay = await postJSON(a, '/api/auth/mfa/verify', { method: 'passkey', credential: assertion }, { cookie: pendingCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD })) });
    assert.equal(replay.statusCode, 401);
    // The pending sign-in finished on B is gone on A as well.
    const again = authenticator.assert(await secondStepOptions(b, pendingCookie(await postJSON(b, '/api/auth/sign-in', { email, password: PASSWORD }))));
    assert.equal((await postJSON(a, '/api/auth/mfa/verify', { method: 'passkey', credential: again }, { cookie: pending })).statusCode, 401);
  });

  it('the counter holds across instances: used on A up to n, a clone at a lower counter is refused on B and audited', async () => {
    const email = 'pk-clone@example.com';
    const authenticator = await userWithPasskey(email);
    for (const instance of [a, b, a]) {
      const pending = pendingCookie(await postJSON(instance, '/api/auth/sign-in', { email, password: PASSWORD }));
      const done = await postJSON(instance, '/api/auth/mfa/verify', { method: 'passkey', credential: authenticator.assert(await secondStepOptions(instance, pending)) }, { cookie: pending });
      assert.equal(done.statusCode, 200, done.body);
    }
    const before = await clones(a);
    const clone = authenticator.clone(2); // the original is at 3
    const pending = pendingCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD }));
    const refused = await postJSON(b, '/api/auth/mfa/verify', { method: 'passkey', credential: clone.assert(await secondStepOptions(a, pending)) }, { cookie: pending });
    assert.equal(refused.statusCode, 401, refused.body);
    assert.equal(await clones(b), before + 1, 'audited (the audit log is shared)');
    // The original, moving forward, still works.
    const done = await postJSON(b, '/api/auth/mfa/verify', { method: 'passkey', credential: authenticator.assert(await secondStepOptions(b, pending)) }, { cookie: pending });
    assert.equal(done.statusCode, 200, done.body);
  });

  it('a genuine and a cloned assertion with the same counter, sent to A and B at once: exactly one wins, the other is refused as a clone', async () => {
    const email = 'pk-race@example.com';
    const authenticator = await userWithPasskey(email);
    const clone = authenticator.clone(0);
    const pendings = [pendingCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD })), pendingCookie(await postJSON(b, '/api/auth/sign-in', { email, password: PASSWORD }))];
    // Both at counter 1, for challenges of their own pending sign-ins (options from the other instance).
    const assertions = [authenticator.assert(await secondStepOptions(b, pendings[0]!)), clone.assert(await secondStepOptions(a, pendings[1]!))];
    const before = await clones(a);
    const answers = await Promise.all([a, b].map((instance, index) => postJSON(instance, '/api/auth/mfa/verify', { method: 'passkey', credential: assertions[index] }, { cookie: pendings[index]! })));
    assert.deepEqual(answers.map((answer) => answer.statusCode).sort(), [200, 401], answers.map((answer) => answer.body).join(' | '));
    assert.equal(await clones(a), before + 1, 'the loser is audited as a cloned authenticator');
  });
});
