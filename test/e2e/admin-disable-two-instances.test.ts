/**
 * SEC-OAUTH-22 / SEC-SESS-09 across instances (issue 17): an admin disables a user on instance A;
 * on instance B (same PostgreSQL and Redis) that user's session is refused, and their refresh
 * token and access token are dead, within the cross-instance bound. The ceiling below is
 * generous (the product's bound is pub/sub, milliseconds): the test proves the fan-out, never
 * the machine's speed. B caches the session first, so a B that missed the fan-out would still
 * answer from its cache.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { assertActive, createOAuthApp, introspect, nativeSignIn, refresh } from '../support/oauth.ts';

const postgres = await probePostgres();
const redis = await probeRedis();
const skip = skipUnless(postgres) || skipUnless(redis);
const WITHIN_MS = 30_000;

async function until(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + WITHIN_MS;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('admin disable on two instances sharing PostgreSQL + Redis', { skip }, () => {
  let a: TestApp;
  let b: TestApp;
  let drop: () => Promise<void>;
  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    // Sessions cached for 5 minutes on B (the maximum): only the fan-out can make B refuse in time.
    const env = { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix(), GATEHOUSE_SESSION_CACHE_SECONDS: '300' };
    a = await createOAuthApp({ env });
    b = await createOAuthApp({ env });
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await drop?.();
  });

  it('disabled on A: on B the session is refused, the refresh token is invalid_grant and the access token inactive', async () => {
    const admin = await registerAndSignIn(a, 'admin@example.com');
    const users = createSqlUserStore(a.storage.database.db);
    await users.setRoles((await users.findByEmail('admin@example.com'))!.id, ['admin'], Date.now());
    const alice = await nativeSignIn(a, 'alice@example.com');
    // B has seen (and cached) alice's session, and verified her access token.
    assert.equal((await b.app.inject({ url: '/api/auth/session', headers: { cookie: alice.cookie } })).statusCode, 200);
    assertActive(await introspect(b, alice.access_token, 'rs'), 'before');

    const disabled = await a.app.inject({ method: 'POST', url: `/api/admin/users/${alice.sub}/disable`, headers: { cookie: admin, origin: new URL(a.config.publicUrl).origin, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(disabled.statusCode, 200, disabled.body);

    assert.ok(await until(async () => (await b.app.inject({ url: '/api/auth/session', headers: { cookie: alice.cookie } })).statusCode === 401), 'B refuses the session');
    assert.ok(await until(async () => (await introspect(b, alice.access_token, 'rs')).body === '{"active":false}'), 'B: the access token is inactive');
    const refreshed = await refresh(b, 'mobile', alice.refresh_token);
    assert.equal(refreshed.statusCode, 400, refreshed.body);
    assert.equal(refreshed.json().error, 'invalid_grant');
  });
});
