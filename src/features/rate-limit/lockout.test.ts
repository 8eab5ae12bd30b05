/**
 * Account lockout against the in-process store with a frozen clock (style §8): the properties
 * SEC-PWD-11 and SEC-PWD-14 ask for, without waiting in real time. The same behaviour against
 * Redis, and across instances, is in test/contract/rate-limit.test.ts.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryStore } from '../../storage/ephemeral/memory.ts';
import { EphemeralUnavailableError } from '../../storage/ephemeral/types.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import { createLockout } from './lockout.ts';
import type { LockoutGate, LockoutPolicy } from './lockout.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The recommended defaults (documented on `LockoutPolicy`). */
const DEFAULTS: LockoutPolicy = { threshold: 5, baseDelayMs: 30 * SECOND, maxDelayMs: 15 * MINUTE, windowMs: 15 * MINUTE };
const ALICE = 'alice@example.com';

const stores: EphemeralStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

/** A memory store and a lockout sharing one frozen clock. */
function setup(policy: LockoutPolicy = DEFAULTS, wrap: (store: EphemeralStore) => EphemeralStore = (store) => store) {
  const clock = { now: 1_700_000_000_000 };
  const store = wrap(createMemoryStore({ now: () => clock.now }));
  stores.push(store);
  const lockout = createLockout(store, policy, () => clock.now);
  return { clock, store, lockout };
}

function allowedCount(gates: readonly LockoutGate[]): number {
  return gates.filter((gate) => gate.allowed).length;
}

function retryAfter(gate: LockoutGate): number {
  assert.equal(gate.allowed, false, 'expected a refusal');
  return gate.allowed ? 0 : gate.retryAfterSeconds;
}

/** Uses up the threshold and returns the refusal that locks the account. */
async function lockNow(lockout: ReturnType<typeof createLockout>, policy: LockoutPolicy = DEFAULTS): Promise<LockoutGate> {
  for (let attempt = 1; attempt <= policy.threshold; attempt += 1) {
    assert.deepEqual(await lockout.begin(ALICE), { allowed: true }, `attempt ${attempt} is within the threshold`);
  }
  return lockout.begin(ALICE);
}

describe('account lockout', () => {
  it('lets exactly `threshold` of 50 concurrent attempts through', async () => {
    const { lockout } = setup();
    const gates = await Promise.all(Array.from({ length: 50 }, () => lockout.begin(ALICE)));
    assert.equal(allowedCount(gates), 5);
    for (const gate of gates) {
      if (!gate.allowed) assert.ok(gate.retryAfterSeconds >= 1 && gate.retryAfterSeconds <= 30, String(gate.retryAfterSeconds));
    }
  });

  it('escalates once per lock, however many concurrent attempts overshoot the threshold', async () => {
    const { clock, lockout } = setup();
    await Promise.all(Array.from({ length: 50 }, () => lockout.begin(ALICE)));
    clock.now += 30 * SECOND;
    assert.equal(retryAfter(await lockNow(lockout)), 60, 'second lock: twice the base, not the maximum');
  });

  it('refuses during the lock, even attempts that would carry the right password, and allows again after it', async () => {
    const { clock, lockout } = setup();
    assert.equal(retryAfter(await lockNow(lockout)), 30);
    clock.now += 10 * SECOND;
    assert.equal(retryAfter(await lockout.begin(ALICE)), 20);
    clock.now += 20 * SECOND - 1;
    assert.equal(retryAfter(await lockout.begin(ALICE)), 1);
    clock.now += 1;
    assert.deepEqual(await lockout.begin(ALICE), { allowed: true });
  });

  it('does not count refused attempts: a full threshold is available after each lock', async () => {
    const { clock, lockout } = setup();
    await lockNow(lockout);
    for (let poll = 0; poll < 100; poll += 1) await lockout.begin(ALICE);
    clock.now += 30 * SECOND;
    assert.equal(retryAfter(await lockNow(lockout)), 60);
  });

  it('doubles the delay with each lockout, up to the maximum, and always lifts it', async () => {
    const { clock, lockout } = setup();
    const delays: number[] = [];
    for (let lock = 0; lock < 8; lock += 1) {
      const seconds = retryAfter(await lockNow(lockout));
      delays.push(seconds);
      clock.now += seconds * SECOND - 1;
      assert.equal((await lockout.begin(ALICE)).allowed, false, 'still locked 1 ms before the end');
      clock.now += 1;
    }
    assert.deepEqual(delays, [30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it('starts again at the base delay once the 24 h lockout history has passed', async () => {
    const { clock, lockout } = setup();
    await lockNow(lockout);
    clock.now += 30 * SECOND;
    assert.equal(retryAfter(await lockNow(lockout)), 60);
    clock.now += 24 * HOUR;
    assert.equal(retryAfter(await lockNow(lockout)), 30);
  });

  it('forgets failed attempts after a success, but keeps the lockout history', async () => {
    const { clock, lockout } = setup();
    await lockNow(lockout);
    clock.now += 30 * SECOND;
    for (let attempt = 0; attempt < 4; attempt += 1) await lockout.begin(ALICE);
    assert.deepEqual(await lockout.begin(ALICE), { allowed: true });
    await lockout.succeeded(ALICE);
    assert.equal(retryAfter(await lockNow(lockout)), 60, 'a full threshold again; the next lock still escalates');
  });

  it('forgets the attempts once their window has passed', async () => {
    const { clock, lockout } = setup();
    for (let attempt = 0; attempt < 5; attempt += 1) await lockout.begin(ALICE);
    clock.now += 15 * MINUTE;
    assert.equal(retryAfter(await lockNow(lockout)), 30);
  });

  it('clears the lock and the history after a password reset', async () => {
    const { clock, lockout } = setup();
    await lockNow(lockout);
    clock.now += 30 * SECOND;
    await lockNow(lockout);
    await lockout.clear(ALICE);
    assert.equal(retryAfter(await lockNow(lockout)), 30, 'unlocked at once, and back to the base delay');
  });

  it('locks each account separately (attacking bob leaves alice alone)', async () => {
    const { lockout } = setup();
    for (let attempt = 0; attempt < 20; attempt += 1) await lockout.begin('bob@example.com');
    assert.deepEqual(await lockout.begin(ALICE), { allowed: true });
    assert.equal((await lockout.begin('bob@example.com')).allowed, false);
  });

  it('refuses a caller that passed the lock check just before another one locked the account', async () => {
    // The slow caller reads "no lock", then stalls until the lock is set and the attempt
    // counter reset; its increment then starts a fresh count that alone would allow it.
    let stallNextGet: Promise<void> | undefined;
    let release = (): void => {};
    const { lockout } = setup(DEFAULTS, (inner) => ({
      ...inner,
      async get(key) {
        const value = await inner.get(key);
        const stall = stallNextGet;
        stallNextGet = undefined;
        if (stall !== undefined) await stall;
        return value;
      },
    }));
    stallNextGet = new Promise((resolve) => (release = resolve));
    const slow = lockout.begin(ALICE);
    const others: LockoutGate[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) others.push(await lockout.begin(ALICE));
    assert.equal(allowedCount(others), 5);
    release();
    assert.equal((await slow).allowed, false);
  });

  it('keeps account identifiers out of the store (hashed keys)', async () => {
    const keys = new Set<string>();
    const { lockout } = setup(DEFAULTS, (inner) => {
      const record = <A extends unknown[], R>(method: (key: string, ...rest: A) => Promise<R>) =>
        (key: string, ...rest: A): Promise<R> => {
          keys.add(key);
          return method(key, ...rest);
        };
      return {
        ...inner,
        get: record(inner.get),
        set: record(inner.set),
        setIfAbsent: record(inner.setIfAbsent),
        increment: record(inner.increment),
        delete: record(inner.delete),
      };
    });
    await lockNow(lockout);
    await lockout.clear(ALICE);
    for (let attempt = 0; attempt < 6; attempt += 1) await lockout.begin(ALICE, 'alice-device-nonce');
    assert.ok(keys.size >= 6);
    for (const key of keys) {
      assert.ok(!key.toLowerCase().includes('alice'), key);
      assert.match(key, /^lockout:(device-)?(lock|attempts|history):[A-Za-z0-9_-]{22}$/);
    }
  });

  it('lets store failures through, so that sign-in fails closed', async () => {
    const { lockout } = setup(DEFAULTS, (inner) => ({
      ...inner,
      async increment() {
        throw new EphemeralUnavailableError('Redis INCR failed: not connected (reconnecting)');
      },
    }));
    await assert.rejects(lockout.begin(ALICE), EphemeralUnavailableError);
  });

  it('rejects a policy that could not work', () => {
    const store = createMemoryStore();
    stores.push(store);
    for (const policy of [
      { ...DEFAULTS, threshold: 0 },
      { ...DEFAULTS, threshold: 2.5 },
      { ...DEFAULTS, baseDelayMs: 0 },
      { ...DEFAULTS, windowMs: Number.NaN },
      { ...DEFAULTS, maxDelayMs: DEFAULTS.baseDelayMs - 1 },
    ]) {
      assert.throws(() => createLockout(store, policy), RangeError, JSON.stringify(policy));
    }
  });

  describe('trusted devices (SEC-PWD-14: the lockout cannot be used to keep the owner out)', () => {
    const OWNER_DEVICE = 'owner-device-nonce';

    it('lets a trusted device in while the account is locked for untrusted devices', async () => {
      const { lockout } = setup();
      assert.equal(retryAfter(await lockNow(lockout)), 30);
      assert.equal((await lockout.begin(ALICE)).allowed, false, 'untrusted devices are locked out');
      assert.deepEqual(await lockout.begin(ALICE, OWNER_DEVICE), { allowed: true });
    });

    it('gives each trusted device its own budget: its failures lock only itself, with the same backoff', async () => {
      const { clock, lockout } = setup();
      for (let attempt = 0; attempt < 5; attempt += 1) assert.deepEqual(await lockout.begin(ALICE, 'device-a'), { allowed: true });
      assert.equal(retryAfter(await lockout.begin(ALICE, 'device-a')), 30, 'the sixth attempt on device A locks device A');
      assert.deepEqual(await lockout.begin(ALICE, 'device-b'), { allowed: true }, 'device B is not affected');
      assert.deepEqual(await lockout.begin(ALICE), { allowed: true }, 'nor are untrusted devices');
      clock.now += 30 * SECOND;
      for (let attempt = 0; attempt < 5; attempt += 1) await lockout.begin(ALICE, 'device-a');
      assert.equal(retryAfter(await lockout.begin(ALICE, 'device-a')), 60, 'device A escalates like an account');
    });

    it('lets exactly `threshold` of 50 concurrent attempts on one trusted device through', async () => {
      const { lockout } = setup();
      const gates = await Promise.all(Array.from({ length: 50 }, () => lockout.begin(ALICE, OWNER_DEVICE)));
      assert.equal(allowedCount(gates), 5);
    });

    it('a trusted device\'s success does not hand the untrusted budget a fresh set of guesses', async () => {
      const { lockout } = setup();
      for (let attempt = 0; attempt < 4; attempt += 1) await lockout.begin(ALICE);
      await lockout.begin(ALICE, OWNER_DEVICE);
      await lockout.succeeded(ALICE, OWNER_DEVICE);
      assert.deepEqual(await lockout.begin(ALICE), { allowed: true }, 'the fifth untrusted attempt');
      assert.equal((await lockout.begin(ALICE)).allowed, false, 'the sixth locks, as without the owner\'s sign-in');
    });
  });

  it('marks exactly one refusal per lock as `engaged`, however many attempts overshoot at once', async () => {
    const { clock, lockout } = setup();
    const engaged = (gates: readonly LockoutGate[]) => gates.filter((gate) => !gate.allowed && gate.engaged).length;
    assert.equal(engaged(await Promise.all(Array.from({ length: 50 }, () => lockout.begin(ALICE)))), 1);
    assert.equal(engaged(await Promise.all(Array.from({ length: 10 }, () => lockout.begin(ALICE)))), 0, 'refusals during the lock are not new lockouts');
    clock.now += 30 * SECOND;
    assert.equal(engaged(await Promise.all(Array.from({ length: 10 }, () => lockout.begin(ALICE)))), 1, 'the next lock engages once again');
  });

  describe('with the recommended defaults, against an attacker who retries the moment a lock ends', () => {
    /** Timestamps of every allowed attempt over `hours` simulated hours. */
    async function attack(hours: number): Promise<{ start: number; allowed: number[]; longestRetry: number }> {
      const { clock, lockout } = setup();
      const start = clock.now;
      const allowed: number[] = [];
      let longestRetry = 0;
      while (clock.now < start + hours * HOUR) {
        const gate = await lockout.begin('victim@example.com');
        if (gate.allowed) {
          allowed.push(clock.now); // every allowed guess is wrong: the attacker never succeeds
        } else {
          longestRetry = Math.max(longestRetry, gate.retryAfterSeconds);
          // Polls every 100 ms through the last second, so it never misses the first instant.
          clock.now += Math.max(100, gate.retryAfterSeconds * SECOND - SECOND);
        }
      }
      return { start, allowed, longestRetry };
    }

    it('allows 40 attempts in the first hour and 20 in each later one (≤ 100, SEC-PWD-11)', async (t) => {
      const { start, allowed } = await attack(4);
      const perHour = [0, 1, 2, 3].map((hour) => allowed.filter((at) => at >= start + hour * HOUR && at < start + (hour + 1) * HOUR).length);
      t.diagnostic(`allowed attempts per simulated hour: ${perHour.join(', ')}`);
      assert.deepEqual(perHour, [40, 20, 20, 20]);
    });

    it('never allows more than 100 in any hour, across the 24 h history reset, and never locks for longer than the maximum', async (t) => {
      const { allowed, longestRetry } = await attack(26);
      let busiest = 0;
      let first = 0;
      for (let last = 0; last < allowed.length; last += 1) {
        while ((allowed[first] ?? 0) <= (allowed[last] ?? 0) - HOUR) first += 1;
        busiest = Math.max(busiest, last - first + 1);
      }
      t.diagnostic(`busiest hour of 26: ${busiest} allowed attempts; longest Retry-After ${longestRetry} s`);
      assert.ok(busiest <= 100, `busiest hour allowed ${busiest}`);
      assert.ok(longestRetry <= 900, `Retry-After ${longestRetry} s`);
      const gaps = allowed.slice(1).map((at, index) => at - (allowed[index] ?? at));
      assert.ok(Math.max(...gaps) <= 15 * MINUTE, 'the account becomes usable again within the maximum delay');
    });
  });
});
