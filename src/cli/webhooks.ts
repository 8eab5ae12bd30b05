import { resolveMasterKey } from '../crypto/master-key.ts';
import { ApiError } from '../errors/catalog.ts';
import { listDeliveries, replayDead, type DeliveryView } from '../features/webhooks/admin.ts';
import { createOutbox } from '../features/webhooks/outbox.ts';
import type { DeliveryStatus } from '../features/webhooks/store.ts';
import type { WebhookView } from '../features/webhooks/subscriptions.ts';
import { openStorage } from '../storage/open.ts';
import { CliError, loadCliConfig, parseSubcommand } from './command.ts';

const HELP = `Usage: gatehouse webhooks <list|deliveries|replay> [options]

Webhook endpoints and their deliveries (docs/webhooks.md), through the same service as the
admin API under /api/admin/webhooks.

  webhooks list
      One line per endpoint: ID, ENABLED, EVENTS, URL (never a secret).
  webhooks deliveries ID [--status pending|delivered|dead] [--limit N]
      The endpoint's delivery log, newest first (default: every status, 50 rows, at most 100).
  webhooks replay DELIVERY_ID | webhooks replay --webhook ID
      Sends a dead delivery (or every dead delivery of the endpoint) again: due now, with a
      new retry window. A running server's worker picks it up at its next poll.

Options: --json (machine-readable output), --config FILE, --help
`;

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead'];

export async function runWebhooks(argv: string[]): Promise<number> {
  const parsed = parseSubcommand(argv, HELP, { json: { type: 'boolean' }, status: { type: 'string' }, limit: { type: 'string' }, webhook: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { sub, values, positionals } = parsed;
  if (!['list', 'deliveries', 'replay'].includes(sub)) throw new CliError(`unknown subcommand "${sub}"\n\n${HELP}`, 2);
  if (sub === 'list' && positionals.length > 0) throw new CliError('webhooks list takes no arguments', 2);
  if (sub === 'deliveries' && positionals.length !== 1) throw new CliError('webhooks deliveries needs one webhook ID', 2);
  if (sub === 'replay' && (positionals.length === 1) === (values.webhook !== undefined)) throw new CliError('webhooks replay needs one DELIVERY_ID or --webhook ID', 2);
  const status = values.status as DeliveryStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status)) throw new CliError(`--status is one of ${STATUSES.join(', ')}`, 2);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1 && limit <= 100)) throw new CliError('--limit is a number from 1 to 100', 2);
  const config = loadCliConfig(values.config);
  if (!config) return 2;
  const storage = await openStorage(config);
  try {
    // The outbox as the server builds it, without starting its worker: the running servers deliver.
    const outbox = createOutbox({ database: storage.database, config, sealKey: resolveMasterKey(config).derive('webhook-secrets'), now: Date.now, onError: () => {} });
    const service = { subscriptions: outbox.subscriptions, store: outbox.store, now: Date.now, onReplayed: () => {} };
    if (sub === 'list') {
      const webhooks = await outbox.subscriptions.list();
      process.stdout.write(values.json ? `${JSON.stringify({ webhooks })}\n` : `ID\tENABLED\tEVENTS\tURL\n${webhooks.map(webhookLine).join('')}`);
    } else if (sub === 'deliveries') {
      const deliveries = await listDeliveries(service, { webhookId: positionals[0]!, ...(status ? { status } : {}), ...(limit ? { limit } : {}) });
      process.stdout.write(values.json ? `${JSON.stringify({ deliveries })}\n` : `ID\tSTATUS\tEVENT\tATTEMPTS\tLAST\n${deliveries.map(deliveryLine).join('')}`);
    } else {
      const replayed = await replayDead(service, values.webhook === undefined ? { deliveryId: positionals[0]! } : { webhookId: values.webhook });
      if (replayed === 0 && values.webhook === undefined) throw new CliError('the delivery is not dead (only dead deliveries are replayed)', 1);
      process.stdout.write(values.json ? `${JSON.stringify({ replayed })}\n` : `replayed ${replayed} dead deliver${replayed === 1 ? 'y' : 'ies'}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) throw new CliError(error.description, error.status === 400 ? 2 : 1);
    throw error;
  } finally {
    await storage.close();
  }
}

function webhookLine(webhook: WebhookView): string {
  return `${webhook.id}\t${webhook.enabled ? 'yes' : 'no'}\t${webhook.events.join(',')}\t${webhook.url}\n`;
}

function deliveryLine(delivery: DeliveryView): string {
  const last = delivery.last_status_code === null ? (delivery.last_error ?? '-') : `HTTP ${delivery.last_status_code}`;
  return `${delivery.id}\t${delivery.status}\t${delivery.event_type}\t${delivery.attempts}\t${last}\n`;
}
