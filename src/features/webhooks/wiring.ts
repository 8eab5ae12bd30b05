import type { FastifyInstance } from 'fastify';
import type { AccountsFeature } from '../accounts/wiring.ts';
import type { Shared } from '../shared.ts';
import { registerAdminWebhookRoutes } from './routes.ts';

/**
 * Webhooks (docs/webhooks.md): the subscriptions declared in the config file, their admin API,
 * and the delivery worker of the shared outbox (started when the server is ready, stopped on
 * close; tests drive it through `app.webhookDelivery`).
 */
export async function registerWebhooksFeature(app: FastifyInstance, shared: Shared, parts: { accounts: AccountsFeature }): Promise<void> {
  const { outbox } = shared;
  await outbox.subscriptions.applyConfigured(shared.config.webhooks);
  registerAdminWebhookRoutes(app, { subscriptions: outbox.subscriptions, store: outbox.store, auth: parts.accounts.auth, users: parts.accounts.users, now: shared.now, onReplayed: () => outbox.worker.kick() });
  app.decorate('webhookDelivery', outbox.worker);
  app.addHook('onReady', async () => outbox.worker.start());
  app.addHook('onClose', () => outbox.worker.stop());
}
