import type { Kysely } from 'kysely';
import { apiError } from '../../errors/catalog.ts';
import { hashSecret, randomToken } from '../../crypto/random.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import type { AuditEventType, AuditLog } from '../audit/audit-log.ts';
import { clientMetadata, usesSecret, type Client, type ClientMetadata, type ClientSource } from './model.ts';
import { NO_SECRETS, type ClientSecrets, type ClientStore, type StoredClient } from './store.ts';
import { checkDeclaredSecretHash, ClientMetadataError, validateClientMetadata, type ClientSettings, type ValidationOptions } from './validation.ts';

/**
 * The client registry: the one place clients are created, changed and deleted — by the admin
 * API, the CLI and the config file alike — with one validation and one audit trail.
 * Secrets are generated here (256 bits), returned once, and stored only as SHA-256.
 */
export interface ClientRegistry {
  create(metadata: ClientMetadata, options?: ChangeOptions & { source?: Exclude<ClientSource, 'config'> }): Promise<RegisteredClient>;
  list(): Promise<Client[]>;
  get(clientId: string): Promise<Client | undefined>;
  /** PATCH semantics: fields present in `patch` replace the current ones, the result is validated whole. */
  update(clientId: string, patch: ClientMetadata, options?: ChangeOptions): Promise<RegisteredClient>;
  /** A new secret, returned once; the old one keeps working for `gracePeriodSeconds` (default 0). */
  rotateSecret(clientId: string, options?: ChangeOptions & { gracePeriodSeconds?: number }): Promise<{ client: Client; clientSecret: string }>;
  /** Deletes the client; its grants and refresh tokens go with it. */
  delete(clientId: string, options?: ChangeOptions): Promise<void>;
  /** Creates or brings up to date a client declared in the config file; a no-op when nothing differs. */
  upsertDeclared(entry: DeclaredClient): Promise<'created' | 'updated' | 'unchanged'>;
  /** The registry's validation of complete metadata, without a change (dynamic registration, the config file). */
  check(metadata: Readonly<Record<string, unknown>>): ClientSettings;
}

/** Who made a change, for the audit trail. */
export interface ClientActor {
  userId?: string | null;
  /** The acting admin for the audit's `actor_id`: a user id or `client:<client_id>`. */
  actorId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export interface ChangeOptions {
  actor?: ClientActor;
}

export interface RegisteredClient {
  client: Client;
  /** Present only when this call generated a secret: show it once, it is not stored. */
  clientSecret?: string;
}

/** A config-file entry: metadata plus the SHA-256 (base64url) of the secret, never the secret. */
export type DeclaredClient = ClientMetadata & { client_secret_hash?: string };

/** Longest overlap of an old secret after rotation. */
export const MAX_GRACE_PERIOD_SECONDS = 30 * 86400;

export function createClientRegistry(deps: {
  store: ClientStore;
  db: Kysely<DatabaseSchema>;
  audit: AuditLog;
  now?: () => number;
  /** Runs before a client is deleted: its grants and tokens are revoked where verifiers see it. */
  beforeDelete?: (clientId: string) => Promise<void>;
  /** `development` accepts loopback http branding URLs (validation.ts); default `production`. */
  environment?: ValidationOptions['environment'];
}): ClientRegistry {
  const { store, db, audit } = deps;
  const now = deps.now ?? Date.now;
  const validationOptions: ValidationOptions = deps.environment ? { environment: deps.environment } : {};
  const validate = (metadata: Readonly<Record<string, unknown>>): ClientSettings => validateClientMetadata(metadata, validationOptions);

  async function record(type: AuditEventType, client: Client, actor: ClientActor | undefined, extra: Record<string, string> = {}): Promise<void> {
    await audit.record({
      type,
      outcome: 'success',
      userId: actor?.userId ?? null,
      actorId: actor?.actorId ?? null,
      ip: actor?.ip ?? null,
      userAgent: actor?.userAgent ?? null,
      detail: { client_id: client.clientId, source: client.source, ...extra },
    });
  }

  /** SEC-OAUTH-17: client and user identifiers must never collide (token `sub` namespaces). */
  async function refuseUserId(clientId: string): Promise<void> {
    const user = await db.selectFrom('users').select('id').where('id', '=', clientId).executeTakeFirst();
    if (user) throw new ClientMetadataError('invalid_client_metadata', 'client_id', 'is already used as a user identifier; choose another');
  }

  async function existing(clientId: string): Promise<StoredClient> {
    const found = await store.find(clientId);
    if (!found) throw apiError('not_found', 'No such client.');
    return found;
  }

  function refuseDeclared(client: Client): void {
    if (client.source === 'config') {
      throw apiError('conflict', 'This client is declared in the config file; change it there (it is re-applied at every start).');
    }
  }

  return {
    async create(metadata, options = {}) {
      const settings = validate(metadata as Readonly<Record<string, unknown>>);
      const clientId = settings.clientId ?? generateClientId();
      await refuseUserId(clientId);
      const at = now();
      const client = toClient(settings, clientId, options.source ?? 'api', at, at);
      const clientSecret = usesSecret(client.tokenEndpointAuthMethod) ? generateSecret() : undefined;
      const secrets: ClientSecrets = clientSecret === undefined ? NO_SECRETS : { ...NO_SECRETS, secretHash: hashSecret(clientSecret) };
      if (!(await store.insert({ client, secrets }))) throw apiError('conflict', 'A client with this client_id already exists.');
      await record('client-created', client, options.actor);
      return clientSecret === undefined ? { client } : { client, clientSecret };
    },

    list: () => store.list(),

    check: validate,

    get: (clientId) => store.get(clientId),

    async update(clientId, patch, options = {}) {
      const current = await existing(clientId);
      refuseDeclared(current.client);
      if (patch.client_id !== undefined && patch.client_id !== clientId) {
        throw new ClientMetadataError('invalid_client_metadata', 'client_id', 'cannot be changed; create a new client instead');
      }
      const merged: Record<string, unknown> = { ...clientMetadata(current.client) };
      for (const [name, value] of Object.entries(patch)) if (value !== undefined) merged[name] = value;
      const settings = validate(merged);
      const client = toClient(settings, clientId, current.client.source, current.client.createdAt, now());
      const fields = changedFields(current.client, client);
      if (fields.length === 0) return { client: current.client };

      // A change of authentication method: a secret method without a secret gets one (shown
      // once); any other method keeps no secret at all.
      let clientSecret: string | undefined;
      let secrets = current.secrets;
      if (!usesSecret(client.tokenEndpointAuthMethod)) secrets = NO_SECRETS;
      else if (secrets.secretHash === null) {
        clientSecret = generateSecret();
        secrets = { ...NO_SECRETS, secretHash: hashSecret(clientSecret) };
      }
      if (!(await store.update({ client, secrets }))) throw apiError('not_found', 'No such client.');
      await record('client-updated', client, options.actor, { fields: fields.join(',') });
      return clientSecret === undefined ? { client } : { client, clientSecret };
    },

    async rotateSecret(clientId, options = {}) {
      const current = await existing(clientId);
      refuseDeclared(current.client);
      if (!usesSecret(current.client.tokenEndpointAuthMethod)) {
        throw apiError('invalid_request', `This client authenticates with ${current.client.tokenEndpointAuthMethod}; it has no secret to rotate.`);
      }
      const grace = options.gracePeriodSeconds ?? 0;
      if (!Number.isSafeInteger(grace) || grace < 0 || grace > MAX_GRACE_PERIOD_SECONDS) {
        throw apiError('invalid_request', `grace_period_seconds must be a whole number from 0 to ${MAX_GRACE_PERIOD_SECONDS}.`);
      }
      const at = now();
      const clientSecret = generateSecret();
      const previousExpiresAt = grace > 0 && current.secrets.secretHash !== null ? at + grace * 1000 : null;
      if (!(await store.rotateSecret(clientId, hashSecret(clientSecret), previousExpiresAt, at))) throw apiError('not_found', 'No such client.');
      const client = { ...current.client, updatedAt: at };
      await record('client-secret-rotated', client, options.actor, { grace_period_seconds: String(grace) });
      return { client, clientSecret };
    },

    async delete(clientId, options = {}) {
      const current = await existing(clientId);
      await deps.beforeDelete?.(clientId);
      if (!(await store.delete(clientId))) throw apiError('not_found', 'No such client.');
      await record('client-deleted', current.client, options.actor);
    },

    async upsertDeclared(entry) {
      const { client_secret_hash: secretHash, ...metadata } = entry;
      const settings = validate(metadata as Readonly<Record<string, unknown>>);
      if (settings.clientId === undefined) throw new ClientMetadataError('invalid_client_metadata', 'client_id', 'is required for a client declared in the config file');
      const clientId = settings.clientId;
      const secrets: ClientSecrets = { ...NO_SECRETS, secretHash: checkDeclaredSecretHash(settings, secretHash) };
      const current = await store.find(clientId);
      const at = now();
      if (!current) {
        await refuseUserId(clientId);
        const client = toClient(settings, clientId, 'config', at, at);
        if (!(await store.insert({ client, secrets }))) throw apiError('conflict', 'A client with this client_id already exists.');
        await record('client-created', client, undefined);
        return 'created';
      }
      const client = toClient(settings, clientId, 'config', current.client.createdAt, at);
      const fields = changedFields(current.client, client);
      if (current.secrets.secretHash !== secrets.secretHash || current.secrets.previousSecretHash !== null) fields.push('client_secret_hash');
      if (current.client.source !== 'config') fields.push('source');
      if (fields.length === 0) return 'unchanged';
      await store.update({ client, secrets });
      await record('client-updated', client, undefined, { fields: fields.join(',') });
      return 'updated';
    },
  };
}

function toClient(settings: ClientSettings, clientId: string, source: ClientSource, createdAt: number, updatedAt: number): Client {
  const { clientId: _requested, ...rest } = settings;
  return { ...rest, clientId, source, createdAt, updatedAt };
}

/** The wire names of the metadata fields that differ. */
function changedFields(before: Client, after: Client): string[] {
  const left = clientMetadata(before) as Record<string, unknown>;
  const right = clientMetadata(after) as Record<string, unknown>;
  return Object.keys(right).filter((name) => JSON.stringify(left[name]) !== JSON.stringify(right[name]));
}

/** 144 random bits, url-safe; never starting with "-" (it would read as a CLI flag). */
function generateClientId(): string {
  for (;;) {
    const id = randomToken(18);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** RFC 6749 §10.10 / SEC-PWD-19: 256 bits from the CSPRNG. */
function generateSecret(): string {
  return randomToken(32);
}
