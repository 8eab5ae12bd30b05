/**
 * Issue 17's "done when", through the console: an admin disables a user with the CONSOLE form on
 * instance A; on instance B (same PostgreSQL and Redis, sessions cached for the 5-minute
 * maximum) the user's session is refused, the access token is inactive at introspection and the
 * refresh token is invalid_grant. The wait is a generous ceiling (the fan-out is pub/sub); no
 * timing is asserted. Set-up as test/e2e/admin-disable-two-instances.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { assertActive, introspect, nativeSignIn, refresh } from '../support/oauth.ts';
import { confirmAction, signedInBrowser } from './console-support-admin.ts';
import { createConsoleTestApp } from './console-support.ts';

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

describe('console disable on two instances sharing PostgreSQL + Redis', { skip }, () => {
  let a: TestApp;
  let b: TestApp;
  let drop: () => Promise<void>;
  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    const env = { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix(), GATEHOUSE_SESSION_CACHE_SECONDS: '300' };
    a = await createConsoleTestApp({ env });
    b = await createConsoleTestApp({ env });
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await drop?.();
  });

  it('disabled in the console on A: on B the session is refused, the access token inactive, the refresh token invalid_grant', async () => {
    const admin = await signedInBrowser(a, 'admin@example.com');
    const alice = await nativeSignIn(a, 'alice@example.com');
    // B has seen (and cached) alice's session, and verified her access token.
    assert.equal((await b.app.inject({ url: '/api/auth/session', headers: { cookie: alice.cookie } })).statusCode, 200);
    assertActive(await introspect(b, alice.access_token, 'rs'), 'before');

    const done = await confirmAction(admin.browser, `/admin/users/${alice.sub}`, `/admin/users/${alice.sub}/disable`);
    assert.equal(done.statusCode, 303, done.body);

    assert.ok(await until(async () => (await b.app.inject({ url: '/api/auth/session', headers: { cookie: alice.cookie } })).statusCode === 401), 'B refuses the session');
    assert.ok(await until(async () => (await introspect(b, alice.access_token, 'rs')).body === '{"active":false}'), 'B: the access token is inactive');
    const refreshed = await refresh(b, 'mobile', alice.refresh_token);
    assert.equal(refreshed.statusCode, 400, refreshed.body);
    assert.equal(refreshed.json().error, 'invalid_grant');
    // The console page on B shows her disabled too.
    const adminOnB = await signedInBrowser(b, 'admin-b@example.com');
    assert.match((await adminOnB.browser.get(`/admin/users/${alice.sub}`)).body, /data-status="disabled"/);
  });
});
