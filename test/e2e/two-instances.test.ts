/**
 * Two real Gatehouse processes sharing PostgreSQL and Redis (SEC-REL-08, -09, -10): a session
 * from one is valid on the other, a revocation on one is refused by the other within 1 s, and
 * rate-limit counts are shared. Required in CI; skipped with a reason on a laptop without them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';

const postgres = await probePostgres();
const redis = await probeRedis();
const skip = skipUnless(postgres) || skipUnless(redis);

async function post(base: string, path: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

describe('two instances on PostgreSQL + Redis', { skip }, () => {
  let a: SpawnedServer;
  let b: SpawnedServer;
  let drop: () => Promise<void>;
  let dir: string;

  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    dir = mkdtempSync(join(tmpdir(), 'gh-two-'));
    const env = {
      GATEHOUSE_DATABASE_URL: scratch.url,
      GATEHOUSE_REDIS_URL: redisUrl(),
      GATEHOUSE_REDIS_PREFIX: testRedisPrefix(),
      GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
      GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '20',
      GATEHOUSE_SESSION_CACHE_SECONDS: '300',
    };
    a = await spawnServer({ cwd: dir, env });
    b = await spawnServer({ cwd: dir, env });
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signedIn(email: string): Promise<string> {
    assert.equal((await post(a.url, '/api/auth/sign-up', { email, password: 'shared cluster passphrase' })).status, 202);
    const response = await post(a.url, '/api/auth/sign-in', { email, password: 'shared cluster passphrase' });
    assert.equal(response.status, 200);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-gatehouse='));
    assert.ok(cookie);
    return cookie.split(';')[0]!;
  }

  it('SEC-REL-10: a session created on A is valid on B', async () => {
    const cookie = await signedIn('cluster1@example.com');
    const onB = await fetch(`${b.url}/api/auth/session`, { headers: { cookie } });
    assert.equal(onB.status, 200);
    assert.equal(((await onB.json()) as { user: { email: string } }).user.email, 'cluster1@example.com');
  });

  it('SEC-REL-08: signed out on A, refused by B within 1 s despite B’s 300 s cache', async () => {
    const cookie = await signedIn('cluster2@example.com');
    assert.equal((await fetch(`${b.url}/api/auth/session`, { headers: { cookie } })).status, 200, 'B has it cached now');
    assert.equal((await post(a.url, '/api/auth/sign-out', {}, cookie)).status, 204);
    const started = Date.now();
    let status = 200;
    // A ceiling, not a speed expectation: the bound is 1 s, B's cache holds it for 300 s.
    while (Date.now() - started < 30_000) {
      status = (await fetch(`${b.url}/api/auth/session`, { headers: { cookie } })).status;
      if (status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(status, 401, 'B refused the revoked session (pub/sub) long before its 300 s cache would');
  });

  it('SEC-REL-09: rate-limit counts are shared: alternating instances cannot double the budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) {
      const target = i % 2 === 0 ? a : b;
      statuses.push((await post(target.url, '/api/auth/sign-in', { email: `nobody${i}@example.com`, password: 'a wrong passphrase' })).status);
    }
    // The two sign-ins of the tests above used 2 of the 20 attempts this address has in the
    // window; per-instance counting would allow 20 on each.
    const allowed = statuses.filter((status) => status === 401).length;
    assert.equal(allowed, 18, statuses.join(','));
    assert.ok(statuses.slice(18).every((status) => status === 429));
  });
});
