import type { Insertable, Kysely, Selectable } from 'kysely';
import { preparedQuery } from '../../storage/sql/prepared-query.ts';
import { stringList } from '../../storage/sql/columns.ts';
import type { ClientsTable, DatabaseSchema } from '../../storage/sql/schema.ts';
import type { Client, ClientSource, ClientType, GrantType, TokenEndpointAuthMethod } from './model.ts';

const CLIENT_COLUMNS = [
  'client_id', 'name', 'type', 'token_endpoint_auth_method', 'secret_hash', 'previous_secret_hash', 'previous_secret_expires_at', 'jwks', 'grant_types',
  'redirect_uris', 'post_logout_redirect_uris', 'scopes', 'audiences', 'access_token_ttl_seconds', 'refresh_token_idle_ttl_seconds',
  'refresh_token_absolute_ttl_seconds', 'first_party', 'source', 'created_at', 'updated_at', 'backchannel_logout_uri', 'backchannel_logout_session_required',
  'require_pushed_authorization_requests', 'logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'contacts',
] as const satisfies readonly (keyof ClientsTable)[];
// Every column of the table is listed (a new column fails the type check here).
const EVERY_CLIENT_COLUMN: [Exclude<keyof ClientsTable, (typeof CLIENT_COLUMNS)[number]>] extends [never] ? true : false = true;
void EVERY_CLIENT_COLUMN;

/**
 * The clients feature's storage port. `get` and `list` return the public view; only `find`
 * returns the secret hashes, for client authentication and the registry.
 */
export interface ClientStore {
  get(clientId: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  /** The client with its secret hashes (internal: authentication and rotation). */
  find(clientId: string): Promise<StoredClient | undefined>;
  /** Inserts; false when the client_id is taken (no exception, no race). */
  insert(stored: StoredClient): Promise<boolean>;
  /** Replaces metadata and secrets (not `createdAt`); false when the client does not exist. */
  update(stored: StoredClient): Promise<boolean>;
  /**
   * Installs a new secret hash in one statement; the current hash becomes the previous one,
   * accepted until `previousExpiresAt` (null: not at all). False when the client does not exist.
   */
  rotateSecret(clientId: string, secretHash: string, previousExpiresAt: number | null, at: number): Promise<boolean>;
  /** Deletes the client; its grants and their refresh tokens go with it (foreign keys). */
  delete(clientId: string): Promise<boolean>;
  /** Calls `listener` after every successful change made through this store (caches evict on it). */
  onChange(listener: (clientId: string) => void): () => void;
}

/** Only SHA-256 hashes of secrets (base64url), never the secrets. */
export interface ClientSecrets {
  secretHash: string | null;
  previousSecretHash: string | null;
  previousSecretExpiresAt: number | null;
}

export interface StoredClient {
  client: Client;
  secrets: ClientSecrets;
}

export const NO_SECRETS: ClientSecrets = Object.freeze({ secretHash: null, previousSecretHash: null, previousSecretExpiresAt: null });

export function createClientStore(db: Kysely<DatabaseSchema>): ClientStore {
  // Client authentication looks a client up on every back-channel request: compiled once.
  // Columns named (never `*`): on PostgreSQL this is a named prepared statement, whose cached plan
  // must not change its result columns when a later migration adds one.
  const byId = preparedQuery<Selectable<ClientsTable>, [string]>(db, 1, (clientId) => db.selectFrom('clients').select(CLIENT_COLUMNS).where('client_id', '=', clientId!));
  const listeners = new Set<(clientId: string) => void>();
  const changed = (clientId: string, happened: boolean): boolean => {
    if (happened) for (const listener of listeners) listener(clientId);
    return happened;
  };
  return {
    get: async (clientId) => {
      const row = (await byId([clientId])).rows[0];
      return row ? fromRow(row) : undefined;
    },
    list: async () => {
      const rows = await db.selectFrom('clients').selectAll().orderBy('created_at', 'asc').orderBy('client_id', 'asc').execute();
      return rows.map(fromRow);
    },
    find: async (clientId) => {
      const row = (await byId([clientId])).rows[0];
      if (!row) return undefined;
      return {
        client: fromRow(row),
        secrets: {
          secretHash: row.secret_hash,
          previousSecretHash: row.previous_secret_hash,
          previousSecretExpiresAt: row.previous_secret_expires_at === null ? null : Number(row.previous_secret_expires_at),
        },
      };
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    insert: async (stored) => {
      const row = await db
        .insertInto('clients')
        .values(toRow(stored))
        .onConflict((conflict) => conflict.column('client_id').doNothing())
        .returning('client_id')
        .executeTakeFirst();
      return changed(stored.client.clientId, row !== undefined);
    },
    update: async (stored) => {
      const { client_id: clientId, created_at: _createdAt, ...values } = toRow(stored);
      const result = await db.updateTable('clients').set(values).where('client_id', '=', clientId).executeTakeFirst();
      return changed(clientId, Number(result.numUpdatedRows) > 0);
    },
    rotateSecret: async (clientId, secretHash, previousExpiresAt, at) => {
      const result = await db
        .updateTable('clients')
        .set((eb) => ({
          previous_secret_hash: previousExpiresAt === null ? null : eb.ref('secret_hash'),
          previous_secret_expires_at: previousExpiresAt,
          secret_hash: secretHash,
          updated_at: at,
        }))
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return changed(clientId, Number(result.numUpdatedRows) > 0);
    },
    delete: async (clientId) => {
      const result = await db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
      return changed(clientId, Number(result.numDeletedRows) > 0);
    },
  };
}

function toRow({ client, secrets }: StoredClient): Insertable<ClientsTable> {
  return {
    client_id: client.clientId,
    name: client.name,
    type: client.type,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    secret_hash: secrets.secretHash,
    previous_secret_hash: secrets.previousSecretHash,
    previous_secret_expires_at: secrets.previousSecretExpiresAt,
    jwks: client.jwks === null ? null : JSON.stringify(client.jwks),
    grant_types: JSON.stringify(client.grantTypes),
    redirect_uris: JSON.stringify(client.redirectUris),
    post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
    scopes: JSON.stringify(client.scopes),
    audiences: JSON.stringify(client.audiences),
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
    refresh_token_idle_ttl_seconds: client.refreshTokenIdleTtlSeconds,
    refresh_token_absolute_ttl_seconds: client.refreshTokenAbsoluteTtlSeconds,
    first_party: client.firstParty ? 1 : 0,
    source: client.source,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
    backchannel_logout_uri: client.backchannelLogoutUri,
    backchannel_logout_session_required: client.backchannelLogoutSessionRequired ? 1 : 0,
    require_pushed_authorization_requests: client.requirePushedAuthorizationRequests ? 1 : 0,
    logo_uri: client.logoUri,
    client_uri: client.clientUri,
    policy_uri: client.policyUri,
    tos_uri: client.tosUri,
    contacts: JSON.stringify(client.contacts),
  };
}

function fromRow(row: Selectable<ClientsTable>): Client {
  return {
    clientId: row.client_id,
    name: row.name,
    type: row.type as ClientType,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    grantTypes: stringList(row.grant_types) as GrantType[],
    redirectUris: stringList(row.redirect_uris),
    postLogoutRedirectUris: stringList(row.post_logout_redirect_uris),
    scopes: stringList(row.scopes),
    audiences: stringList(row.audiences),
    accessTokenTtlSeconds: optionalNumber(row.access_token_ttl_seconds),
    refreshTokenIdleTtlSeconds: optionalNumber(row.refresh_token_idle_ttl_seconds),
    refreshTokenAbsoluteTtlSeconds: optionalNumber(row.refresh_token_absolute_ttl_seconds),
    firstParty: Number(row.first_party) === 1,
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as { keys: Record<string, unknown>[] }),
    backchannelLogoutUri: row.backchannel_logout_uri,
    backchannelLogoutSessionRequired: Number(row.backchannel_logout_session_required) === 1,
    requirePushedAuthorizationRequests: Number(row.require_pushed_authorization_requests) === 1,
    logoUri: row.logo_uri ?? null,
    clientUri: row.client_uri ?? null,
    policyUri: row.policy_uri ?? null,
    tosUri: row.tos_uri ?? null,
    contacts: stringList(row.contacts),
    source: row.source as ClientSource,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function optionalNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}
