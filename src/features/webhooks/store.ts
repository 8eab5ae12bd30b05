import { sql, type Kysely, type Selectable } from 'kysely';
import type { DialectName } from '../../storage/sql/database.ts';
import type { DatabaseSchema, WebhookDeliveriesTable, WebhookSubscriptionsTable } from '../../storage/sql/schema.ts';

/**
 * The webhooks feature's storage port: subscriptions, the outbox (`webhook_deliveries`, shared
 * with back-channel logout) and the delivery log (`webhook_attempts`).
 */
export type SubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type DeliveryKind = 'webhook' | 'backchannel-logout';
export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface NewDelivery {
  id: string;
  kind: DeliveryKind;
  subscriptionId: string | null;
  clientId: string | null;
  eventId: string;
  eventType: string;
  payload: string;
}

export interface AttemptRow {
  attempt: number;
  at: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

export interface OutboxStore {
  // subscriptions
  listSubscriptions(): Promise<SubscriptionRow[]>;
  getSubscription(id: string): Promise<SubscriptionRow | undefined>;
  insertSubscription(row: SubscriptionRow): Promise<void>;
  updateSubscription(row: SubscriptionRow): Promise<boolean>;
  deleteSubscription(id: string): Promise<boolean>;
  // the outbox
  /** One delivery per enabled subscription of `eventType`, in one statement; returns how many. */
  enqueueForSubscribers(event: { eventId: string; eventType: string; payload: string }, now: number): Promise<number>;
  enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void>;
  /**
   * Claims up to `limit` due deliveries for `worker` until `until` — one statement; a row is
   * claimed by one worker at a time (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claimDue(worker: string, now: number, until: number, limit: number): Promise<DeliveryRow[]>;
  /** Records an attempt and its consequence, if `worker` still holds the claim. */
  complete(id: string, worker: string, attempt: AttemptRow, next: { status: DeliveryStatus; nextAttemptAt: number }): Promise<boolean>;
  /** Dead (or, with `includeDelivered`, any) deliveries back to pending, due now; returns how many. */
  replay(filter: { id?: string; subscriptionId?: string; clientId?: string }, now: number): Promise<number>;
  listDeliveries(filter: { subscriptionId?: string; status?: DeliveryStatus; limit: number; before?: string }): Promise<DeliveryRow[]>;
  getDelivery(id: string): Promise<DeliveryRow | undefined>;
  attemptsOf(deliveryId: string): Promise<AttemptRow[]>;
  /** Deletes up to `limit` delivered or dead rows completed before `before` (their attempts go by cascade); returns how many. */
  pruneCompleted(before: number, limit: number): Promise<number>;
}

export function createOutboxStore(db: Kysely<DatabaseSchema>, dialect: DialectName): OutboxStore {
  return {
    listSubscriptions: () => db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').execute(),
    getSubscription: (id) => db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst(),
    insertSubscription: async (row) => {
      await db.insertInto('webhook_subscriptions').values(row).execute();
    },
    updateSubscription: async (row) => {
      const { id, created_at: _createdAt, ...values } = row;
      const result = await db.updateTable('webhook_subscriptions').set(values).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    deleteSubscription: async (id) => {
      const result = await db.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    enqueueForSubscribers: async (event, now) => {
      // event_types is a JSON list of names; LIKE on the quoted name, wildcards escaped.
      const pattern = `%${JSON.stringify(event.eventType).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const text = (value: string) => sql<string>`cast(${value} as text)`;
      const big = (value: number) => sql<number>`cast(${value} as bigint)`;
      const result = await db
        .insertInto('webhook_deliveries')
        .columns(['id', 'kind', 'subscription_id', 'client_id', 'event_id', 'event_type', 'payload', 'status', 'attempts', 'created_at', 'next_attempt_at'])
        .expression(
          db
            .selectFrom('webhook_subscriptions as s')
            .select([
              sql<string>`${text(event.eventId)} || ':' || ${sql.ref('s.id')}`.as('id'),
              sql.lit('webhook').as('kind'),
              's.id as subscription_id',
              sql<null>`null`.as('client_id'),
              text(event.eventId).as('event_id'),
              text(event.eventType).as('event_type'),
              text(event.payload).as('payload'),
              sql.lit('pending').as('status'),
              sql.lit(0).as('attempts'),
              big(now).as('created_at'),
              big(now).as('next_attempt_at'),
            ])
            .where('s.enabled', '=', 1)
            .where(sql<boolean>`${sql.ref('s.event_types')} like ${pattern} escape '\\'`),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0);
    },
    enqueue: async (deliveries, now) => {
      if (deliveries.length === 0) return;
      await db
        .insertInto('webhook_deliveries')
        .values(deliveries.map((delivery) => ({
          id: delivery.id,
          kind: delivery.kind,
          subscription_id: delivery.subscriptionId,
          client_id: delivery.clientId,
          event_id: delivery.eventId,
          event_type: delivery.eventType,
          payload: delivery.payload,
          status: 'pending',
          attempts: 0,
          created_at: now,
          next_attempt_at: now,
        })))
        .execute();
    },

    claimDue: async (worker, now, until, limit) => {
      let due = db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
        .orderBy('next_attempt_at', 'asc')
        .limit(limit);
      if (dialect === 'postgres') due = due.forUpdate().skipLocked();
      // The claim conditions again on the outer statement: PostgreSQL re-checks them on a row
      // that another claim changed meanwhile; SQLite runs the one statement alone.
      return db
        .updateTable('webhook_deliveries')
        .set({ claimed_by: worker, claimed_until: until })
        .where('id', 'in', due)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
        .returningAll()
        .execute();
    },
    complete: async (id, worker, attempt, next) => {
      const result = await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: next.status,
          attempts: eb('attempts', '+', 1),
          next_attempt_at: next.nextAttemptAt,
          claimed_by: null,
          claimed_until: null,
          last_attempt_at: attempt.at,
          last_status_code: attempt.statusCode,
          last_error: attempt.error,
          completed_at: next.status === 'pending' ? null : attempt.at,
        }))
        .where('id', '=', id)
        .where('claimed_by', '=', worker)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await db
        .insertInto('webhook_attempts')
        .values({ id: `${id}#${attempt.attempt}`, delivery_id: id, attempt: attempt.attempt, at: attempt.at, status_code: attempt.statusCode, latency_ms: attempt.latencyMs, error: attempt.error })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
      return true;
    },
    replay: async (filter, now) => {
      let query = db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: now, created_at: now, completed_at: null, claimed_by: null, claimed_until: null })
        .where('status', '=', 'dead');
      if (filter.id !== undefined) query = query.where('id', '=', filter.id);
      if (filter.subscriptionId !== undefined) query = query.where('subscription_id', '=', filter.subscriptionId);
      if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    listDeliveries: async (filter) => {
      let query = db.selectFrom('webhook_deliveries').selectAll();
      if (filter.subscriptionId !== undefined) query = query.where('subscription_id', '=', filter.subscriptionId);
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.before !== undefined) query = query.where('id', '<', filter.before);
      return query.orderBy('id', 'desc').limit(filter.limit).execute();
    },
    getDelivery: (id) => db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst(),
    pruneCompleted: async (before, limit) => db.transaction().execute(async (trx) => {
      const ids = (await trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', 'in', ['delivered', 'dead'])
        .where('completed_at', '<', before)
        .limit(limit)
        .execute()).map((row) => row.id);
      if (ids.length === 0) return 0;
      // The conditions again on both deletes: a replay between the select and here made the row
      // pending again, and then neither it nor its attempt history may go.
      const stillDone = trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('id', 'in', ids)
        .where('status', 'in', ['delivered', 'dead'])
        .where('completed_at', '<', before);
      // Attempts first: SQLite enforces the cascade only with foreign_keys on; explicit is portable.
      await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', stillDone).execute();
      const result = await trx.deleteFrom('webhook_deliveries').where('id', 'in', ids).where('status', 'in', ['delivered', 'dead']).where('completed_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    }),
    attemptsOf: async (deliveryId) => {
      const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt', 'asc').execute();
      return rows.map((row) => ({ attempt: Number(row.attempt), at: Number(row.at), statusCode: row.status_code === null ? null : Number(row.status_code), latencyMs: Number(row.latency_ms), error: row.error }));
    },
  };
}
