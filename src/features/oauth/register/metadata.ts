import { apiError } from '../../../errors/catalog.ts';
import { clientMetadata, type Client, type ClientMetadata, type GrantType } from '../../clients/model.ts';
import { ClientMetadataError } from '../../clients/validation.ts';
import { SCOPES_SUPPORTED } from '../discovery/route.ts';

/**
 * RFC 7591 §2 metadata ↔ the registry's `ClientMetadata`. Only the translation and the rules
 * that exist for dynamic registration alone live here; every other rule (redirect URIs, auth
 * methods, PKCE-only public clients, jwks) is the registry's own `validateClientMetadata`
 * (SEC-OAUTH-05), run by `registry.create` / `registry.update`.
 */

/** What a self-registered client may use: never token exchange (policy-bound) or the device grant. */
export const DYNAMIC_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
const CLIENT_ASSERTION_ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
const DEFAULT_NAME = 'Unnamed application';
/** Metadata we do not support; refused rather than silently ignored, since a client relies on it. */
const UNSUPPORTED = [
  'userinfo_signed_response_alg', 'userinfo_encrypted_response_alg', 'id_token_encrypted_response_alg', 'request_object_signing_alg',
  'request_object_encryption_alg', 'request_uris', 'sector_identifier_uri', 'initiate_login_uri', 'frontchannel_logout_uri',
];

/** Accepted RFC 7591 metadata without a column in `clients` (kept in `client_registrations`). */
export interface RegistrationExtras {
  application_type: 'web' | 'native';
  token_endpoint_auth_signing_alg?: string;
}

export interface TranslatedMetadata {
  metadata: ClientMetadata;
  extras: RegistrationExtras;
}

/**
 * A complete registration (RFC 7592 §2.2 PUT is a full replacement too): every `ClientMetadata`
 * field is set, absent ones to their defaults, so `registry.update` replaces rather than merges.
 * Unknown members are ignored (RFC 7591 §2); `first_party`, `audiences` and lifetimes are never
 * taken from the wire (SEC-OIDF-18: dynamically registered clients are untrusted).
 */
export function translateRegistration(body: Readonly<Record<string, unknown>>, options: { idTokenSigningAlgorithm: string }): TranslatedMetadata {
  // RFC 7591 §3.2.2: we accept no software statements (there is no trusted issuer to check).
  if (body.software_statement !== undefined) throw apiError('invalid_software_statement', 'Software statements are not accepted by this server.');
  if (body.jwks_uri !== undefined) throw invalid('jwks_uri', 'is not accepted: the server never fetches key URLs; register the public keys in jwks');
  for (const name of UNSUPPORTED) if (body[name] !== undefined) throw invalid(name, 'is not supported by this server');

  const method = body.token_endpoint_auth_method ?? 'client_secret_basic'; // RFC 7591 §2 default
  if (typeof method !== 'string') throw invalid('token_endpoint_auth_method', 'must be a string');
  const grantTypes = body.grant_types ?? ['authorization_code'];
  if (Array.isArray(grantTypes)) {
    grantTypes.forEach((grant: unknown, index) => {
      if (typeof grant === 'string' && !(DYNAMIC_GRANT_TYPES as readonly string[]).includes(grant)) throw invalid(`grant_types[${index}]`, `must be one of ${DYNAMIC_GRANT_TYPES.join(', ')}`);
    });
  }
  const code = Array.isArray(grantTypes) && grantTypes.includes('authorization_code');
  // RFC 7591 §2.1: response_types and grant_types must agree; only `code` exists here.
  const responseTypes = body.response_types ?? (code ? ['code'] : []);
  if (!Array.isArray(responseTypes) || responseTypes.some((type) => type !== 'code')) throw invalid('response_types', 'must be ["code"] (the only response type supported)');
  if (code !== responseTypes.includes('code')) throw invalid('response_types', 'must be ["code"] exactly when grant_types has authorization_code');

  const applicationType = body.application_type ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') throw invalid('application_type', 'must be web or native');
  // OpenID Connect Registration §2: web clients redirect to https only; loopback http and
  // private-use schemes are for native apps (RFC 8252).
  if (applicationType === 'web' && Array.isArray(body.redirect_uris)) {
    body.redirect_uris.forEach((uri: unknown, index) => {
      if (typeof uri === 'string' && !uri.startsWith('https://')) throw new ClientMetadataError('invalid_redirect_uri', `redirect_uris[${index}]`, 'must be an https URI for a web application (application_type native for loopback or private-use schemes)');
    });
  }

  if (body.subject_type !== undefined && body.subject_type !== 'public') throw invalid('subject_type', 'must be public (pairwise subjects are not supported)');
  // Never `none`: ID tokens are signed with the server's one algorithm.
  if (body.id_token_signed_response_alg !== undefined && body.id_token_signed_response_alg !== options.idTokenSigningAlgorithm) {
    throw invalid('id_token_signed_response_alg', `must be ${options.idTokenSigningAlgorithm} (the server's ID token algorithm)`);
  }
  const signingAlg = body.token_endpoint_auth_signing_alg;
  if (signingAlg !== undefined) {
    if (typeof signingAlg !== 'string' || !CLIENT_ASSERTION_ALGS.includes(signingAlg)) throw invalid('token_endpoint_auth_signing_alg', `must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}`);
    if (method !== 'private_key_jwt') throw invalid('token_endpoint_auth_signing_alg', 'is used only with private_key_jwt');
  }

  const name = body.client_name ?? DEFAULT_NAME;
  const scope = body.scope ?? 'openid';
  if (typeof scope !== 'string') throw invalid('scope', 'must be a space-separated string');
  const scopes = scope.split(' ').filter((item) => item !== '');
  // Never admin:* or resource scopes: those are granted by an operator, not self-assigned.
  scopes.forEach((item) => {
    if (!SCOPES_SUPPORTED.includes(item)) throw invalid('scope', `${item} is not available to dynamically registered clients (allowed: ${SCOPES_SUPPORTED.join(' ')})`);
  });

  const metadata = {
    name,
    type: method === 'none' ? 'public' : 'confidential',
    token_endpoint_auth_method: method,
    grant_types: grantTypes,
    redirect_uris: body.redirect_uris ?? [],
    post_logout_redirect_uris: body.post_logout_redirect_uris ?? [],
    scopes,
    audiences: [],
    access_token_ttl_seconds: null,
    refresh_token_idle_ttl_seconds: null,
    refresh_token_absolute_ttl_seconds: null,
    first_party: false,
    jwks: body.jwks ?? null,
    backchannel_logout_uri: body.backchannel_logout_uri ?? null,
    backchannel_logout_session_required: body.backchannel_logout_session_required ?? false,
    require_pushed_authorization_requests: body.require_pushed_authorization_requests ?? false,
    // RFC 7591 §2 (human-readable values are not localised here: no `#lang` variants).
    logo_uri: body.logo_uri ?? null,
    client_uri: body.client_uri ?? null,
    policy_uri: body.policy_uri ?? null,
    tos_uri: body.tos_uri ?? null,
    contacts: body.contacts ?? [],
  } as unknown as ClientMetadata; // run-time types are checked by validateClientMetadata
  const extras: RegistrationExtras = { application_type: applicationType };
  if (typeof signingAlg === 'string') extras.token_endpoint_auth_signing_alg = signingAlg;
  return { metadata, extras };
}

/** The client information response (RFC 7591 §3.2.1, RFC 7592 §3) without the one-time values. */
export function registrationView(client: Client, extras: Record<string, unknown>, options: { issuer: string; idTokenSigningAlgorithm: string }): Record<string, unknown> {
  const metadata = clientMetadata(client);
  const view: Record<string, unknown> = {
    client_id: client.clientId,
    client_id_issued_at: Math.floor(client.createdAt / 1000),
    registration_client_uri: `${options.issuer}/oauth/register/${encodeURIComponent(client.clientId)}`,
    client_name: metadata.name,
    token_endpoint_auth_method: metadata.token_endpoint_auth_method,
    grant_types: metadata.grant_types,
    response_types: metadata.grant_types.includes('authorization_code') ? ['code'] : [],
    redirect_uris: metadata.redirect_uris,
    post_logout_redirect_uris: metadata.post_logout_redirect_uris,
    scope: metadata.scopes.join(' '),
    application_type: extras.application_type ?? 'web',
    subject_type: 'public',
    id_token_signed_response_alg: options.idTokenSigningAlgorithm,
    require_pushed_authorization_requests: metadata.require_pushed_authorization_requests,
  };
  if (metadata.jwks !== null) view.jwks = metadata.jwks;
  // RFC 7591 §3.2.1: the registered metadata comes back, absent members stay absent.
  for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const) if (metadata[field] !== null) view[field] = metadata[field];
  if (metadata.contacts.length > 0) view.contacts = metadata.contacts;
  if (typeof extras.token_endpoint_auth_signing_alg === 'string') view.token_endpoint_auth_signing_alg = extras.token_endpoint_auth_signing_alg;
  if (metadata.backchannel_logout_uri !== null) {
    view.backchannel_logout_uri = metadata.backchannel_logout_uri;
    view.backchannel_logout_session_required = metadata.backchannel_logout_session_required;
  }
  return view;
}

function invalid(field: string, reason: string): ClientMetadataError {
  return new ClientMetadataError('invalid_client_metadata', field, reason);
}
