import { apiError, type ApiError, type ErrorCode } from '../../../errors/catalog.ts';
import type { Client } from '../../clients/model.ts';
import type { ClientStore } from '../../clients/store.ts';
import { resolveAudience } from '../../tokens/access-token.ts';

/** A validated authorization request (OAuth 2.1 §4.1.1, OIDC Core §3.1.2.1). */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Whether the request carried `redirect_uri` (then the token request must repeat it). */
  redirectUriSent: boolean;
  scope: string[];
  audience: string[];
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string;
  prompt: Set<'none' | 'login' | 'consent'>;
  maxAge: number | undefined;
  loginHint: string | undefined;
  /** `acr_values` (OIDC Core §3.1.2.1), in order of preference; undefined when not sent. */
  acrValues?: string[] | undefined;
}

/** Where an error goes: an HTML page (client or redirect URI unknown) or the client's redirect URI. */
export type AuthorizationFailure =
  | { kind: 'page'; error: ApiError }
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: ErrorCode; description: string };

type Params = Record<string, string | string[] | undefined>;

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE = 2048;
const MAX_NONCE = 512;

/**
 * The authorization endpoint's checks, in order and by name. The first two decide whether the
 * request can be answered at the client's redirect URI at all: until the client and the redirect
 * URI are known good, every error is a page and never a redirect (RFC 9700 §4.11.2, SEC-OAUTH-04).
 */
export async function validateAuthorizationRequest(params: Params, deps: { clients: ClientStore; issuer: string; pushed?: boolean; requirePushed?: (client: Client) => boolean }): Promise<{ ok: true; request: AuthorizationRequest; client: Client } | { ok: false; failure: AuthorizationFailure }> {
  const page = (error: ErrorCode, description: string) => ({ ok: false as const, failure: { kind: 'page' as const, error: apiError(error, description) } });

  // No parameter may appear twice (RFC 6749 §3.1).
  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value)) return page('invalid_request', `The parameter ${name.slice(0, 40)} appears more than once.`);
  }
  const get = (name: string): string | undefined => {
    const value = params[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };

  // 1. client
  const clientId = get('client_id');
  if (!clientId) return page('invalid_request', 'The request has no client_id.');
  const client = clientId.length <= 256 ? await deps.clients.get(clientId) : undefined;
  if (!client) return page('invalid_client', 'This application is not registered.');
  if (!client.grantTypes.includes('authorization_code')) return page('unauthorized_client', 'This application may not use the authorization endpoint.');

  // 2. redirect URI: exact string match; loopback port exception for native (public) clients only.
  const sent = get('redirect_uri');
  let redirectUri: string;
  if (sent === undefined) {
    if (client.redirectUris.length !== 1) return page('invalid_request', 'The request must name its redirect_uri.');
    redirectUri = client.redirectUris[0]!;
  } else {
    if (!redirectUriAllowed(client, sent)) return page('invalid_request', 'The redirect_uri is not registered for this application.');
    redirectUri = sent;
  }

  const state = get('state');
  if (state !== undefined && state.length > MAX_STATE) return page('invalid_request', 'The state is too long.');
  const redirect = (error: ErrorCode, description: string) => ({ ok: false as const, failure: { kind: 'redirect' as const, redirectUri, state, error, description } });

  // 3. no request objects (not offered; advertised as unsupported)
  if (get('request') !== undefined) return redirect('request_not_supported', 'Request objects are not supported.');
  if (get('request_uri') !== undefined) return redirect('request_uri_not_supported', 'request_uri is not supported.');
  // RFC 9126 §5: a client (or server) that requires pushed requests gets nothing else through
  // (a pushed request_uri was replaced by its parameters before these checks, par/resolve.ts).
  if (!deps.pushed && deps.requirePushed?.(client)) return redirect('invalid_request', 'This application must push its authorization request to /oauth/par first (RFC 9126).');

  // 4. response type: code only (no implicit, no hybrid)
  const responseType = get('response_type');
  if (responseType === undefined) return redirect('invalid_request', 'response_type is required.');
  if (responseType !== 'code') return redirect('unsupported_response_type', 'Only response_type=code is supported.');
  const responseMode = get('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') return redirect('invalid_request', 'Only response_mode=query is supported.');

  // 5. PKCE: S256 for every client
  const codeChallenge = get('code_challenge');
  const method = get('code_challenge_method');
  if (codeChallenge === undefined) return redirect('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256.');
  if (method !== 'S256') return redirect('invalid_request', 'code_challenge_method must be S256.');
  if (!CHALLENGE.test(codeChallenge)) return redirect('invalid_request', 'code_challenge must be 43 characters of base64url.');

  // 6. scope: a subset of what the client may ask for
  const requested = (get('scope') ?? '').split(' ').filter(Boolean);
  const scope = [...new Set(requested)];
  if (scope.length === 0) return redirect('invalid_scope', 'The request must name a scope.');
  if (!scope.every((value) => client.scopes.includes(value))) return redirect('invalid_scope', 'The requested scope is not allowed for this application.');

  // 7. resource (RFC 8707)
  const resource = get('resource');
  const audience = resolveAudience(client, resource ? resource.split(' ').filter(Boolean) : [], deps.issuer);
  if (!audience) return redirect('invalid_target', 'The requested resource is not allowed for this application.');

  // 8. nonce, prompt, max_age, login_hint (ui_locales: the page language, src/ui/i18n; claims_locales is ignored)
  const nonce = get('nonce');
  if (nonce !== undefined && nonce.length > MAX_NONCE) return redirect('invalid_request', 'The nonce is too long.');
  const prompt = new Set<'none' | 'login' | 'consent'>();
  for (const value of (get('prompt') ?? '').split(' ').filter(Boolean)) {
    if (value !== 'none' && value !== 'login' && value !== 'consent' && value !== 'select_account') return redirect('invalid_request', 'Unknown prompt value.');
    if (value !== 'select_account') prompt.add(value);
  }
  if (prompt.has('none') && prompt.size > 1) return redirect('invalid_request', 'prompt=none cannot be combined with other values.');
  const maxAgeText = get('max_age');
  let maxAge: number | undefined;
  if (maxAgeText !== undefined) {
    if (!/^\d{1,9}$/.test(maxAgeText)) return redirect('invalid_request', 'max_age must be a number of seconds.');
    maxAge = Number(maxAgeText);
  }
  const loginHint = get('login_hint')?.slice(0, 320);
  const acrText = get('acr_values');
  const acrValues = acrText === undefined ? undefined : acrText.slice(0, 512).split(' ').filter(Boolean).slice(0, 10);

  return {
    ok: true,
    client,
    request: { clientId: client.clientId, redirectUri, redirectUriSent: sent !== undefined, scope, audience, state, nonce, codeChallenge, prompt, maxAge, loginHint, acrValues },
  };
}

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?(\/[^?#]*)?(\?[^#]*)?$/;

/**
 * Simple string comparison with the registered list (RFC 3986 §6.2.1, OAuth 2.1 §2.3.1); the one
 * exception: a public (native) client registered with `http://127.0.0.1/…` or `http://[::1]/…`
 * may use any port there (RFC 8252 §7.3), with everything else identical.
 */
export function redirectUriAllowed(client: Client, candidate: string): boolean {
  if (client.redirectUris.includes(candidate)) return true;
  if (client.type !== 'public') return false;
  const match = LOOPBACK.exec(candidate);
  if (!match) return false;
  const withoutPort = `http://${match[1]}${match[3] ?? ''}${match[4] ?? ''}`;
  const port = match[2] ? Number(match[2].slice(1)) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) return false;
  return client.redirectUris.some((registered) => {
    const registeredMatch = LOOPBACK.exec(registered);
    if (!registeredMatch) return false;
    return `http://${registeredMatch[1]}${registeredMatch[3] ?? ''}${registeredMatch[4] ?? ''}` === withoutPort;
  });
}

/** The redirect to the client: `code` or `error`, always with `state` and `iss` (RFC 9207). */
export function clientRedirect(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}
