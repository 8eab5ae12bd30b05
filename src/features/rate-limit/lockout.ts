/**
 * Progressive, temporary account lockout for password sign-in (SEC-PWD-11, SEC-PWD-14).
 *
 * After `threshold` attempts within `windowMs`, the account is locked for `baseDelayMs`; each
 * further lockout in the same 24 h (counted from the first) doubles the delay, up to
 * `maxDelayMs`. Locks always expire — an attacker can slow `alice` down but never lock her out
 * for good — and a password reset clears everything (`clear`). The account key is chosen by the
 * caller (the normalised e-mail), so unknown accounts lock exactly like real ones: the lockout
 * reveals nothing about existence.
 *
 * Race-safe on a shared store: the attempt is reserved with an atomic increment before the
 * password is checked, so N parallel attempts on one account (from any number of instances)
 * get at most `threshold` through.
 */
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import { wholeSeconds } from './limiter.ts';
import { storeKey } from './store-key.ts';

/**
 * Recommended defaults: `threshold` 5, `baseDelayMs` 30 000, `maxDelayMs` 900 000, `windowMs`
 * 900 000. Against an attacker who retries the instant a lock ends, that allows 40 attempts in
 * the first hour (bursts of 5 after locks of 30 s, 1, 2, 4, 8 min, then 15 min each) and 20 per
 * hour from then on — under the 100 failures per account per hour of SEC-PWD-11 (figure checked
 * by `lockout.test.ts`), while the longest wait a real user can face is 15 minutes.
 */
export interface LockoutPolicy {
  /** Attempts allowed before a lock; the next one locks. */
  threshold: number;
  /** Duration of the first lock in a 24 h history window; doubled for each further one. */
  baseDelayMs: number;
  /** Cap on the lock duration; locks are never permanent. */
  maxDelayMs: number;
  /** Fixed window in which `threshold` attempts lead to a lock. */
  windowMs: number;
}

export type LockoutGate = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface Lockout {
  /** Call BEFORE verifying the password. Reserves one attempt atomically. */
  begin(accountKey: string): Promise<LockoutGate>;
  /** Call after a successful verification: clears the attempt counter (not the lockout history). */
  succeeded(accountKey: string): Promise<void>;
  /** Clears everything for the account (after a password reset proves possession). */
  clear(accountKey: string): Promise<void>;
}

/** Lockouts within this window escalate the delay; afterwards the next one starts at the base. */
const HISTORY_WINDOW_MS = 24 * 60 * 60 * 1000;

export function createLockout(store: EphemeralStore, policy: LockoutPolicy, now: () => number = Date.now): Lockout {
  checkPolicy(policy);
  const keys = (accountKey: string) => ({
    // Value: the epoch-ms the lock ends; the store's TTL makes it expire at the same moment.
    lock: storeKey('lockout:lock', accountKey),
    attempts: storeKey('lockout:attempts', accountKey),
    history: storeKey('lockout:history', accountKey),
  });

  /** The gate while `lock` holds `value` (null: the lock is not yet or no longer visible). */
  function locked(value: string | null, fallbackMs: number): LockoutGate {
    const remaining = value === null ? fallbackMs : Number(value) - now();
    // A present lock whose time looks past (clock skew between instances) still refuses.
    return { allowed: false, retryAfterSeconds: wholeSeconds(remaining) };
  }

  return {
    async begin(accountKey) {
      const key = keys(accountKey);
      // (1) While locked, attempts are refused without being counted.
      const lock = await store.get(key.lock);
      if (lock !== null) return locked(lock, policy.baseDelayMs);

      // (2) Reserve this attempt: concurrent callers get distinct counts 1..N.
      const { count } = await store.increment(key.attempts, policy.windowMs);

      if (count <= policy.threshold) {
        // A caller that passed (1) just before another one locked, and counted after that one
        // reset the counter, must still be refused: the lock is set before the reset, so it
        // is visible here.
        const lockedMeanwhile = await store.get(key.lock);
        if (lockedMeanwhile !== null) return locked(lockedMeanwhile, policy.baseDelayMs);
        return { allowed: true };
      }

      // (3) Over the threshold. Exactly one caller sees threshold + 1 and escalates, so N
      // concurrent attempts escalate the history once, not N − threshold times. Should that
      // caller fail midway (store error), the counter stays above the threshold and every
      // attempt is refused until its window ends: fail closed.
      if (count !== policy.threshold + 1) {
        // Its lock may not be set yet; the base delay is a lower bound of what it will be.
        return locked(await store.get(key.lock), policy.baseDelayMs);
      }
      const lockouts = (await store.increment(key.history, HISTORY_WINDOW_MS)).count;
      const delayMs = Math.min(policy.baseDelayMs * 2 ** (lockouts - 1), policy.maxDelayMs);
      const until = now() + delayMs;
      const set = await store.setIfAbsent(key.lock, String(until), delayMs);
      const current = set ? String(until) : await store.get(key.lock);
      // After the lock: a fresh `threshold` attempts.
      await store.delete(key.attempts);
      return locked(current, delayMs);
    },

    async succeeded(accountKey) {
      await store.delete(keys(accountKey).attempts);
    },

    async clear(accountKey) {
      const key = keys(accountKey);
      await Promise.all([store.delete(key.attempts), store.delete(key.lock), store.delete(key.history)]);
    },
  };
}

function checkPolicy(policy: LockoutPolicy): void {
  const { threshold, baseDelayMs, maxDelayMs, windowMs } = policy;
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new RangeError(`lockout threshold must be a positive integer, got ${threshold}`);
  }
  for (const [name, value] of Object.entries({ baseDelayMs, maxDelayMs, windowMs })) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`lockout ${name} must be a positive number of milliseconds, got ${value}`);
    }
  }
  if (maxDelayMs < baseDelayMs) {
    throw new RangeError(`lockout maxDelayMs (${maxDelayMs}) is below baseDelayMs (${baseDelayMs})`);
  }
}
