import { availableParallelism } from 'node:os';

/** Runs async tasks with at most `limit` in flight; the rest wait in arrival order. */
export interface ConcurrencyLimit {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks running now and tasks waiting (for tests and metrics). */
  readonly active: number;
  readonly waiting: number;
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

export function createConcurrencyLimit(limit: number): ConcurrencyLimit {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('concurrency limit must be a positive integer');
  let active = 0;
  const queue: (() => void)[] = [];

  const release = (): void => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };

  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < limit) active++;
      // The slot is handed over by `release` without being freed in between, so a task arriving
      // meanwhile cannot overtake the queue.
      else await new Promise<void>((resolve) => queue.push(resolve));
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
  };
}
