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
 * Trusted devices (OWASP "device cookie" design, SEC-PWD-14): a caller that presents a device
 * already verified for this account passes its nonce as `device`. That attempt is counted in a
 * budget of its own, keyed by the nonce, with the same policy — and is not affected by the
 * account's lock, which only holds for untrusted devices. An attacker without the owner's
 * browser therefore locks out only other untrusted devices; a trusted device that keeps failing
 * locks out only itself.
 *
 * Race-safe on a shared store: the attempt is reserved with an atomic increment before the
 * password is checked, so N parallel attempts on one budget (from any number of instances)
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

/**
 * `engaged` is true for the one refusal that set the lock (exactly one per lock, whatever the
 * concurrency): the moment to tell the owner.
 */
export type LockoutGate = { allowed: true } | { allowed: false; retryAfterSeconds: number; engaged: boolean };

export interface Lockout {
  /**
   * Call BEFORE verifying the password. Reserves one attempt atomically — in the budget of
   * `device` (the nonce of a device cookie verified for this account) when given, else in the
   * account's budget for untrusted devices.
   */
  begin(accountKey: string, device?: string): Promise<LockoutGate>;
  /** Call after a successful verification: clears that budget's attempts (not its lockout history). */
  succeeded(accountKey: string, device?: string): Promise<void>;
  /** Clears everything for the account's untrusted devices (after a password reset proves possession). */
  clear(accountKey: string): Promise<void>;
}

/** Lockouts within this window escalate the delay; afterwards the next one starts at the base. */
/**
 * SEC-PWD-11: at most 100 failed password checks per account per hour, across every budget
 * (sign-in on untrusted devices, each trusted device, change-password per session) — checked
 * with the rate limiter (`peek` before the check, `hit` on a failure). An attacker who holds none
 * of the owner's devices or sessions gets at most ~40 an hour from the lockout, so this ceiling
 * cannot be used to lock the owner out.
 */
export const ACCOUNT_FAILURES = { name: 'password-failures:account', limit: 100, windowMs: 3_600_000 } as const;

export const LOCKOUT_HISTORY_WINDOW_MS = 24 * 60 * 60 * 1000;

export function createLockout(store: EphemeralStore, policy: LockoutPolicy, now: () => number = Date.now): Lockout {
  checkPolicy(policy);
  // One budget = three keys. Untrusted devices share the account's; each trusted device has its
  // own, in separate namespaces so that no account key can ever name a device budget.
  const keys = (accountKey: string, device?: string): BudgetKeys => (device === undefined
    ? {
      // Value: the epoch-ms the lock ends; the store's TTL makes it expire at the same moment.
      lock: storeKey('lockout:lock', accountKey),
      attempts: storeKey('lockout:attempts', accountKey),
      history: storeKey('lockout:history', accountKey),
    }
    : {
      lock: storeKey('lockout:device-lock', device),
      attempts: storeKey('lockout:device-attempts', device),
      history: storeKey('lockout:device-history', device),
    });

  /** The gate while `lock` holds `value` (null: the lock is not yet or no longer visible). */
  function locked(value: string | null, fallbackMs: number, engaged = false): LockoutGate {
    const remaining = value === null ? fallbackMs : Number(value) - now();
    // A present lock whose time looks past (clock skew between instances) still refuses.
    return { allowed: false, retryAfterSeconds: wholeSeconds(remaining), engaged };
  }

  return {
    async begin(accountKey, device) {
      const key = keys(accountKey, device);
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
      const lockouts = (await store.increment(key.history, LOCKOUT_HISTORY_WINDOW_MS)).count;
      const delayMs = Math.min(policy.baseDelayMs * 2 ** (lockouts - 1), policy.maxDelayMs);
      const until = now() + delayMs;
      const set = await store.setIfAbsent(key.lock, String(until), delayMs);
      const current = set ? String(until) : await store.get(key.lock);
      // After the lock: a fresh `threshold` attempts.
      await store.delete(key.attempts);
      return locked(current, delayMs, set);
    },

    async succeeded(accountKey, device) {
      // A trusted device's success leaves the untrusted budget alone: clearing it would hand
      // whoever is attacking the account a fresh set of guesses each time the owner signs in.
      await store.delete(keys(accountKey, device).attempts);
    },

    async clear(accountKey) {
      const key = keys(accountKey);
      await Promise.all([store.delete(key.attempts), store.delete(key.lock), store.delete(key.history)]);
    },
  };
}

interface BudgetKeys {
  lock: string;
  attempts: string;
  history: string;
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
