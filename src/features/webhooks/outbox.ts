import type { Config } from '../../config/schema.ts';
import type { Database } from '../../storage/sql/database.ts';
import { newId } from '../../crypto/random.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { createDestinationGuard, systemResolver, type DestinationGuard, type Resolver } from './destination.ts';
import { webhookPayload, webhookTypeOf } from './events.ts';
import { signWebhook } from './signature.ts';
import { createOutboxStore, type NewDelivery, type OutboxStore } from './store.ts';
import { createSubscriptionRegistry, type SubscriptionRegistry } from './subscriptions.ts';
import { createDeliveryWorker, type DeliveryWorker, type Preparer } from './worker.ts';

export type OutboxConfig = Pick<Config, 'env' | 'webhookAllowedNetworks' | 'webhookTimeoutMs' | 'webhookGiveUpAfterSeconds' | 'webhookPollIntervalMs' | 'webhookRetentionDays'>;

export interface Outbox {
  store: OutboxStore;
  guard: DestinationGuard;
  subscriptions: SubscriptionRegistry;
  worker: DeliveryWorker;
  /** How rows of another kind (back-channel logout) become requests. */
  addKind(kind: string, preparer: Preparer): void;
  enqueue(deliveries: readonly NewDelivery[]): Promise<void>;
  /**
   * The audit log, with a webhook delivery queued for every subscribed endpoint right after each
   * mapped audit row is written, before the caller goes on (docs/webhooks.md, "Durability").
   */
  observe(audit: AuditLog): AuditLog;
}

/**
 * The durable outbox shared by webhooks and back-channel logout: one destination guard (SSRF
 * rules), one worker per instance, one delivery log.
 */
export function createOutbox(deps: { database: Database; config: OutboxConfig; sealKey: Buffer; now: () => number; resolve?: Resolver; onError: (error: unknown, what: string) => void }): Outbox {
  const { config, now } = deps;
  const store = createOutboxStore(deps.database.db, deps.database.dialect);
  const guard = createDestinationGuard({ production: config.env === 'production', allowedNetworks: config.webhookAllowedNetworks, resolve: deps.resolve ?? systemResolver });
  const subscriptions = createSubscriptionRegistry({ store, guard, sealKey: deps.sealKey, now });

  // The endpoint as the enqueue read it, for the immediate first attempt of rows this instance
  // just inserted (PostgreSQL): taken once, by that attempt; retries read the endpoint again.
  const readWithRow = new Map<string, { url: string; secretSealed: string }>();
  const webhook: Preparer = async (row, at) => {
    const known = readWithRow.get(row.id);
    if (known) readWithRow.delete(row.id);
    const destination = row.subscription_id === null ? undefined : known ? subscriptions.opened(row.subscription_id, known) : await subscriptions.destination(row.subscription_id);
    if (!destination) return { giveUp: 'the endpoint was deleted or disabled' };
    const headers = signWebhook(destination.secret, { id: row.event_id, timestamp: Math.floor(at / 1000), body: row.payload });
    return { url: destination.url, headers: { ...headers, 'content-type': 'application/json' }, body: row.payload };
  };
  const preparers: Record<string, Preparer> = { webhook };
  const worker = createDeliveryWorker({
    store,
    prepare: preparers,
    guard,
    timeoutMs: config.webhookTimeoutMs,
    giveUpAfterMs: config.webhookGiveUpAfterSeconds * 1000,
    pollIntervalMs: config.webhookPollIntervalMs,
    retentionMs: config.webhookRetentionDays * 86_400_000,
    now,
    onError: deps.onError,
  });

  return {
    store,
    guard,
    subscriptions,
    worker,
    addKind: (kind, preparer) => {
      preparers[kind] = preparer;
    },
    enqueue: async (deliveries) => {
      await store.enqueue(deliveries, now());
      worker.kick();
    },
    observe: (audit) => ({
      ...audit,
      record: async (event) => {
        await audit.record(event);
        const type = webhookTypeOf(event);
        if (!type) return;
        const at = now();
        // Born claimed by this instance's worker, which sends them at once: no claim statement.
        const claim = worker.claimForNew();
        const queued = await store.enqueueForSubscribers({ eventId: `msg_${newId(at)}`, eventType: type, payload: webhookPayload(type, event, at) }, at, claim);
        if (queued.length === 0) return;
        if (!claim) return worker.kick();
        for (const { row, destination } of queued) if (destination) readWithRow.set(row.id, destination);
        worker.deliverClaimed(queued.map(({ row }) => row));
      },
    }),
  };
}
