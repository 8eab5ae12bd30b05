/**
 * The ephemeral store: short-lived, TTL-bound state that every instance must share —
 * rate-limit counters, one-time values, replay caches, session cache entries — and the
 * pub/sub channel that fans revocations out to every instance.
 *
 * Two implementations: in-process (`memory.ts`, the embedded default) and Redis (`redis.ts`).
 * Both pass the same contract suite (`test/contract/ephemeral.test.ts`).
 *
 * Keys are plain strings chosen by the caller (e.g. `rl:login:ip:203.0.113.0`); the Redis
 * implementation adds the configured prefix, callers never do.
 */
export interface EphemeralStore {
  /** Which backend this is, for `/readyz` and `doctor` (`memory` or `redis`). */
  readonly kind: 'memory' | 'redis';

  /** Stores `value` under `key` for `ttlMs` milliseconds, replacing any previous value. */
  set(key: string, value: string, ttlMs: number): Promise<void>;

  /**
   * Stores `value` only if `key` holds nothing; true when this call stored it.
   * Atomic across instances (replay caches: the first `jti` wins).
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;

  /** The value under `key`, or null when absent or expired. */
  get(key: string): Promise<string | null>;

  /**
   * Atomic get-and-delete: returns the value and removes it in one step, so that of many
   * concurrent callers exactly one receives the value (single-use artifacts).
   */
  consume(key: string): Promise<string | null>;

  /** Removes `key`; absent keys are fine. */
  delete(key: string): Promise<void>;

  /**
   * Adds one to the counter under `key` in a fixed window of `windowMs` that starts at the
   * first increment. Returns the count after this increment and the milliseconds until the
   * window resets. Atomic: N concurrent increments yield counts 1..N.
   */
  increment(key: string, windowMs: number): Promise<CounterState>;

  /** The counter under `key` without changing it (count 0 when absent). */
  peekCounter(key: string): Promise<CounterState>;

  /** Publishes `message` to every subscriber of `channel` on every instance. */
  publish(channel: string, message: string): Promise<void>;

  /**
   * Calls `handler` for every message published on `channel` from now on (by any instance,
   * including this one). Resolves once the subscription is active; returns an unsubscribe.
   */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;

  /** Resolves when the backend answers; rejects with a short reason otherwise. */
  ping(): Promise<void>;

  /** Releases connections and timers. */
  close(): Promise<void>;
}

export interface CounterState {
  /** Count in the current window (0 when no window is open). */
  count: number;
  /** Milliseconds until the current window resets (0 when no window is open). */
  resetInMs: number;
}

/** Raised when the backend cannot be reached; callers fail closed (503). */
export class EphemeralUnavailableError extends Error {
  readonly code = 'EPHEMERAL_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EphemeralUnavailableError';
  }
}
