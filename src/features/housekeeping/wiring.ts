import type { FastifyInstance } from 'fastify';
import type { Shared } from '../shared.ts';
import { createHousekeeping, type Housekeeping } from './housekeeping.ts';

/**
 * Housekeeping (docs/operations.md#housekeeping): every `housekeepingIntervalSeconds` each instance
 * deletes, in bounded batches, the rows nothing can use again — refresh tokens and grants of dead
 * grants, expired sessions, used or expired one-time tokens, expired revocations. Started when the
 * server is ready, stopped on close; `app.housekeeping.runOnce()` runs it now (tests). It needs no
 * other feature: `parts` is empty.
 */
export function registerHousekeeping(app: FastifyInstance, shared: Shared, _parts: Record<string, never> = {}): Housekeeping {
  const housekeeping = createHousekeeping({
    database: shared.database,
    now: shared.now,
    intervalMs: shared.config.housekeepingIntervalSeconds * 1000,
    onDeleted: (table, count) => shared.metrics.housekeepingDeleted(table, count),
    onError: shared.onBackgroundError,
  });
  app.decorate('housekeeping', housekeeping);
  app.addHook('onReady', async () => housekeeping.start());
  app.addHook('onClose', () => housekeeping.stop());
  return housekeeping;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The housekeeping job of this instance (tests call `runOnce()` instead of waiting for the timer). */
    housekeeping: Housekeeping;
  }
}
