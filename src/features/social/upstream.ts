import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { apiError, type ApiError } from '../../errors/catalog.ts';
import { callbackUrl, type Provider } from './providers.ts';
import { parseCompactJWS, parseObject } from '../../../packages/middleware/src/compact-jws.ts';

/**
 * Gatehouse as the OAuth client of an upstream provider, through `openid-client` (the field's
 * certified relying-party library) rather than hand-written protocol code. It does discovery,
 * PKCE S256, state, nonce, the RFC 9207 `iss` check and the ID-token claim checks (`iss`, `aud`,
 * `azp`, `exp`, `nonce`, `sub`); `enableNonRepudiationChecks` adds the signature check against
 * that provider's JWKS with its one configured algorithm (SEC-OAUTH-33). On top we refuse an
 * ID token issued in the future and metadata whose issuer is not the configured one.
 */

/** The user as the upstream describes them. */
export interface UpstreamProfile {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** The upstream tokens, only handed on when the provider keeps them. */
  tokens: { access_token: string; refresh_token?: string; expires_at?: number } | undefined;
}

/** What a login transaction must remember between the redirect and the callback. */
export interface UpstreamChecks {
  state: string;
  nonce: string | undefined;
  codeVerifier: string;
}

/** A refused callback: `reason` goes to the audit log (a fixed code), `error` to the page. */
export class UpstreamRefusal extends Error {
  readonly reason: string;
  readonly error: ApiError;
  constructor(reason: string, error: ApiError) {
    super(reason);
    this.name = 'UpstreamRefusal';
    this.reason = reason;
    this.error = error;
  }
}

const DISCOVERY_TTL_MS = 60 * 60_000;
const CLOCK_SKEW_SECONDS = 60;
const TIMEOUT_SECONDS = 10;

export function createUpstreamClient(options: { publicUrl: string; now: () => number }) {
  const cache = new Map<string, { config: client.Configuration; at: number }>();

  async function configuration(provider: Provider): Promise<client.Configuration> {
    const key = cacheKey(provider);
    const hit = cache.get(key);
    if (hit && options.now() - hit.at < DISCOVERY_TTL_MS) return hit.config;
    const config = await build(provider);
    config.timeout = TIMEOUT_SECONDS;
    cache.set(key, { config, at: options.now() });
    return config;
  }

  async function build(provider: Provider): Promise<client.Configuration> {
    const auth = provider.token_endpoint_auth_method === 'client_secret_post' ? client.ClientSecretPost(provider.clientSecret) : client.ClientSecretBasic(provider.clientSecret);
    const insecure = usesPlainHttp(provider);
    if (provider.type === 'oidc') {
      const server = new URL(provider.discovery_url ?? provider.issuer);
      let config: client.Configuration;
      try {
        config = await client.discovery(server, provider.client_id, { id_token_signed_response_alg: provider.id_token_signed_response_alg }, auth, {
          timeout: TIMEOUT_SECONDS,
          ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
        });
      } catch (error) {
        if (isUnreachable(error)) throw unavailable(provider, 'discovery unreachable');
        throw new UpstreamRefusal('metadata-invalid', unavailable(provider, 'discovery refused').error);
      }
      // SEC-OAUTH-32: metadata naming another issuer is never used.
      if (config.serverMetadata().issuer !== provider.issuer) throw new UpstreamRefusal('metadata-issuer-mismatch', unavailable(provider, 'metadata issuer mismatch').error);
      client.enableNonRepudiationChecks(config);
      return config;
    }
    const metadata: client.ServerMetadata = {
      issuer: provider.issuer,
      authorization_endpoint: provider.authorization_endpoint!,
      token_endpoint: provider.token_endpoint!,
      ...(provider.userinfo_endpoint ? { userinfo_endpoint: provider.userinfo_endpoint } : {}),
    };
    const config = new client.Configuration(metadata, provider.client_id, {}, auth);
    if (insecure) client.allowInsecureRequests(config);
    return config;
  }

  return {
    /**
     * The origin the browser is sent to, for the CSP `form-action` of pages whose forms start a
     * flow (browsers check a form's redirects against it). Known after the first discovery; the
     * issuer's origin until then (the same origin for Google and most providers).
     */
    authorizationOrigin(provider: Provider): string {
      const endpoint = cache.get(cacheKey(provider))?.config.serverMetadata().authorization_endpoint ?? provider.authorization_endpoint ?? provider.issuer;
      return new URL(endpoint).origin;
    },

    /** The upstream authorization URL and the checks to keep in the transaction. */
    async begin(provider: Provider): Promise<{ url: URL; checks: UpstreamChecks }> {
      const config = await configuration(provider);
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = provider.type === 'oidc' ? client.randomNonce() : undefined;
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: callbackUrl(options.publicUrl, provider.id),
        scope: provider.scopes.join(' '),
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        ...(nonce ? { nonce } : {}),
      });
      return { url, checks: { state, nonce, codeVerifier } };
    },

    /**
     * Redeems the code of a callback whose transaction was already matched, and returns the
     * validated profile. `query` is the callback's raw query string.
     */
    async finish(provider: Provider, query: string, checks: UpstreamChecks): Promise<UpstreamProfile> {
      const config = await configuration(provider);
      const current = new URL(`${callbackUrl(options.publicUrl, provider.id)}?${query}`);
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          ...(checks.nonce ? { expectedNonce: checks.nonce } : {}),
          idTokenExpected: provider.type === 'oidc',
        });
      } catch (error) {
        throw classify(provider, error);
      }
      const kept = provider.store_tokens
        ? { access_token: tokens.access_token, ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}), ...(tokens.expires_in ? { expires_at: Math.floor(options.now() / 1000) + tokens.expires_in } : {}) }
        : undefined;
      if (provider.type === 'oidc') return oidcProfile(config, provider, tokens, kept);
      return oauth2Profile(config, provider, tokens.access_token, kept);
    },
  };

  async function oidcProfile(config: client.Configuration, provider: Provider, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, kept: UpstreamProfile['tokens']): Promise<UpstreamProfile> {
    const claims = tokens.claims();
    if (!claims || typeof tokens.id_token !== 'string') throw refusal(provider, 'id-token-missing');
    // SEC-JWT-13: openid-client reads the JOSE header and claims with JSON.parse (last member wins);
    // an upstream ID token naming a member twice is refused, as on every JWT surface of ours.
    if (!strictlyReadable(tokens.id_token)) throw refusal(provider, 'id-token-duplicate-member');
    // openid-client checks exp and a too-old iat; an iat in the future is ours to refuse.
    if (typeof claims.iat !== 'number' || claims.iat > options.now() / 1000 + CLOCK_SKEW_SECONDS) throw refusal(provider, 'id-token-iat');
    let email = typeof claims.email === 'string' ? claims.email : null;
    let emailVerified = email !== null && claims.email_verified === true;
    let name = typeof claims.name === 'string' ? claims.name : null;
    if (email === null && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        email = typeof info.email === 'string' ? info.email : null;
        emailVerified = email !== null && info.email_verified === true;
        name ??= typeof info.name === 'string' ? info.name : null;
      } catch (error) {
        throw classify(provider, error);
      }
    }
    return { issuer: provider.issuer, subject: claims.sub, email, emailVerified, name, tokens: kept };
  }

  async function oauth2Profile(config: client.Configuration, provider: Provider, accessToken: string, kept: UpstreamProfile['tokens']): Promise<UpstreamProfile> {
    const mapping = provider.claims ?? { subject: 'sub' };
    const info = await fetchJson(config, provider, accessToken, provider.userinfo_endpoint!);
    if (info === null || typeof info !== 'object' || Array.isArray(info)) throw refusal(provider, 'userinfo-invalid');
    const record = info as Record<string, unknown>;
    const rawSubject = record[mapping.subject];
    const subject = typeof rawSubject === 'string' && rawSubject !== '' ? rawSubject : Number.isSafeInteger(rawSubject) ? String(rawSubject) : undefined;
    if (subject === undefined || subject.length > 255) throw refusal(provider, 'userinfo-subject');
    const pick = (name: string | undefined): unknown => (name === undefined ? undefined : record[name]);
    let email = typeof pick(mapping.email) === 'string' ? (pick(mapping.email) as string) : null;
    let emailVerified = email !== null && pick(mapping.email_verified) === true;
    if (provider.emails_endpoint) {
      // GitHub-style: the address list says which one is primary and whether it is verified.
      const list = await fetchJson(config, provider, accessToken, provider.emails_endpoint);
      const primary = Array.isArray(list) ? list.find((item): item is { email: string; verified?: unknown } => item !== null && typeof item === 'object' && (item as Record<string, unknown>).primary === true && typeof (item as Record<string, unknown>).email === 'string') : undefined;
      if (primary) {
        email = primary.email;
        emailVerified = primary.verified === true;
      }
    }
    const name = typeof pick(mapping.name) === 'string' ? (pick(mapping.name) as string) : null;
    return { issuer: provider.issuer, subject, email, emailVerified, name, tokens: kept };
  }

  async function fetchJson(config: client.Configuration, provider: Provider, accessToken: string, url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await client.fetchProtectedResource(config, accessToken, new URL(url), 'GET', undefined, new Headers({ accept: 'application/json', 'user-agent': 'Gatehouse' }));
    } catch (error) {
      throw classify(provider, error);
    }
    if (!response.ok) throw refusal(provider, `userinfo-status-${response.status}`);
    try {
      return await response.json();
    } catch {
      throw refusal(provider, 'userinfo-not-json');
    }
  }
}

export type UpstreamClient = ReturnType<typeof createUpstreamClient>;

/** The public failure page for a callback that did not verify; the reason is for the audit log only. */
export function refusal(provider: Provider, reason: string): UpstreamRefusal {
  return new UpstreamRefusal(reason, apiError('access_denied', `The sign-in with ${provider.name} could not be verified, so it was refused. Start again from the sign-in page.`, { detail: reason }));
}

function unavailable(provider: Provider, reason: string): UpstreamRefusal {
  return new UpstreamRefusal(reason, apiError('upstream_unavailable', `${provider.name} cannot be reached right now. Try again in a moment, or sign in another way.`, { detail: reason }));
}

/** Network trouble (502) or a response that did not verify (refusal), with a fixed reason code. */
function classify(provider: Provider, error: unknown): UpstreamRefusal {
  if (error instanceof UpstreamRefusal) return error;
  if (isUnreachable(error)) return unavailable(provider, 'unreachable');
  if (error instanceof client.AuthorizationResponseError) {
    const code = error.error === 'access_denied' ? 'cancelled' : 'authorization-error';
    return new UpstreamRefusal(code, apiError('access_denied', code === 'cancelled' ? `The sign-in with ${provider.name} was cancelled.` : `${provider.name} did not sign you in. Start again from the sign-in page.`, { detail: code }));
  }
  const code = (error as { code?: unknown }).code;
  return refusal(provider, typeof code === 'string' ? code.toLowerCase().slice(0, 60) : 'invalid-response');
}

function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = (error as { cause?: unknown }).cause;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return true;
  return cause instanceof Error && cause !== error && isUnreachable(cause);
}

function usesPlainHttp(provider: Provider): boolean {
  return [provider.issuer, provider.discovery_url, provider.authorization_endpoint, provider.token_endpoint, provider.userinfo_endpoint, provider.emails_endpoint].some((url) => url?.startsWith('http:'));
}

/** A changed setting or secret (admin API) must not reuse a cached configuration. */
function cacheKey(provider: Provider): string {
  const { clientSecret, source: _source, ...settings } = provider;
  return createHash('sha256').update(JSON.stringify(settings)).update('\0').update(clientSecret).digest('base64url');
}

/** True when `token`'s header and claims read as JSON objects with no member named twice. */
function strictlyReadable(token: string): boolean {
  const jws = parseCompactJWS(token, 16_384);
  return typeof jws !== 'string' && parseObject(jws.header) !== undefined && parseObject(jws.payload) !== undefined;
}

