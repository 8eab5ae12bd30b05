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

/** A row just enqueued; on PostgreSQL with its endpoint as the insert read it (`destination`). */
export interface QueuedDelivery {
  row: DeliveryRow;
  destination?: { url: string; secretSealed: string };
}

export interface Claim {
  worker: string;
  until: number;
}

export interface OutboxStore {
  // subscriptions
  listSubscriptions(): Promise<SubscriptionRow[]>;
  getSubscription(id: string): Promise<SubscriptionRow | undefined>;
  insertSubscription(row: SubscriptionRow): Promise<void>;
  updateSubscription(row: SubscriptionRow): Promise<boolean>;
  deleteSubscription(id: string): Promise<boolean>;
  // the outbox
  /**
   * One delivery per enabled subscription of `eventType`, in one statement; returns the rows.
   * With `claim`, the rows are born claimed by that worker until `claim.until` (it sends them at
   * once, without a claim statement; if it dies, the claim lapses and another worker retries).
   */
  enqueueForSubscribers(event: { eventId: string; eventType: string; payload: string }, now: number, claim?: Claim): Promise<QueuedDelivery[]>;
  enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void>;
  /**
   * Claims up to `limit` due deliveries for `worker` until `until` — one statement; a row is
   * claimed by one worker at a time (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claimDue(worker: string, now: number, until: number, limit: number): Promise<DeliveryRow[]>;
  /** Records an attempt and its consequence, if `worker` still holds the claim (PostgreSQL: one statement). */
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

    enqueueForSubscribers: async (event, now, claim) => {
      // event_types is a JSON list of names; LIKE on the quoted name, wildcards escaped.
      const pattern = `%${JSON.stringify(event.eventType).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const text = (value: string) => sql<string>`cast(${value} as text)`;
      const big = (value: number) => sql<number>`cast(${value} as bigint)`;
      const insert = db
        .insertInto('webhook_deliveries')
        .columns(['id', 'kind', 'subscription_id', 'client_id', 'event_id', 'event_type', 'payload', 'status', 'attempts', 'created_at', 'next_attempt_at', 'claimed_by', 'claimed_until'])
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
              sql<string | null>`cast(${claim?.worker ?? null} as text)`.as('claimed_by'),
              sql<number | null>`cast(${claim?.until ?? null} as bigint)`.as('claimed_until'),
            ])
            .where('s.enabled', '=', 1)
            .where(sql<boolean>`${sql.ref('s.event_types')} like ${pattern} escape '\\'`),
        )
        .returningAll();
      if (dialect !== 'postgres') return (await insert.execute()).map((row) => ({ row }));
      // PostgreSQL: the endpoint's URL and sealed secret with the rows, from the snapshot the
      // insert read the subscriptions in (the first attempt needs no query for them).
      const rows = await db
        .with('queued', () => insert)
        .selectFrom('queued')
        .innerJoin('webhook_subscriptions as s', 's.id', 'queued.subscription_id')
        .selectAll('queued')
        .select(['s.url as destination_url', 's.secret_sealed as destination_secret_sealed'])
        .execute();
      return rows.map(({ destination_url: url, destination_secret_sealed: secretSealed, ...row }) => ({ row, destination: { url, secretSealed } }));
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
      const values = {
        status: next.status,
        next_attempt_at: next.nextAttemptAt,
        last_attempt_at: attempt.at,
        last_status_code: attempt.statusCode,
        last_error: attempt.error,
        completed_at: next.status === 'pending' ? null : attempt.at,
      };
      const attemptRow = { id: `${id}#${attempt.attempt}`, delivery_id: id, attempt: attempt.attempt, at: attempt.at, status_code: attempt.statusCode, latency_ms: attempt.latencyMs, error: attempt.error };
      if (dialect === 'postgres') {
        // One statement: the attempt row is inserted only when the update found the claim still
        // this worker's (the same condition as below); `done` says whether it did.
        const result = await sql<{ done: string | number }>`
          with updated as (
            update webhook_deliveries set status = ${values.status}, attempts = attempts + 1, next_attempt_at = ${values.next_attempt_at}, claimed_by = null, claimed_until = null,
              last_attempt_at = ${values.last_attempt_at}, last_status_code = ${values.last_status_code}, last_error = ${values.last_error}, completed_at = ${values.completed_at}
            where id = ${id} and claimed_by = ${worker}
            returning id
          ), logged as (
            insert into webhook_attempts (id, delivery_id, attempt, at, status_code, latency_ms, error)
            select cast(${attemptRow.id} as text), updated.id, cast(${attemptRow.attempt} as integer), cast(${attemptRow.at} as bigint), cast(${attemptRow.status_code} as integer), cast(${attemptRow.latency_ms} as integer), cast(${attemptRow.error} as text) from updated
            on conflict (id) do nothing
          )
          select count(*) as done from updated`.execute(db);
        return Number(result.rows[0]?.done ?? 0) > 0;
      }
      const result = await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ ...values, attempts: eb('attempts', '+', 1), claimed_by: null, claimed_until: null }))
        .where('id', '=', id)
        .where('claimed_by', '=', worker)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await db.insertInto('webhook_attempts').values(attemptRow).onConflict((conflict) => conflict.column('id').doNothing()).execute();
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
