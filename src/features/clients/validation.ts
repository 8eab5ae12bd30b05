import { ApiError } from '../../errors/catalog.ts';
import { checkClientJWKS, type ClientJWKS } from './jwks.ts';
import { CLIENT_TYPES, GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS, usesSecret, type ClientType, type GrantType, type TokenEndpointAuthMethod } from './model.ts';
import { audienceProblem, redirectUriProblem } from './redirect-uri.ts';
import { BRANDING_URI_FIELDS, brandingUriProblem, contactProblem, MAX_CONTACTS, type BrandingRules, type BrandingUriField } from './branding.ts';

/**
 * Validation of client metadata, the same for the admin API, the CLI and the config file
 * (pure: no I/O). Every message names the field, in the wire's snake_case.
 */

/** A rejected field: `invalid_redirect_uri` for (post-logout) redirect URIs, else `invalid_client_metadata` (RFC 7591 §3.2.2). */
export class ClientMetadataError extends ApiError {
  /** The field, e.g. `redirect_uris[1]` or `jwks.keys[0].d`. */
  readonly field: string;
  /** What is wrong with it, without the field name. */
  readonly reason: string;
  constructor(code: 'invalid_redirect_uri' | 'invalid_client_metadata', field: string, reason: string) {
    super(code, `${field}: ${reason}`);
    this.name = 'ClientMetadataError';
    this.field = field;
    this.reason = reason;
  }
}

/** Validated settings: everything of a `Client` but its bookkeeping. */
export interface ClientSettings {
  /** undefined: generate one. */
  clientId: string | undefined;
  name: string;
  type: ClientType;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: GrantType[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: string[];
  audiences: string[];
  accessTokenTtlSeconds: number | null;
  refreshTokenIdleTtlSeconds: number | null;
  refreshTokenAbsoluteTtlSeconds: number | null;
  firstParty: boolean;
  jwks: ClientJWKS | null;
  backchannelLogoutUri: string | null;
  backchannelLogoutSessionRequired: boolean;
  requirePushedAuthorizationRequests: boolean;
  logoUri: string | null;
  clientUri: string | null;
  policyUri: string | null;
  tosUri: string | null;
  contacts: string[];
}

/** How strict the checks are where the deployment matters (see branding.ts). */
export interface ValidationOptions {
  /** `development`: branding URLs may be plain http to a loopback host. Default `production`. */
  environment?: 'development' | 'production';
}

export const METADATA_FIELDS = [
  'client_id',
  'name',
  'type',
  'token_endpoint_auth_method',
  'grant_types',
  'redirect_uris',
  'post_logout_redirect_uris',
  'scopes',
  'audiences',
  'access_token_ttl_seconds',
  'refresh_token_idle_ttl_seconds',
  'refresh_token_absolute_ttl_seconds',
  'first_party',
  'jwks',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'require_pushed_authorization_requests',
  'logo_uri',
  'client_uri',
  'policy_uri',
  'tos_uri',
  'contacts',
] as const;

/** Lifetimes a client may set (the server-wide maximum still applies when tokens are issued). */
export const TTL_BOUNDS = {
  access_token_ttl_seconds: [30, 7 * 86400],
  refresh_token_idle_ttl_seconds: [60, 365 * 86400],
  refresh_token_absolute_ttl_seconds: [60, 3650 * 86400],
} as const;

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;
/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const MAX_LIST = { redirect_uris: 50, post_logout_redirect_uris: 50, scopes: 100, audiences: 20 } as const;

/** The reserved prefix of client-credentials token subjects (`client:<client_id>`, SEC-OAUTH-17). */
export const RESERVED_CLIENT_ID_PREFIX = 'client:';

/** Checks a `client_id` chosen by an operator; throws `ClientMetadataError`. */
export function checkClientId(value: unknown): string {
  if (typeof value !== 'string') throw invalid('client_id', 'must be a string');
  if (value.toLowerCase().startsWith(RESERVED_CLIENT_ID_PREFIX)) throw invalid('client_id', `must not begin with "${RESERVED_CLIENT_ID_PREFIX}" (reserved for client-credentials token subjects)`);
  if (!CLIENT_ID.test(value)) throw invalid('client_id', 'must be 1 to 128 characters from A-Z a-z 0-9 . _ ~ -');
  return value;
}

/**
 * Validates complete metadata (a create, or a PATCH merged onto the current metadata) and
 * applies the defaults. Types are checked at run time: the config file is untyped JSON.
 */
export function validateClientMetadata(input: Readonly<Record<string, unknown>>, options: ValidationOptions = {}): ClientSettings {
  for (const name of Object.keys(input)) {
    if (!(METADATA_FIELDS as readonly string[]).includes(name)) throw invalid(name, 'is not a client metadata field');
  }
  const clientId = optional(input.client_id, checkClientId);
  const name = requiredString(input.name, 'name', 200);
  const type = oneOf(input.type, 'type', CLIENT_TYPES);
  if (type === undefined) throw invalid('type', 'is required: confidential or public');
  const tokenEndpointAuthMethod = oneOf(input.token_endpoint_auth_method, 'token_endpoint_auth_method', TOKEN_ENDPOINT_AUTH_METHODS) ?? (type === 'public' ? 'none' : 'client_secret_basic');
  const grantList = stringList(input.grant_types, 'grant_types', GRANT_TYPES.length) ?? ['authorization_code'];
  const grantTypes = grantList.map((grant, index) => {
    if (!(GRANT_TYPES as readonly string[]).includes(grant)) throw invalid(`grant_types[${index}]`, `must be one of ${GRANT_TYPES.join(', ')}`);
    return grant as GrantType;
  });
  if (grantTypes.length === 0) throw invalid('grant_types', 'must name at least one grant type');

  const redirectUris = uriList(input.redirect_uris, 'redirect_uris');
  const postLogoutRedirectUris = uriList(input.post_logout_redirect_uris, 'post_logout_redirect_uris');
  const scopes = stringList(input.scopes, 'scopes', MAX_LIST.scopes) ?? [];
  scopes.forEach((scope, index) => {
    if (!SCOPE_TOKEN.test(scope)) throw invalid(`scopes[${index}]`, 'must be one scope token: 1 to 128 printable ASCII characters without spaces, " or \\');
  });
  const audiences = stringList(input.audiences, 'audiences', MAX_LIST.audiences) ?? [];
  audiences.forEach((audience, index) => {
    const reason = audienceProblem(audience);
    if (reason) throw invalid(`audiences[${index}]`, reason);
  });
  const accessTokenTtlSeconds = ttl(input.access_token_ttl_seconds, 'access_token_ttl_seconds');
  const refreshTokenIdleTtlSeconds = ttl(input.refresh_token_idle_ttl_seconds, 'refresh_token_idle_ttl_seconds');
  const refreshTokenAbsoluteTtlSeconds = ttl(input.refresh_token_absolute_ttl_seconds, 'refresh_token_absolute_ttl_seconds');
  if (input.first_party !== undefined && typeof input.first_party !== 'boolean') throw invalid('first_party', 'must be true or false');
  const firstParty = input.first_party === true;

  // RFC 6749 §2.1 / OAuth 2.1 §2.1: a public client cannot keep a secret or a private key.
  if (type === 'public' && tokenEndpointAuthMethod !== 'none') throw invalid('token_endpoint_auth_method', 'must be none for a public client (it cannot keep a secret)');
  if (type === 'confidential' && tokenEndpointAuthMethod === 'none') throw invalid('token_endpoint_auth_method', 'must not be none for a confidential client: use client_secret_basic, client_secret_post or private_key_jwt');
  // OAuth 2.1 §4.2 / SEC-OAUTH-17: client credentials only for confidential clients.
  if (type === 'public' && grantTypes.includes('client_credentials')) throw invalid('grant_types', 'client_credentials is for confidential clients only');
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) throw new ClientMetadataError('invalid_redirect_uri', 'redirect_uris', 'at least one redirect URI is required for authorization_code');

  let jwks: ClientJWKS | null = null;
  if (tokenEndpointAuthMethod === 'private_key_jwt') {
    if (input.jwks === undefined || input.jwks === null) throw invalid('jwks', 'is required for private_key_jwt: the client’s public keys as {"keys": [ … ]}');
    const checked = checkClientJWKS(input.jwks);
    if ('problem' in checked) throw invalid(checked.problem.path === '' ? 'jwks' : `jwks.${checked.problem.path}`, checked.problem.reason);
    jwks = checked.jwks;
  } else if (input.jwks !== undefined && input.jwks !== null) {
    throw invalid('jwks', 'is used only with token_endpoint_auth_method private_key_jwt');
  }

  const backchannelLogoutUri = backchannelUri(input.backchannel_logout_uri);
  if (input.backchannel_logout_session_required !== undefined && typeof input.backchannel_logout_session_required !== 'boolean') throw invalid('backchannel_logout_session_required', 'must be true or false');
  const backchannelLogoutSessionRequired = input.backchannel_logout_session_required === true;
  if (input.require_pushed_authorization_requests !== undefined && typeof input.require_pushed_authorization_requests !== 'boolean') throw invalid('require_pushed_authorization_requests', 'must be true or false');
  const requirePushedAuthorizationRequests = input.require_pushed_authorization_requests === true;
  const rules: BrandingRules = { loopbackHttp: options.environment === 'development' };
  const [logoUri, clientUri, policyUri, tosUri] = BRANDING_URI_FIELDS.map((field) => brandingUri(input[field], field, rules));
  const contacts = stringList(input.contacts, 'contacts', MAX_CONTACTS) ?? [];
  contacts.forEach((contact, index) => {
    const reason = contactProblem(contact);
    if (reason) throw invalid(`contacts[${index}]`, reason);
  });

  return {
    clientId,
    name,
    type,
    tokenEndpointAuthMethod,
    grantTypes,
    redirectUris,
    postLogoutRedirectUris,
    scopes,
    audiences,
    accessTokenTtlSeconds,
    refreshTokenIdleTtlSeconds,
    refreshTokenAbsoluteTtlSeconds,
    firstParty,
    jwks,
    backchannelLogoutUri,
    backchannelLogoutSessionRequired,
    requirePushedAuthorizationRequests,
    logoUri: logoUri!,
    clientUri: clientUri!,
    policyUri: policyUri!,
    tosUri: tosUri!,
    contacts,
  };
}

/** RFC 7591 §2 `logo_uri`, `client_uri`, `policy_uri`, `tos_uri`: null or a URL a browser may open. */
function brandingUri(value: unknown, field: BrandingUriField, rules: BrandingRules): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(field, 'must be a string (or null)');
  const reason = brandingUriProblem(value, rules);
  if (reason) throw invalid(field, reason);
  return value;
}

/**
 * Back-Channel Logout 1.0 §2.2: an absolute http(s) URI without a fragment; the same rules as
 * redirect URIs (https, or http for loopback hosts). The destination's address is checked at
 * every send (src/features/webhooks/destination.ts), not here.
 */
function backchannelUri(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid('backchannel_logout_uri', 'must be a string');
  const reason = redirectUriProblem(value);
  if (reason) throw invalid('backchannel_logout_uri', reason);
  if (!/^https?:/i.test(value)) throw invalid('backchannel_logout_uri', 'must be an https URI');
  return value;
}

const SECRET_HASH = /^[A-Za-z0-9_-]{43}$/;

/**
 * The `client_secret_hash` of a config-file entry: required exactly for the secret methods, and
 * the SHA-256 of the secret in base64url without padding (what `hashSecret` stores).
 */
export function checkDeclaredSecretHash(settings: Pick<ClientSettings, 'tokenEndpointAuthMethod'>, value: unknown): string | null {
  const method = settings.tokenEndpointAuthMethod;
  if (!usesSecret(method)) {
    if (value !== undefined && value !== null) throw invalid('client_secret_hash', `is used only with client_secret_basic or client_secret_post, not ${method}`);
    return null;
  }
  if (value === undefined || value === null) throw invalid('client_secret_hash', `is required for ${method}: the SHA-256 of the secret, base64url without padding`);
  if (typeof value !== 'string' || !SECRET_HASH.test(value)) throw invalid('client_secret_hash', 'must be the SHA-256 of the secret, base64url without padding (43 characters)');
  return value;
}

function invalid(field: string, reason: string): ClientMetadataError {
  return new ClientMetadataError('invalid_client_metadata', field, reason);
}

function optional<T>(value: unknown, check: (value: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : check(value);
}

function requiredString(value: unknown, field: string, max: number): string {
  if (value === undefined || value === null) throw invalid(field, 'is required');
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.trim() === '' || value.length > max) throw invalid(field, `must be 1 to ${max} characters`);
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) throw invalid(field, 'must not contain control characters');
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, choices: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) throw invalid(field, `must be one of ${choices.join(', ')}`);
  return value as T;
}

/** A list of distinct strings, or undefined when absent. */
function stringList(value: unknown, field: string, max: number): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(field, 'must be a list of strings');
  if (value.length > max) throw invalid(field, `must have at most ${max} entries`);
  const seen = new Set<string>();
  value.forEach((item: unknown, index) => {
    if (typeof item !== 'string') throw invalid(`${field}[${index}]`, 'must be a string');
    if (seen.has(item)) throw invalid(`${field}[${index}]`, 'is listed twice');
    seen.add(item);
  });
  return [...(value as string[])];
}

function uriList(value: unknown, field: 'redirect_uris' | 'post_logout_redirect_uris'): string[] {
  try {
    const list = stringList(value, field, MAX_LIST[field]) ?? [];
    list.forEach((uri, index) => {
      const reason = redirectUriProblem(uri);
      if (reason) throw invalid(`${field}[${index}]`, reason);
    });
    return list;
  } catch (error) {
    // Every problem with a redirect URI list is `invalid_redirect_uri` (RFC 7591 §3.2.2).
    if (error instanceof ClientMetadataError) throw new ClientMetadataError('invalid_redirect_uri', error.field, error.reason);
    throw error;
  }
}

function ttl(value: unknown, field: keyof typeof TTL_BOUNDS): number | null {
  if (value === undefined || value === null) return null;
  const [min, max] = TTL_BOUNDS[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, `must be a whole number of seconds from ${min} to ${max} (or null for the server default)`);
  }
  return value;
}
