import { availableParallelism } from 'node:os';

/** Runs async tasks with at most `limit` in flight; the rest wait in arrival order, within bounds. */
export interface ConcurrencyLimit {
  /** Rejects with `HashQueueOverloadedError` when the queue is full or the task waited too long. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks running now and tasks waiting (for tests and metrics). */
  readonly active: number;
  readonly waiting: number;
  /** Tasks refused since creation, by reason (for metrics). */
  readonly rejected: Readonly<Record<OverloadReason, number>>;
  /** Throws the `queue_full` refusal that `run` would throw now, else nothing (a check before costlier work). */
  checkCapacity(): void;
}

export interface QueueBounds {
  /** Most tasks that may wait; one more is refused at once. Default: no bound. */
  maxQueue?: number;
  /** Longest a task may wait for a slot, in ms; it then leaves the queue, refused, and never runs. Default: no bound. */
  maxWaitMs?: number;
}

export type OverloadReason = 'queue_full' | 'wait_timeout';

/**
 * Password hashing is over capacity. src/http/errors.ts answers it with 503
 * `temporarily_unavailable` and `Retry-After: retryAfterSeconds`, at once: shedding the excess
 * keeps the sign-ins that were admitted (and everything else on the event loop) fast instead of
 * letting every request wait behind an unbounded queue.
 */
export class HashQueueOverloadedError extends Error {
  readonly code = 'PASSWORD_HASH_OVERLOADED';
  readonly reason: OverloadReason;
  readonly retryAfterSeconds: number;
  constructor(reason: OverloadReason, retryAfterSeconds: number) {
    super(reason === 'queue_full' ? 'password hash queue is full' : 'password hash queue wait ran out');
    this.name = 'HashQueueOverloadedError';
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The default cap on concurrent argon2id computations: one fewer than the CPUs this process may
 * run on (`availableParallelism` follows the CPU affinity, so a server pinned to one core gets 1),
 * never below 1. The libuv threads hashing would otherwise take every core and starve the event
 * loop: session checks answered 26 ms at p99 instead of < 10 ms while sign-ins saturated hashing
 * (docs/benchmarks.md).
 */
export function defaultHashConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * The default queue bound: 32 waiting tasks per slot. A full queue is 32 hash times of wait
 * (about 0.5–1.5 s at the OWASP minimum cost on a server core), enough to absorb a burst of
 * sign-ins without refusing anyone; past it, waiting longer only turns a prompt 503 into a slow
 * one. A starved CPU, where 32 hash times exceed the wait bound, is caught by `maxWaitMs`.
 */
export function defaultHashQueueMax(concurrency: number): number {
  return 32 * concurrency;
}

interface Waiter {
  start: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

function checkBound(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw new RangeError(`${name} must be a non-negative integer`);
}

export function createConcurrencyLimit(limit: number, bounds: QueueBounds = {}): ConcurrencyLimit {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('concurrency limit must be a positive integer');
  checkBound('maxQueue', bounds.maxQueue);
  checkBound('maxWaitMs', bounds.maxWaitMs);
  const maxQueue = bounds.maxQueue ?? Number.POSITIVE_INFINITY;
  const maxWaitMs = bounds.maxWaitMs;
  // RFC 9110 §10.2.3: whole seconds. About one full wait from now, never 0.
  const retryAfterSeconds = Math.max(1, Math.ceil((maxWaitMs ?? 1000) / 1000));
  const rejected: Record<OverloadReason, number> = { queue_full: 0, wait_timeout: 0 };
  let active = 0;
  // Arrival order. A waiter that times out is spliced out, so it can never run later.
  const queue: Waiter[] = [];

  const refuse = (reason: OverloadReason): HashQueueOverloadedError => {
    rejected[reason]++;
    return new HashQueueOverloadedError(reason, retryAfterSeconds);
  };

  const release = (): void => {
    const next = queue.shift();
    if (next) {
      if (next.timer !== undefined) clearTimeout(next.timer);
      next.start();
    } else active--;
  };

  const waitForSlot = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { start: resolve, timer: undefined };
      if (maxWaitMs !== undefined) {
        waiter.timer = setTimeout(() => {
          const index = queue.indexOf(waiter);
          if (index !== -1) queue.splice(index, 1);
          reject(refuse('wait_timeout'));
        }, maxWaitMs);
      }
      queue.push(waiter);
    });

  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < limit) active++;
      else if (queue.length >= maxQueue) throw refuse('queue_full');
      // The slot is handed over by `release` without being freed in between, so a task arriving
      // meanwhile cannot overtake the queue.
      else await waitForSlot();
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    get rejected() {
      return { ...rejected };
    },
    checkCapacity() {
      if (active >= limit && queue.length >= maxQueue) throw refuse('queue_full');
    },
  };
}
