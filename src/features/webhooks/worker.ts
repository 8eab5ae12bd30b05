import { randomToken } from '../../crypto/random.ts';
import type { Claim, DeliveryRow, OutboxStore } from './store.ts';
import { createConnectionPool } from './connections.ts';
import { send, type OutgoingRequest, type SendResult } from './send.ts';
import type { DestinationGuard } from './destination.ts';

/** First retry after 5 s, doubling, at most an hour apart (before jitter). */
export const BACKOFF_BASE_MS = 5000;
export const BACKOFF_MAX_MS = 3_600_000;
const BATCH = 20;
/** Completed rows are swept at most this often per instance, in batches of PRUNE_BATCH. */
export const PRUNE_INTERVAL_MS = 3_600_000;
const PRUNE_BATCH = 500;
/** At most this many batches per sweep: a large backlog is worked off hour by hour, never holding up deliveries. */
const PRUNE_MAX_BATCHES = 20;

/**
 * What a delivery row becomes on the wire, decided at send time (the current URL and secret of
 * the endpoint — for an immediate first attempt, as the insert of the row read them — a freshly
 * signed logout token), or why it cannot be sent at all (the endpoint is gone: the row is given
 * up at once).
 */
export type Preparer = (row: DeliveryRow, at: number) => Promise<OutgoingRequest | { giveUp: string }>;

export interface DeliveryWorker {
  /** Sends every delivery due now (claimed first); resolves when they are done. Tests call it. */
  runDue(): Promise<number>;
  /** Asks for a cycle soon (new events of another kind of this instance go out at once). */
  kick(): void;
  /**
   * A claim for rows about to be inserted and sent at once by `deliverClaimed` (no claim
   * statement, no poll): none while the worker is stopped or already sending `BATCH` such rows
   * (then the rows are inserted unclaimed and the next cycle sends them).
   */
  claimForNew(): Claim | undefined;
  /** Sends rows inserted with a claim from `claimForNew`; `stop()` waits for them. */
  deliverClaimed(rows: readonly DeliveryRow[]): void;
  start(): void;
  /** Stops polling and waits for the cycle and the immediate sends in flight. */
  stop(): Promise<void>;
  /** Deletes completed rows past the retention (`retentionMs`); returns how many. Runs hourly from the poll; tests call it. */
  prune(): Promise<number>;
}

/** The delay before attempt `failures + 1`: exponential with "equal jitter" (half fixed, half random). */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * The delivery worker, one per instance. Each cycle claims due rows for this worker for the
 * longest an attempt can take (so a crashed instance's claims lapse and another instance
 * retries: at least once), sends them, and records the attempt only while the claim is still
 * its own. Failures are retried with backoff until `giveUpAfterMs` after the event, then dead.
 */
export function createDeliveryWorker(deps: {
  store: OutboxStore;
  prepare: Record<DeliveryRow['kind'], Preparer> | Record<string, Preparer>;
  guard: DestinationGuard;
  timeoutMs: number;
  giveUpAfterMs: number;
  pollIntervalMs: number;
  /** How long delivered/dead rows are kept after they completed; 0 = forever. */
  retentionMs?: number;
  now: () => number;
  random?: () => number;
  onError: (error: unknown, what: string) => void;
  onAttempt?: (row: DeliveryRow, result: SendResult) => void;
}): DeliveryWorker {
  const id = randomToken(12);
  const leaseMs = deps.timeoutMs + 30_000;
  let running: Promise<number> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let lastPrune = -Infinity;
  const retentionMs = deps.retentionMs ?? 0;
  // Keep-alive connections per destination, each opened through the guard (connections.ts).
  const pool = createConnectionPool(deps.guard);
  const direct = new Set<Promise<void>>();

  async function prune(): Promise<number> {
    if (retentionMs <= 0) return 0;
    lastPrune = deps.now();
    const before = lastPrune - retentionMs;
    let total = 0;
    for (let batch = 0; batch < PRUNE_MAX_BATCHES; batch++) {
      const removed = await deps.store.pruneCompleted(before, PRUNE_BATCH);
      total += removed;
      if (removed < PRUNE_BATCH) break;
    }
    return total;
  }

  async function attempt(row: DeliveryRow): Promise<void> {
    const at = deps.now();
    const number = Number(row.attempts) + 1;
    const prepare = (deps.prepare as Record<string, Preparer>)[row.kind];
    const prepared = prepare ? await prepare(row, at) : { giveUp: `unknown kind ${row.kind}` };
    if ('giveUp' in prepared) {
      await deps.store.complete(row.id, id, { attempt: number, at, statusCode: null, latencyMs: 0, error: prepared.giveUp }, { status: 'dead', nextAttemptAt: at });
      return;
    }
    const result = await send(prepared, { guard: deps.guard, timeoutMs: deps.timeoutMs, pool });
    deps.onAttempt?.(row, result);
    const done = deps.now();
    const record = { attempt: number, at: done, statusCode: result.statusCode, latencyMs: result.latencyMs, error: result.error };
    if (result.ok) {
      await deps.store.complete(row.id, id, record, { status: 'delivered', nextAttemptAt: done });
      return;
    }
    const deadline = Number(row.created_at) + deps.giveUpAfterMs;
    if (done >= deadline) {
      await deps.store.complete(row.id, id, record, { status: 'dead', nextAttemptAt: done });
      return;
    }
    // The last retry happens at the deadline itself, not after it.
    const next = Math.min(done + backoffMs(number, deps.random), deadline);
    await deps.store.complete(row.id, id, record, { status: 'pending', nextAttemptAt: next });
  }

  async function cycle(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = deps.now();
      const rows = await deps.store.claimDue(id, now, now + leaseMs, BATCH);
      total += rows.length;
      await Promise.all(rows.map((row) => attempt(row).catch((error: unknown) => deps.onError(error, 'webhook delivery'))));
      if (rows.length < BATCH) break;
    }
    if (retentionMs > 0 && deps.now() - lastPrune >= PRUNE_INTERVAL_MS) await prune().catch((error: unknown) => deps.onError(error, 'webhook retention'));
    return total;
  }

  function runDue(): Promise<number> {
    if (running) {
      // A cycle is in flight: run one more after it (it may have claimed before the new rows).
      return running.then(() => runDue());
    }
    const current = cycle().finally(() => {
      if (running === current) running = undefined;
    });
    running = current;
    return current;
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    runDue().then(
      () => {
        if (again) {
          again = false;
          kick();
        }
      },
      (error: unknown) => deps.onError(error, 'webhook delivery'),
    );
  }

  return {
    runDue,
    kick,
    prune,
    claimForNew() {
      if (stopped || direct.size >= BATCH) return undefined;
      return { worker: id, until: deps.now() + leaseMs };
    },
    deliverClaimed(rows) {
      // Stopped meanwhile: the claims lapse after the lease and a running worker sends the rows.
      if (stopped) return;
      for (const row of rows) {
        const sending: Promise<void> = attempt(row)
          .catch((error: unknown) => deps.onError(error, 'webhook delivery'))
          .finally(() => direct.delete(sending));
        direct.add(sending);
      }
    },
    start() {
      if (deps.pollIntervalMs === 0 || !stopped) return;
      stopped = false;
      timer = setInterval(kick, deps.pollIntervalMs);
      timer.unref();
      kick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => 0);
      await Promise.all([...direct]);
      pool.close();
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The outbox's delivery worker (tests call `runDue()` instead of waiting for the poll). */
    webhookDelivery: DeliveryWorker;
  }
}
