/**
 * Fixed-window rate limits on the shared ephemeral store (SEC-PWD-12, SEC-REL-09).
 *
 * Counters live in the ephemeral store, so every instance pointed at the same Redis shares one
 * budget: attempts spread over N nodes are limited to the configured limit, not N × limit.
 * Store errors propagate unchanged: callers fail closed (`EphemeralUnavailableError` → 503).
 */
import { apiError } from '../../errors/catalog.ts';
import type { ApiError } from '../../errors/catalog.ts';
import type { CounterState, EphemeralStore } from '../../storage/ephemeral/types.ts';
import { storeKey } from './store-key.ts';

/** One budget: at most `limit` attempts per fixed window of `windowMs`, per key. */
export interface RateLimitRule {
  /** Names the counter in the store (`rl:<name>:…`), e.g. `sign-in:ip`. */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Attempts counted in the current window. */
  count: number;
  /** Whole seconds until the window resets when not allowed (≥ 1); 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts this attempt; allowed while the count, including it, is at most `rule.limit`. */
  hit(rule: RateLimitRule, key: string): Promise<RateLimitDecision>;
  /**
   * Whether a `hit` now would be allowed, without counting anything (count < limit). For
   * budgets that count only failures: `peek` before the work, `hit` when it fails.
   */
  peek(rule: RateLimitRule, key: string): Promise<RateLimitDecision>;
  /** Forgets the counter for `key` under `rule`. */
  reset(rule: RateLimitRule, key: string): Promise<void>;
}

/** A limiter over `store`. Keys are hashed before they reach the store (no e-mails in clear). */
export function createRateLimiter(store: EphemeralStore): RateLimiter {
  const counterKey = (rule: RateLimitRule, key: string): string => storeKey(`rl:${rule.name}`, key);

  return {
    async hit(rule, key) {
      const state = await store.increment(counterKey(rule, key), rule.windowMs);
      return decide(state, state.count <= rule.limit);
    },

    async peek(rule, key) {
      const state = await store.peekCounter(counterKey(rule, key));
      return decide(state, state.count < rule.limit);
    },

    async reset(rule, key) {
      await store.delete(counterKey(rule, key));
    },
  };
}

function decide(state: CounterState, allowed: boolean): RateLimitDecision {
  return {
    allowed,
    count: state.count,
    retryAfterSeconds: allowed ? 0 : wholeSeconds(state.resetInMs),
  };
}

/**
 * The 429 for a refused attempt: a generic body that names neither the rule nor the key
 * (SEC-PWD-12) but says how long to wait, in the text and in `Retry-After` (whole seconds, at
 * least 1; RFC 9110 §10.2.3), so a locked-out owner knows when to come back (SEC-PWD-14).
 */
export function tooManyRequests(decision: RateLimitDecision): ApiError {
  const seconds = wholeSeconds(decision.retryAfterSeconds * 1000);
  return apiError('too_many_requests', `Too many attempts. Try again in ${waitText(seconds)}.`, {
    headers: { 'retry-after': String(seconds) },
  });
}

/** "45 seconds" under a minute, else whole minutes rounded up ("1 minute", "15 minutes"). */
export function waitText(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** Milliseconds → whole seconds, rounded up, at least 1 (also for 0, NaN, or negative input). */
export function wholeSeconds(milliseconds: number): number {
  const seconds = Math.ceil(milliseconds / 1000);
  return Number.isFinite(seconds) && seconds >= 1 ? seconds : 1;
}
