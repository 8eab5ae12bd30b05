import { apiError } from '../../errors/catalog.ts';
import type { DeliveryRow, DeliveryStatus, OutboxStore } from './store.ts';
import type { SubscriptionRegistry } from './subscriptions.ts';

/**
 * What an operator can do with webhook endpoints and their deliveries, shared by the admin API
 * (routes.ts) and `gatehouse webhooks` (src/cli/webhooks.ts): one code path for both.
 */
export interface DeliveryView {
  id: string;
  kind: string;
  webhook_id: string | null;
  client_id: string | null;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number | null;
  completed_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  log: { attempt: number; at: number; status_code: number | null; latency_ms: number; error: string | null }[];
}

export interface WebhookAdminDeps {
  subscriptions: SubscriptionRegistry;
  store: OutboxStore;
  now: () => number;
  /** Called after a replay (the server kicks its worker; the CLI leaves it to the next poll). */
  onReplayed: () => void;
}

export async function deliveryView(row: DeliveryRow, store: OutboxStore): Promise<DeliveryView> {
  return {
    id: row.id,
    kind: row.kind,
    webhook_id: row.subscription_id,
    client_id: row.client_id,
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status,
    attempts: Number(row.attempts),
    created_at: Number(row.created_at),
    next_attempt_at: row.status === 'pending' ? Number(row.next_attempt_at) : null,
    completed_at: row.completed_at === null ? null : Number(row.completed_at),
    last_status_code: row.last_status_code === null ? null : Number(row.last_status_code),
    last_error: row.last_error,
    log: (await store.attemptsOf(row.id)).map((attempt) => ({ attempt: attempt.attempt, at: attempt.at, status_code: attempt.statusCode, latency_ms: attempt.latencyMs, error: attempt.error })),
  };
}

/** The delivery log of one endpoint (or, without `webhookId`, of every kind), newest first; `not_found` for an unknown endpoint. */
export async function listDeliveries(deps: WebhookAdminDeps, filter: { webhookId?: string; status?: DeliveryStatus; limit?: number; before?: string }): Promise<DeliveryView[]> {
  if (filter.webhookId !== undefined && !(await deps.subscriptions.get(filter.webhookId))) throw apiError('not_found', 'No such webhook.');
  const limit = Math.min(100, Math.max(1, filter.limit ?? 50));
  const rows = await deps.store.listDeliveries({
    limit,
    ...(filter.webhookId === undefined ? {} : { subscriptionId: filter.webhookId }),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.before ? { before: filter.before } : {}),
  });
  return Promise.all(rows.map((row) => deliveryView(row, deps.store)));
}

/** Dead deliveries back to pending, due now with a new retry window: every one of an endpoint, or one by id. Returns how many. */
export async function replayDead(deps: WebhookAdminDeps, target: { webhookId: string } | { deliveryId: string }): Promise<number> {
  let replayed: number;
  if ('webhookId' in target) {
    if (!(await deps.subscriptions.get(target.webhookId))) throw apiError('not_found', 'No such webhook.');
    replayed = await deps.store.replay({ subscriptionId: target.webhookId }, deps.now());
  } else {
    if (!(await deps.store.getDelivery(target.deliveryId))) throw apiError('not_found', 'No such delivery.');
    replayed = await deps.store.replay({ id: target.deliveryId }, deps.now());
  }
  deps.onReplayed();
  return replayed;
}
