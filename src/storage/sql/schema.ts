/**
 * Table shapes as Kysely sees them. Times are integer milliseconds since the epoch
 * (`bigint` in PostgreSQL, read back as numbers), booleans are nullable timestamps
 * (`email_verified_at`), lists are JSON text — the same on every dialect.
 */

export interface UsersTable {
  id: string;
  email: string;
  email_verified_at: number | null;
  name: string | null;
  password_hash: string | null;
  roles: string;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  auth_methods: string;
  auth_time: number;
}

export interface OneTimeTokensTable {
  token_hash: string;
  purpose: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface AuditEventsTable {
  id: string;
  at: number;
  type: string;
  outcome: string;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  created_at: number;
  /** Published from creation; signs only from this time (JWKS caches must have seen it). */
  activates_at: number;
  retired_at: number | null;
  /** Unpublished after this time (every token it signed has expired). */
  remove_after: number | null;
}

export interface ClientsTable {
  client_id: string;
  name: string;
  type: string;
  token_endpoint_auth_method: string;
  secret_hash: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  jwks: string | null;
  grant_types: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  scopes: string;
  audiences: string;
  access_token_ttl_seconds: number | null;
  refresh_token_idle_ttl_seconds: number | null;
  refresh_token_absolute_ttl_seconds: number | null;
  first_party: number;
  source: string;
  created_at: number;
  updated_at: number;
}

export interface GrantsTable {
  id: string;
  client_id: string;
  user_id: string | null;
  session_id: string | null;
  scope: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface RefreshTokensTable {
  id: string;
  token_hash: string;
  grant_id: string;
  scope: string;
  created_at: number;
  idle_expires_at: number;
  rotated_at: number | null;
  successor_id: string | null;
  successor_token_encrypted: string | null;
  /** The access token minted with the rotation (and its scope and audience), sealed: a retry's answer (SEC-REL-03). */
  successor_access_token_encrypted: string | null;
  successor_access_token_expires_at: number | null;
}

export interface RevocationsTable {
  kind: string;
  value: string;
  revoked_at: number;
  expires_at: number;
}

export interface ConsentsTable {
  user_id: string;
  client_id: string;
  /** JSON array of the scopes consented to. */
  scopes: string;
  granted_at: number;
  updated_at: number;
}

export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  one_time_tokens: OneTimeTokensTable;
  audit_events: AuditEventsTable;
  signing_keys: SigningKeysTable;
  clients: ClientsTable;
  grants: GrantsTable;
  refresh_tokens: RefreshTokensTable;
  revocations: RevocationsTable;
  consents: ConsentsTable;
  identity_providers: IdentityProvidersTable;
  user_identities: UserIdentitiesTable;
}

export interface IdentityProvidersTable {
  id: string;
  /** JSON of the provider's settings, without its client secret. */
  settings: string;
  /** The upstream client secret, sealed under the master key (crypto/seal.ts). */
  client_secret_sealed: string | null;
  created_at: number;
  updated_at: number;
}

export interface UserIdentitiesTable {
  id: string;
  user_id: string;
  provider_id: string;
  issuer: string;
  subject: string;
  email: string | null;
  email_verified: number;
  /** Upstream access/refresh tokens when the provider keeps them, sealed; never shown. */
  tokens_sealed: string | null;
  linked_at: number;
  last_used_at: number;
}
