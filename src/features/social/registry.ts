import { ConfigError } from '../../config/types.ts';
import { apiError } from '../../errors/catalog.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { ProviderSettingsError, validateProviderSettings, type Provider, type ProviderSettings } from './providers.ts';
import type { ProviderStore, StoredProvider } from './store.ts';

/** Who changes a provider through the admin API, for the audit log. */
export interface ProviderActor {
  userId?: string;
  /** The acting admin for the audit's `actor_id`: a user id or `client:<client_id>`. */
  actorId?: string;
  ip?: string;
  userAgent?: string | null;
}

/**
 * One place that answers "which upstream providers exist": those declared in the config file
 * (checked at start, read-only at run time) and those registered through the admin API (stored,
 * secret sealed under the master key). Ids are unique across both. Every instance reads the
 * stored ones from the database, so an admin change reaches all instances at their next sign-in.
 */
export function createProviderRegistry(deps: {
  store: ProviderStore;
  sealKey: Buffer;
  configured: readonly Readonly<Record<string, unknown>>[];
  audit: AuditLog;
  now: () => number;
}) {
  const { store, sealKey, audit, now } = deps;
  const configured = checkConfigured(deps.configured);
  const configuredIds = new Set(configured.map((provider) => provider.id));

  const fromStored = (row: StoredProvider): Provider | undefined => {
    try {
      const settings = validateProviderSettings(JSON.parse(row.settings) as Record<string, unknown>);
      const clientSecret = row.clientSecretSealed === null ? '' : open(sealKey, row.clientSecretSealed, sealContext(row.id));
      return { ...settings, source: 'api', clientSecret };
    } catch {
      // A row that no longer validates (or opens) is skipped, never half-used.
      return undefined;
    }
  };

  const record = (type: 'identity-provider-created' | 'identity-provider-updated' | 'identity-provider-deleted', id: string, actor: ProviderActor) =>
    audit.record({ type, outcome: 'success', userId: actor.userId ?? null, actorId: actor.actorId ?? null, ip: actor.ip ?? null, userAgent: actor.userAgent ?? null, detail: { provider: id } });

  const get = async (id: string): Promise<Provider | undefined> => {
    const declared = configured.find((provider) => provider.id === id);
    if (declared) return declared;
    const row = await store.get(id);
    return row ? fromStored(row) : undefined;
  };

  return {
    /** Every provider, the config file's first. */
    async list(): Promise<Provider[]> {
      const stored = (await store.list()).map(fromStored).filter((provider): provider is Provider => provider !== undefined && !configuredIds.has(provider.id));
      return [...configured, ...stored];
    },
    /** The providers shown on /login. */
    async enabled(): Promise<Provider[]> {
      return (await this.list()).filter((provider) => provider.enabled);
    },
    get,

    async create(body: Readonly<Record<string, unknown>>, actor: ProviderActor): Promise<Provider> {
      const { client_secret: secret, ...raw } = body;
      const settings = validateProviderSettings(raw);
      const clientSecret = requireSecret(secret);
      if (configuredIds.has(settings.id)) throw apiError('conflict', `A provider "${settings.id}" is declared in the config file.`);
      const at = now();
      const stored = await store.insert({ id: settings.id, settings: JSON.stringify(settings), clientSecretSealed: seal(sealKey, clientSecret, sealContext(settings.id)), createdAt: at, updatedAt: at });
      if (!stored) throw apiError('conflict', `A provider "${settings.id}" already exists.`);
      await record('identity-provider-created', settings.id, actor);
      return { ...settings, source: 'api', clientSecret };
    },

    /** Replaces the given fields; `client_secret` rotates the secret. The id never changes. */
    async update(id: string, body: Readonly<Record<string, unknown>>, actor: ProviderActor): Promise<Provider> {
      if (configuredIds.has(id)) throw apiError('conflict', 'This provider is declared in the config file: change it there.');
      const row = await store.get(id);
      const current = row ? fromStored(row) : undefined;
      if (!row || !current) throw apiError('not_found', 'No such provider.');
      const { client_secret: secret, ...changes } = body;
      if (changes.id !== undefined && changes.id !== id) throw new ProviderSettingsError('id', 'cannot be changed (it is part of the callback URL); create a new provider instead');
      const { source: _source, clientSecret: _secret, ...settingsNow } = current;
      const settings: ProviderSettings = validateProviderSettings({ ...settingsNow, ...changes, id });
      const clientSecret = secret === undefined ? current.clientSecret : requireSecret(secret);
      await store.update(id, JSON.stringify(settings), seal(sealKey, clientSecret, sealContext(id)), now());
      await record('identity-provider-updated', id, actor);
      return { ...settings, source: 'api', clientSecret };
    },

    /** Removes the provider; identities linked through it stay (and sign in again if it comes back). */
    async remove(id: string, actor: ProviderActor): Promise<void> {
      if (configuredIds.has(id)) throw apiError('conflict', 'This provider is declared in the config file: remove it there.');
      if (!(await store.delete(id))) throw apiError('not_found', 'No such provider.');
      await record('identity-provider-deleted', id, actor);
    },
  };
}

export type ProviderRegistry = ReturnType<typeof createProviderRegistry>;

function sealContext(id: string): string {
  return `identity-provider:${id}`;
}

function requireSecret(secret: unknown): string {
  if (typeof secret !== 'string' || secret === '' || secret.length > 1000) throw new ProviderSettingsError('client_secret', 'is required: the secret the upstream provider issued (a non-empty string)');
  return secret;
}

/** The config file's entries, each validated; a bad one stops start-up naming `socialProviders[i].field`. */
function checkConfigured(entries: readonly Readonly<Record<string, unknown>>[]): Provider[] {
  const seen = new Map<string, number>();
  return entries.map((entry, index) => {
    const { client_secret: secret, client_secret_env: _name, ...raw } = entry;
    let settings: ProviderSettings;
    try {
      settings = validateProviderSettings(raw);
    } catch (error) {
      if (error instanceof ProviderSettingsError) throw new ConfigError(`socialProviders[${index}].${error.field}`, error.reason);
      throw error;
    }
    const first = seen.get(settings.id);
    if (first !== undefined) throw new ConfigError(`socialProviders[${index}].id`, `"${settings.id}" is also declared by socialProviders[${first}]`);
    seen.set(settings.id, index);
    if (typeof secret !== 'string' || secret === '') throw new ConfigError(`socialProviders[${index}].client_secret_env`, 'names an empty variable');
    return { ...settings, source: 'config', clientSecret: secret };
  });
}
