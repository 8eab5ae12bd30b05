import { ApiError, apiError } from '../../errors/catalog.ts';
import { ConfigError } from '../../config/types.ts';
import { newId } from '../../crypto/random.ts';
import { open, seal } from '../../crypto/seal.ts';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events.ts';
import type { DestinationGuard } from './destination.ts';
import { generateWebhookSecret, webhookSecretProblem } from './signature.ts';
import type { OutboxStore, SubscriptionRow } from './store.ts';

/** A webhook endpoint as the admin API shows it: never its secret. */
export interface WebhookView {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  source: 'api' | 'config';
  created_at: number;
  updated_at: number;
}

export interface WebhookInput {
  url?: string;
  description?: string | null;
  events?: string[];
  enabled?: boolean;
  /** Write-only: a `whsec_` secret chosen by the operator; generated when absent on create. */
  secret?: string;
}

export interface SubscriptionRegistry {
  list(): Promise<WebhookView[]>;
  get(id: string): Promise<WebhookView | undefined>;
  /** The secret is in the answer only when it was generated. */
  create(input: WebhookInput): Promise<{ webhook: WebhookView; secret?: string }>;
  update(id: string, input: WebhookInput): Promise<WebhookView>;
  rotateSecret(id: string, secret?: string): Promise<{ webhook: WebhookView; secret?: string }>;
  delete(id: string): Promise<void>;
  /** The endpoint's URL and secret for signing, when it exists and is enabled. */
  destination(id: string): Promise<{ url: string; secret: string } | undefined>;
  /** The same from a subscription row already read (the enqueue's, on PostgreSQL). */
  opened(id: string, destination: { url: string; secretSealed: string }): { url: string; secret: string };
  applyConfigured(entries: readonly Readonly<Record<string, unknown>>[]): Promise<void>;
}

const ID = /^[A-Za-z0-9._~-]{1,64}$/;
const MAX_EVENTS = WEBHOOK_EVENT_TYPES.length;

export class WebhookInputError extends ApiError {
  readonly field: string;
  constructor(field: string, reason: string) {
    super('invalid_request', `${field}: ${reason}`);
    this.field = field;
  }
}

function view(row: SubscriptionRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: (JSON.parse(row.event_types) as string[]).filter(isWebhookEventType),
    enabled: Number(row.enabled) === 1,
    source: row.source === 'config' ? 'config' : 'api',
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

/**
 * Webhook endpoints: the admin API and the config file (`webhooks`), one validation. Secrets
 * are sealed under a key derived from the master key (the server must sign with them, so a hash
 * would not do); the admin API shows a generated secret once and never again.
 */
export function createSubscriptionRegistry(deps: { store: OutboxStore; guard: DestinationGuard; sealKey: Buffer; now: () => number }): SubscriptionRegistry {
  const { store, guard, sealKey } = deps;
  const context = (id: string) => `webhook-secret ${id}`;
  // Opened secrets by sealed value: one AES-GCM open per secret, not per delivery. A rotated
  // secret is a new sealed value, so an old entry is never used for it.
  const openedSecrets = new Map<string, string>();
  const openSecret = (id: string, sealed: string): string => {
    const key = `${id}\n${sealed}`;
    let secret = openedSecrets.get(key);
    if (secret === undefined) {
      secret = open(sealKey, sealed, context(id));
      if (openedSecrets.size >= 1000) openedSecrets.clear();
      openedSecrets.set(key, secret);
    }
    return secret;
  };

  async function checked(input: WebhookInput, current?: SubscriptionRow): Promise<{ url: string; description: string | null; events: WebhookEventType[]; enabled: boolean }> {
    const url = input.url ?? current?.url;
    if (typeof url !== 'string') throw new WebhookInputError('url', 'is required');
    if (input.url !== undefined) {
      const problem = await guard.check(url);
      if (problem) throw new WebhookInputError('url', problem);
    }
    const events = input.events ?? (current ? (JSON.parse(current.event_types) as string[]) : undefined);
    if (!Array.isArray(events) || events.length === 0) throw new WebhookInputError('events', `must list at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    if (events.length > MAX_EVENTS) throw new WebhookInputError('events', `must have at most ${MAX_EVENTS} entries`);
    events.forEach((event, index) => {
      if (typeof event !== 'string' || !isWebhookEventType(event)) throw new WebhookInputError(`events[${index}]`, `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    });
    if (new Set(events).size !== events.length) throw new WebhookInputError('events', 'lists an event twice');
    const description = input.description !== undefined ? input.description : (current?.description ?? null);
    if (description !== null && (typeof description !== 'string' || description.length > 200)) throw new WebhookInputError('description', 'must be at most 200 characters');
    if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw new WebhookInputError('enabled', 'must be true or false');
    const enabled = input.enabled ?? (current ? Number(current.enabled) === 1 : true);
    return { url, description, events: events as WebhookEventType[], enabled };
  }

  function secretOf(input: WebhookInput): { secret: string; generated: boolean } {
    if (input.secret === undefined) return { secret: generateWebhookSecret(), generated: true };
    const problem = webhookSecretProblem(input.secret);
    if (problem) throw new WebhookInputError('secret', problem);
    return { secret: input.secret, generated: false };
  }

  async function existing(id: string): Promise<SubscriptionRow> {
    const row = await store.getSubscription(id);
    if (!row) throw apiError('not_found', 'No such webhook.');
    return row;
  }

  function refuseConfigured(row: SubscriptionRow): void {
    if (row.source === 'config') throw apiError('conflict', 'This webhook is declared in the config file; change it there.');
  }

  const registry: SubscriptionRegistry = {
    list: async () => (await store.listSubscriptions()).map(view),
    get: async (id) => {
      const row = await store.getSubscription(id);
      return row ? view(row) : undefined;
    },
    create: async (input) => {
      const settings = await checked(input);
      const { secret, generated } = secretOf(input);
      const at = deps.now();
      const id = newId(at);
      const row: SubscriptionRow = { id, url: settings.url, description: settings.description, event_types: JSON.stringify(settings.events), secret_sealed: seal(sealKey, secret, context(id)), enabled: settings.enabled ? 1 : 0, source: 'api', created_at: at, updated_at: at };
      await store.insertSubscription(row);
      return { webhook: view(row), ...(generated ? { secret } : {}) };
    },
    update: async (id, input) => {
      const current = await existing(id);
      refuseConfigured(current);
      if (input.secret !== undefined) throw new WebhookInputError('secret', 'is changed with POST /api/admin/webhooks/:id/secret');
      const settings = await checked(input, current);
      const row: SubscriptionRow = { ...current, url: settings.url, description: settings.description, event_types: JSON.stringify(settings.events), enabled: settings.enabled ? 1 : 0, updated_at: deps.now() };
      await store.updateSubscription(row);
      return view(row);
    },
    rotateSecret: async (id, supplied) => {
      const current = await existing(id);
      refuseConfigured(current);
      const { secret, generated } = secretOf(supplied === undefined ? {} : { secret: supplied });
      const row: SubscriptionRow = { ...current, secret_sealed: seal(sealKey, secret, context(id)), updated_at: deps.now() };
      await store.updateSubscription(row);
      return { webhook: view(row), ...(generated ? { secret } : {}) };
    },
    delete: async (id) => {
      refuseConfigured(await existing(id));
      await store.deleteSubscription(id);
    },
    destination: async (id) => {
      const row = await store.getSubscription(id);
      if (!row || Number(row.enabled) !== 1) return undefined;
      return { url: row.url, secret: openSecret(id, row.secret_sealed) };
    },
    opened: (id, destination) => ({ url: destination.url, secret: openSecret(id, destination.secretSealed) }),
    applyConfigured: async (entries) => {
      const seen = new Set<string>();
      for (const [index, entry] of entries.entries()) {
        const field = (name: string) => `webhooks[${index}].${name}`;
        const { id, secret, secret_env: _secretEnv, ...rest } = entry as Record<string, unknown>;
        if (typeof id !== 'string' || !ID.test(id)) throw new ConfigError(field('id'), 'is required: 1 to 64 characters from A-Z a-z 0-9 . _ ~ -');
        if (seen.has(id)) throw new ConfigError(field('id'), `"${id}" is declared twice`);
        seen.add(id);
        for (const name of Object.keys(rest)) {
          if (!['url', 'events', 'enabled', 'description'].includes(name)) throw new ConfigError(field(name), 'is not a webhook field (id, url, events, enabled, description, secret_env)');
        }
        let settings: Awaited<ReturnType<typeof checked>>;
        try {
          settings = await checked({ ...(rest as WebhookInput), url: rest.url as string });
          const problem = webhookSecretProblem(secret);
          if (problem) throw new WebhookInputError('secret_env', `the secret ${problem}`);
        } catch (error) {
          if (error instanceof WebhookInputError) throw new ConfigError(field(error.field), error.description.slice(error.field.length + 2));
          throw error;
        }
        const current = await store.getSubscription(id);
        const at = deps.now();
        const row: SubscriptionRow = { id, url: settings.url, description: settings.description, event_types: JSON.stringify(settings.events), secret_sealed: seal(sealKey, secret as string, context(id)), enabled: settings.enabled ? 1 : 0, source: 'config', created_at: current ? Number(current.created_at) : at, updated_at: at };
        if (current && current.source !== 'config') throw new ConfigError(field('id'), `"${id}" is already a webhook made with the admin API`);
        if (current) await store.updateSubscription(row);
        else await store.insertSubscription(row);
      }
    },
  };
  return registry;
}
