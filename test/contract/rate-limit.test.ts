/**
 * Rate limiter and account lockout, run against every ephemeral backend: in-process memory and
 * Redis. The Redis runs use two stores (two connections) with one prefix, as two Gatehouse
 * instances behind a load balancer would: counts are shared, so N instances never get N × the
 * budget (SEC-REL-09). Redis cases are skipped with a printed reason on a laptop without Redis
 * and fail in CI (see test/support/backends.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLockout } from '../../src/features/rate-limit/lockout.ts';
import type { LockoutPolicy } from '../../src/features/rate-limit/lockout.ts';
import { createRateLimiter, tooManyRequests } from '../../src/features/rate-limit/limiter.ts';
import type { RateLimitRule } from '../../src/features/rate-limit/limiter.ts';
import { createMemoryStore } from '../../src/storage/ephemeral/memory.ts';
import { createRedisStore } from '../../src/storage/ephemeral/redis.ts';
import { EphemeralUnavailableError } from '../../src/storage/ephemeral/types.ts';
import type { EphemeralStore } from '../../src/storage/ephemeral/types.ts';
import { probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';

const CONCURRENCY = 50;

interface Target {
  /** A fresh store. */
  open(): Promise<EphemeralStore>;
  /** Another instance sharing state with `open()`'s store (memory: the same store). */
  openPeer?: () => Promise<EphemeralStore>;
}

function rateLimitContract(target: Target): void {
  let store: EphemeralStore;
  let peer: EphemeralStore;

  before(async () => {
    store = await target.open();
    peer = target.openPeer ? await target.openPeer() : store;
  });

  after(async () => {
    await Promise.all([...new Set([store, peer])].map((each) => each.close()));
  });

  /** Half of the calls go to each instance, so races are also across instances. */
  const either = <T>(pair: readonly [T, T], index: number): T => pair[index % 2] as T;

  describe('rate limiter', () => {
    it('allows `limit` hits per window, then refuses with a Retry-After within the window', async () => {
      const limiter = createRateLimiter(store);
      const rule = freshRule({ limit: 3, windowMs: 60_000 });
      for (let count = 1; count <= 3; count += 1) {
        assert.deepEqual(await limiter.hit(rule, '203.0.113.7'), { allowed: true, count, retryAfterSeconds: 0 });
      }
      const refused = await limiter.hit(rule, '203.0.113.7');
      assert.equal(refused.allowed, false);
      assert.equal(refused.count, 4);
      assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60, String(refused.retryAfterSeconds));
      const error = tooManyRequests(refused);
      assert.equal(error.status, 429);
      assert.equal(error.headers['retry-after'], String(refused.retryAfterSeconds));
    });

    it(`lets exactly 10 of ${CONCURRENCY} concurrent hits through with limit 10`, async () => {
      const limiters = [createRateLimiter(store), createRateLimiter(peer)] as const;
      const rule = freshRule({ limit: 10, windowMs: 60_000 });
      const decisions = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, index) => either(limiters, index).hit(rule, 'one-client')),
      );
      assert.equal(decisions.filter((decision) => decision.allowed).length, 10);
      assert.deepEqual(
        decisions.map((decision) => decision.count).sort((a, b) => a - b),
        Array.from({ length: CONCURRENCY }, (_, index) => index + 1),
      );
    });

    it('shares counts between two limiter instances on one store (SEC-REL-09)', async () => {
      const first = createRateLimiter(store);
      const second = createRateLimiter(peer);
      const rule = freshRule({ limit: 4, windowMs: 60_000 });
      const allowed: boolean[] = [];
      for (let attempt = 0; attempt < 10; attempt += 1) {
        // Round-robin, as a load balancer would spread one attacker's requests.
        allowed.push((await (attempt % 2 === 0 ? first : second).hit(rule, 'alice@example.com')).allowed);
      }
      assert.deepEqual(allowed, [true, true, true, true, false, false, false, false, false, false]);
      assert.equal((await second.peek(rule, 'alice@example.com')).count, 10);
    });

    it('peeks without counting: allowed while a hit would be', async () => {
      const limiter = createRateLimiter(store);
      const rule = freshRule({ limit: 2, windowMs: 60_000 });
      assert.deepEqual(await limiter.peek(rule, 'k'), { allowed: true, count: 0, retryAfterSeconds: 0 });
      await limiter.hit(rule, 'k');
      assert.deepEqual(await limiter.peek(rule, 'k'), { allowed: true, count: 1, retryAfterSeconds: 0 });
      await limiter.hit(rule, 'k');
      const full = await limiter.peek(rule, 'k');
      assert.equal(full.allowed, false);
      assert.equal(full.count, 2);
      assert.ok(full.retryAfterSeconds >= 1);
      assert.equal((await limiter.peek(rule, 'k')).count, 2, 'peeking counted nothing');
    });

    it('keeps keys and rules apart, and reset forgets one counter', async () => {
      const limiter = createRateLimiter(store);
      const rule = freshRule({ limit: 1, windowMs: 60_000 });
      const other = freshRule({ limit: 1, windowMs: 60_000 });
      assert.equal((await limiter.hit(rule, 'a')).allowed, true);
      assert.equal((await limiter.hit(rule, 'a')).allowed, false);
      assert.equal((await limiter.hit(rule, 'b')).allowed, true);
      assert.equal((await limiter.hit(other, 'a')).allowed, true);
      await createRateLimiter(peer).reset(rule, 'a');
      assert.equal((await limiter.hit(rule, 'a')).allowed, true);
      assert.equal((await limiter.hit(rule, 'b')).allowed, false);
    });

    it('opens a new window once the old one has ended', async () => {
      const limiter = createRateLimiter(store);
      const rule = freshRule({ limit: 1, windowMs: 100 });
      await limiter.hit(rule, 'k');
      assert.equal((await limiter.hit(rule, 'k')).allowed, false);
      await sleep(250);
      assert.deepEqual(await limiter.hit(rule, 'k'), { allowed: true, count: 1, retryAfterSeconds: 0 });
    });
  });

  describe('account lockout', () => {
    const policy: LockoutPolicy = { threshold: 5, baseDelayMs: 150, maxDelayMs: 300, windowMs: 60_000 };

    it(`lets exactly 5 of ${CONCURRENCY} concurrent attempts through, across instances`, async () => {
      const lockouts = [createLockout(store, policy), createLockout(peer, policy)] as const;
      const account = freshAccount();
      const gates = await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) => either(lockouts, index).begin(account)));
      assert.equal(gates.filter((gate) => gate.allowed).length, 5);
    });

    it('locks on every instance, and lifts the lock when it expires', async () => {
      const first = createLockout(store, policy);
      const second = createLockout(peer, policy);
      const account = freshAccount();
      for (let attempt = 0; attempt < 5; attempt += 1) {
        assert.equal((await (attempt % 2 === 0 ? first : second).begin(account)).allowed, true);
      }
      const refused = await first.begin(account);
      assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 1, engaged: true });
      assert.equal((await second.begin(account)).allowed, false, 'the other instance sees the lock');
      await sleep(300);
      assert.deepEqual(await second.begin(account), { allowed: true });
    });

    it('after success counts afresh; after clear unlocks at once', async () => {
      const lockout = createLockout(store, policy);
      const account = freshAccount();
      for (let attempt = 0; attempt < 4; attempt += 1) await lockout.begin(account);
      await createLockout(peer, policy).succeeded(account);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        assert.equal((await lockout.begin(account)).allowed, true, `attempt ${attempt + 1} after the success`);
      }
      assert.equal((await lockout.begin(account)).allowed, false);
      await createLockout(peer, policy).clear(account);
      assert.deepEqual(await lockout.begin(account), { allowed: true });
    });
  });

  it('rejects with EphemeralUnavailableError once the store is gone (callers fail closed)', async () => {
    const closed = await target.open();
    await closed.close();
    await assert.rejects(createRateLimiter(closed).hit(freshRule({ limit: 5, windowMs: 60_000 }), 'k'), EphemeralUnavailableError);
    await assert.rejects(createLockout(closed, policyForErrors).begin('alice@example.com'), EphemeralUnavailableError);
  });
}

const policyForErrors: LockoutPolicy = { threshold: 5, baseDelayMs: 30_000, maxDelayMs: 900_000, windowMs: 900_000 };

function freshRule(budget: { limit: number; windowMs: number }): RateLimitRule {
  return { name: `test-${randomUUID()}`, ...budget };
}

function freshAccount(): string {
  return `user-${randomUUID()}@example.com`;
}

describe('memory store', () => {
  rateLimitContract({ open: async () => createMemoryStore() });
});

const redis = await probeRedis();

describe('Redis store', { skip: skipUnless(redis) }, () => {
  const prefix = testRedisPrefix();

  after(async () => {
    const raw = new Redis(redisUrl());
    try {
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(...keys);
    } finally {
      raw.disconnect();
    }
  });

  describe('two instances sharing one Redis', () => {
    // Two separate connections with one prefix: two Gatehouse instances.
    rateLimitContract({
      open: () => createRedisStore({ url: redisUrl(), prefix }),
      openPeer: () => createRedisStore({ url: redisUrl(), prefix }),
    });
  });

  it('keeps e-mail addresses and client addresses out of Redis (hashed keys)', async () => {
    const keyPrefix = testRedisPrefix();
    const store = await createRedisStore({ url: redisUrl(), prefix: keyPrefix });
    const raw = new Redis(redisUrl());
    try {
      await createRateLimiter(store).hit({ name: 'sign-in:ip', limit: 5, windowMs: 60_000 }, '203.0.113.7');
      const lockout = createLockout(store, { threshold: 1, baseDelayMs: 60_000, maxDelayMs: 60_000, windowMs: 60_000 });
      await lockout.begin('alice@example.com');
      await lockout.begin('alice@example.com');
      const keys = (await raw.keys(`${keyPrefix}*`)).map((key) => key.slice(keyPrefix.length)).sort();
      assert.equal(keys.length, 3, keys.join(' '));
      for (const key of keys) {
        assert.match(key, /^(rl:sign-in:ip|lockout:lock|lockout:history):[A-Za-z0-9_-]{22}$/);
        assert.ok(!key.includes('alice') && !key.includes('203.0.113'), key);
      }
      await raw.del(...keys.map((key) => keyPrefix + key));
    } finally {
      raw.disconnect();
      await store.close();
    }
  });
});
