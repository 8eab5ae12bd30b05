/**
 * A registered OAuth client (RFC 6749 §2) as the rest of the server sees it: metadata only,
 * never a secret. Secrets live in the store as SHA-256 hashes (style rule 6).
 */

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'urn:ietf:params:oauth:grant-type:device_code' | 'urn:ietf:params:oauth:grant-type:token-exchange';
export type ClientType = 'confidential' | 'public';
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'];
export const CLIENT_TYPES: readonly ClientType[] = ['confidential', 'public'];
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

/** Where a client was registered: the admin API, the CLI, the config file (re-applied at start), or dynamic registration (RFC 7591; never first-party). */
export type ClientSource = 'api' | 'cli' | 'config' | 'dynamic';

export interface Client {
  clientId: string;
  name: string;
  type: ClientType;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: GrantType[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: string[];
  audiences: string[];
  /** null: the server default. */
  accessTokenTtlSeconds: number | null;
  refreshTokenIdleTtlSeconds: number | null;
  refreshTokenAbsoluteTtlSeconds: number | null;
  /** First-party apps may sign users in with a password and skip consent. */
  firstParty: boolean;
  /** Public keys for `private_key_jwt` (RFC 7523); null for every other method. */
  jwks: { keys: Record<string, unknown>[] } | null;
  /** OpenID Connect Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed; null: none. */
  backchannelLogoutUri: string | null;
  /** §2.2: the client needs `sid` in logout tokens (Gatehouse always sends it). */
  backchannelLogoutSessionRequired: boolean;
  /** RFC 9126 §6: authorization requests only through `/oauth/par`. */
  requirePushedAuthorizationRequests: boolean;
  /** RFC 7591 §2 branding, shown on the sign-in and consent pages: https URLs (http only to loopback in development); null: none. */
  logoUri: string | null;
  clientUri: string | null;
  policyUri: string | null;
  tosUri: string | null;
  /** RFC 7591 §2 `contacts`: email addresses of the people responsible for the client. */
  contacts: string[];
  source: ClientSource;
  createdAt: number;
  updatedAt: number;
}

/** Methods that authenticate with a shared secret (RFC 6749 §2.3.1). */
export function usesSecret(method: TokenEndpointAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

/**
 * Client metadata as it crosses the wire — admin API, CLI flags, config file — with the same
 * snake_case names everywhere (RFC 7591 §2 where a name exists). Every member is optional here;
 * `validation.ts` decides what is required and checks the types at run time.
 */
export interface ClientMetadata {
  client_id?: string;
  name?: string;
  type?: ClientType;
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  grant_types?: GrantType[];
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  scopes?: string[];
  audiences?: string[];
  access_token_ttl_seconds?: number | null;
  refresh_token_idle_ttl_seconds?: number | null;
  refresh_token_absolute_ttl_seconds?: number | null;
  first_party?: boolean;
  jwks?: { keys: Record<string, unknown>[] } | null;
  backchannel_logout_uri?: string | null;
  backchannel_logout_session_required?: boolean;
  require_pushed_authorization_requests?: boolean;
  logo_uri?: string | null;
  client_uri?: string | null;
  policy_uri?: string | null;
  tos_uri?: string | null;
  contacts?: string[];
}

/** The wire view of a client (admin API, CLI `--json`): snake_case, times in ms since the epoch. */
export type ClientView = Required<ClientMetadata> & {
  source: ClientSource;
  created_at: number;
  updated_at: number;
};

export function clientView(client: Client): ClientView {
  return { ...clientMetadata(client), source: client.source, created_at: client.createdAt, updated_at: client.updatedAt };
}

/** The metadata of an existing client, as PATCH merges onto it. */
export function clientMetadata(client: Client): Required<ClientMetadata> {
  return {
    client_id: client.clientId,
    name: client.name,
    type: client.type,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    grant_types: [...client.grantTypes],
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    scopes: [...client.scopes],
    audiences: [...client.audiences],
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
    refresh_token_idle_ttl_seconds: client.refreshTokenIdleTtlSeconds,
    refresh_token_absolute_ttl_seconds: client.refreshTokenAbsoluteTtlSeconds,
    first_party: client.firstParty,
    jwks: client.jwks,
    backchannel_logout_uri: client.backchannelLogoutUri,
    backchannel_logout_session_required: client.backchannelLogoutSessionRequired,
    require_pushed_authorization_requests: client.requirePushedAuthorizationRequests,
    logo_uri: client.logoUri,
    client_uri: client.clientUri,
    policy_uri: client.policyUri,
    tos_uri: client.tosUri,
    contacts: [...client.contacts],
  };
}
