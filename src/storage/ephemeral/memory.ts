/**
 * In-process ephemeral store: the embedded default for a single instance.
 *
 * State lives in one Map, so it is shared by nothing outside this process — run one instance,
 * or configure Redis. Every operation runs synchronously inside one call, which makes
 * `consume`, `setIfAbsent` and `increment` atomic within the process.
 */
import { EphemeralUnavailableError } from './types.ts';
import type { CounterState, EphemeralStore } from './types.ts';

export interface MemoryStoreOptions {
  /** Clock in epoch milliseconds; inject a frozen one in tests. Defaults to `Date.now`. */
  now?: () => number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

interface Subscription {
  handler: (message: string) => void;
}

/** Expired entries are dropped on read; the sweep only bounds memory held by unread keys. */
const SWEEP_INTERVAL_MS = 30_000;

export function createMemoryStore(options: MemoryStoreOptions = {}): EphemeralStore {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const channels = new Map<string, Set<Subscription>>();
  let closed = false;

  const sweep = setInterval(() => {
    const at = now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= at) entries.delete(key);
    }
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  function assertOpen(): void {
    if (closed) throw new EphemeralUnavailableError('memory store is closed');
  }

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function store(key: string, value: string, ttlMs: number): void {
    entries.set(key, { value, expiresAt: now() + checkTtl(ttlMs) });
  }

  return {
    kind: 'memory',

    async set(key, value, ttlMs) {
      assertOpen();
      store(key, value, ttlMs);
    },

    async setIfAbsent(key, value, ttlMs) {
      assertOpen();
      if (live(key) !== undefined) return false;
      store(key, value, ttlMs);
      return true;
    },

    async get(key) {
      assertOpen();
      return live(key)?.value ?? null;
    },

    async consume(key) {
      assertOpen();
      const entry = live(key);
      if (entry === undefined) return null;
      entries.delete(key);
      return entry.value;
    },

    async delete(key) {
      assertOpen();
      entries.delete(key);
    },

    async increment(key, windowMs): Promise<CounterState> {
      assertOpen();
      const at = now();
      const entry = live(key);
      if (entry === undefined) {
        const expiresAt = at + checkTtl(windowMs);
        entries.set(key, { value: '1', expiresAt });
        return { count: 1, resetInMs: expiresAt - at };
      }
      // Same rule as Redis INCR: a non-integer value under the key is an error.
      const count = parseCount(entry.value) + 1;
      entry.value = String(count);
      return { count, resetInMs: entry.expiresAt - at };
    },

    async peekCounter(key): Promise<CounterState> {
      assertOpen();
      const entry = live(key);
      if (entry === undefined) return { count: 0, resetInMs: 0 };
      return { count: parseCount(entry.value), resetInMs: entry.expiresAt - now() };
    },

    async publish(channel, message) {
      assertOpen();
      const subscriptions = channels.get(channel);
      if (subscriptions === undefined) return;
      for (const subscription of subscriptions) {
        // Delivered asynchronously, like Redis: a publisher never runs handlers on its own stack.
        queueMicrotask(() => {
          if (closed || !subscriptions.has(subscription)) return;
          deliver(subscription.handler, message);
        });
      }
    },

    async subscribe(channel, handler) {
      assertOpen();
      const subscription: Subscription = { handler };
      let subscriptions = channels.get(channel);
      if (subscriptions === undefined) {
        subscriptions = new Set();
        channels.set(channel, subscriptions);
      }
      subscriptions.add(subscription);
      return async () => {
        const current = channels.get(channel);
        if (current === undefined) return;
        current.delete(subscription);
        if (current.size === 0) channels.delete(channel);
      };
    },

    async ping() {
      assertOpen();
    },

    async close() {
      closed = true;
      clearInterval(sweep);
      entries.clear();
      channels.clear();
    },
  };
}

/** TTLs are whole milliseconds above zero, as Redis `PX` requires. */
function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`TTL must be a positive number of milliseconds, got ${ttlMs}`);
  }
  return Math.ceil(ttlMs);
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isSafeInteger(count)) throw new TypeError('value is not an integer counter');
  return count;
}

/** A throwing handler must not stop delivery to the others (nor crash the process). */
function deliver(handler: (message: string) => void, message: string): void {
  try {
    handler(message);
  } catch {
    // No logger at this layer; handlers own their errors.
  }
}
