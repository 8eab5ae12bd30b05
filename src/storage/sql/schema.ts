/**
 * Table shapes as Kysely sees them. Times are integer milliseconds since the epoch
 * (`bigint` in PostgreSQL, read back as numbers), booleans are nullable timestamps
 * (`email_verified_at`), lists are JSON text — the same on every dialect.
 */
import type { ColumnType } from 'kysely';

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
  /** Migration 0009 (docs/audit.md): who acted, the client, the request; MAC by the writer; chain position and hash by the sealer. */
  actor_id: string | null;
  client_id: string | null;
  request_id: string | null;
  mac: string | null;
  seq: number | null;
  chain_hash: string | null;
}

/** The chain head (one row, id 1) and the point the retained chain starts from after a prune. */
export interface AuditChainTable {
  id: number;
  seq: number;
  hash: string;
  legacy_through_seq: number;
  pruned_through_seq: number;
  pruned_hash: string;
  updated_at: number;
}

/** Signed checkpoints: the chain hash at `seq`, signed with an audit key (Ed25519). */
export interface AuditCheckpointsTable {
  seq: number;
  hash: string;
  at: number;
  kid: string;
  signature: string;
}

/** Checkpoint signing keys, private JWK sealed under the master key (`audit-keys`). */
export interface AuditKeysTable {
  kid: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  created_at: number;
  retired_at: number | null;
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
  /** OpenID Connect Back-Channel Logout 1.0 (migration 0010; defaults, so rows written before it need neither). */
  backchannel_logout_uri: ColumnType<string | null, string | null | undefined, string | null>;
  backchannel_logout_session_required: ColumnType<number, number | undefined, number>;
  /** RFC 9126 §6 (migration 0012; default 0). */
  require_pushed_authorization_requests: ColumnType<number, number | undefined, number>;
  /** RFC 7591 §2 branding (migration 0015): null = none. */
  logo_uri: ColumnType<string | null, string | null | undefined, string | null>;
  client_uri: ColumnType<string | null, string | null | undefined, string | null>;
  policy_uri: ColumnType<string | null, string | null | undefined, string | null>;
  tos_uri: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON list of email addresses. */
  contacts: ColumnType<string, string | undefined, string>;
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
  /** RFC 9449 §5: the DPoP key (RFC 7638 thumbprint) a public client's refresh tokens are bound to (migration 0013). */
  jkt?: string | null;
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
  audit_chain: AuditChainTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_keys: AuditKeysTable;
  signing_keys: SigningKeysTable;
  clients: ClientsTable;
  grants: GrantsTable;
  refresh_tokens: RefreshTokensTable;
  revocations: RevocationsTable;
  consents: ConsentsTable;
  identity_providers: IdentityProvidersTable;
  user_identities: UserIdentitiesTable;
  mfa_factors: MfaFactorsTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  backchannel_sessions: BackchannelSessionsTable;
  roles: RolesTable;
  initial_access_tokens: InitialAccessTokensTable;
  client_registrations: ClientRegistrationsTable;
  branding_settings: BrandingSettingsTable;
}

/** Admin-edited branding text settings over the config (ui/theme/settings.ts); `updated_at` in ms. */
export interface BrandingSettingsTable {
  key: string;
  value: string;
  updated_at: number;
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

/** A second factor (migration 0008): `totp` (secret sealed) or `passkey` (a WebAuthn credential). */
export interface MfaFactorsTable {
  id: string;
  user_id: string;
  kind: string;
  name: string;
  secret_sealed: string | null;
  /** base64url credential id (passkeys). */
  credential_id: string | null;
  /** base64url COSE public key (passkeys). */
  public_key: string | null;
  sign_count: number;
  /** JSON array of WebAuthn transports. */
  transports: string | null;
  /** `singleDevice` or `multiDevice` (synced passkey). */
  device_type: string | null;
  created_at: number;
  last_used_at: number | null;
}

/** One recovery code of a user: only its SHA-256; `used_at` set once, atomically. */
export interface MfaRecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

/** A webhook endpoint (migration 0010; src/features/webhooks). */
export interface WebhookSubscriptionsTable {
  id: string;
  url: string;
  description: string | null;
  /** JSON array of webhook event types. */
  event_types: string;
  /** The `whsec_` signing secret, sealed under the master key (crypto/seal.ts). */
  secret_sealed: string;
  enabled: number;
  source: string;
  created_at: number;
  updated_at: number;
}

/** The outbox shared by webhooks and back-channel logout: one row per event and destination. */
export interface WebhookDeliveriesTable {
  id: string;
  /** `webhook` or `backchannel-logout`. */
  kind: string;
  subscription_id: string | null;
  client_id: string | null;
  /** `webhook-id` (the same on every retry). */
  event_id: string;
  event_type: string;
  payload: string;
  /** `pending`, `delivered` or `dead`. */
  status: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  claimed_by: string | null;
  claimed_until: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  completed_at: number | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** A client that received an ID token for a session (it gets a logout token when the session ends). */
export interface BackchannelSessionsTable {
  session_id: string;
  client_id: string;
  user_id: string;
  created_at: number;
}

/** The role catalog (migration 0011): permission strings as a JSON list. */
export interface RolesTable {
  name: string;
  description: string | null;
  permissions: string;
  created_at: number;
  updated_at: number;
}

/** An initial access token for dynamic registration (RFC 7591 §3): only its SHA-256. */
export interface InitialAccessTokensTable {
  id: string;
  token_hash: string;
  expires_at: number;
  /** null: unlimited until it expires. */
  uses_left: number | null;
  created_by: string | null;
  created_at: number;
}

/** A dynamically registered client: its registration access token's SHA-256 (RFC 7592). */
export interface ClientRegistrationsTable {
  client_id: string;
  token_hash: string;
  /** JSON: accepted RFC 7591 metadata without a column in `clients`. */
  metadata: string;
  created_at: number;
  updated_at: number;
}
