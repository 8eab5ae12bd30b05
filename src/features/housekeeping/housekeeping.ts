import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Database } from '../../storage/sql/database.ts';
import { SWEEPS } from './sweeps.ts';
import { HOUSEKEEPING_TABLES, type HousekeepingTable } from './tables.ts';

/** Rows per DELETE: small enough that no statement holds locks or a transaction for long. */
export const BATCH_SIZE = 1000;
/** Batches per sweep per run (100,000 rows); a sweep with more left makes the next run come soon. */
export const MAX_BATCHES_PER_RUN = 100;
/** The pause before the next run when a run stopped at its cap (a backlog drains in steps). */
export const BACKLOG_PAUSE_MS = 1000;

export interface HousekeepingDeps {
  database: Pick<Database, 'db' | 'dialect'>;
  /** The clock (ms since epoch); read once per run, so every sweep of a run uses one "now". */
  now: () => number;
  /** Told the rows each statement deleted (the metric). */
  onDeleted?: (table: HousekeepingTable, count: number) => void;
  batchSize?: number;
  maxBatchesPerRun?: number;
  /** Checked between batches: a stopping server ends the run early. */
  stopped?: () => boolean;
}

export interface HousekeepingResult {
  deleted: Record<HousekeepingTable, number>;
  /** True when a sweep stopped at its cap with rows left. */
  backlog: boolean;
}

/**
 * One housekeeping run: every sweep (sweeps.ts) in bounded batches until it finds nothing more to
 * delete or reaches its cap. Safe to run on several instances at once; each row is deleted once.
 */
export async function runOnce(deps: HousekeepingDeps): Promise<HousekeepingResult> {
  const limit = deps.batchSize ?? BATCH_SIZE;
  const maxBatches = deps.maxBatchesPerRun ?? MAX_BATCHES_PER_RUN;
  const context = { db: deps.database.db, postgres: deps.database.dialect === 'postgres', now: deps.now(), limit };
  const deleted = Object.fromEntries(HOUSEKEEPING_TABLES.map((table) => [table, 0])) as Record<HousekeepingTable, number>;
  let backlog = false;
  for (const sweep of SWEEPS) {
    for (let batch = 0; ; batch++) {
      if (deps.stopped?.()) return { deleted, backlog };
      if (batch === maxBatches) {
        backlog = true;
        break;
      }
      const counts = await sweep.batch(context);
      for (const [table, count] of Object.entries(counts) as [HousekeepingTable, number][]) {
        deleted[table] += count;
        if (count > 0) deps.onDeleted?.(table, count);
      }
      if ((counts[sweep.table] ?? 0) < limit) break;
      // Let requests run between batches.
      await yieldToEventLoop();
    }
  }
  return { deleted, backlog };
}

export interface Housekeeping {
  /** One run now (tests call it); resolves with what it deleted. Runs never overlap on one instance. */
  runOnce(): Promise<HousekeepingResult>;
  /** Runs every `intervalMs` (nothing when 0), the first after a short random delay. */
  start(): void;
  /** Stops the timer and waits for the run in flight, which ends after its current batch. */
  stop(): Promise<void>;
}

/** The per-instance scheduler around `runOnce`. */
export function createHousekeeping(deps: Omit<HousekeepingDeps, 'stopped'> & { intervalMs: number; onError: (error: unknown, what: string) => void; random?: () => number }): Housekeeping {
  const random = deps.random ?? Math.random;
  let started = false;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<HousekeepingResult> | undefined;

  function run(): Promise<HousekeepingResult> {
    running ??= runOnce({ ...deps, stopped: () => closing }).finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delayMs: number): void {
    if (closing) return;
    timer = setTimeout(() => {
      timer = undefined;
      run().then(
        (result) => schedule(result.backlog ? BACKLOG_PAUSE_MS : deps.intervalMs),
        (error: unknown) => {
          deps.onError(error, 'housekeeping');
          schedule(deps.intervalMs);
        },
      );
    }, delayMs);
    timer.unref();
  }

  return {
    runOnce: run,
    start() {
      if (deps.intervalMs <= 0 || started || closing) return;
      started = true;
      // Instances started together spread their first runs over up to a minute.
      schedule(Math.floor(random() * Math.min(deps.intervalMs, 60_000)));
    },
    async stop() {
      closing = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
