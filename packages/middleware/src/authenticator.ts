import { nonceFailure, tokenFailure, type AuthFailure, type FailureCode } from './failures.ts';
import { authorize } from './guards.ts';
import { createIntrospector, type Introspector } from './introspection.ts';
import { createKeySet, type VerificationKey } from './jwks.ts';
import { resolveOptions } from './options.ts';
import { createRevocationFollower, type RevocationFollower } from './revocations.ts';
import { createSessionValidator, type SessionValidator } from './sessions.ts';
import { header, readCredentials } from './credentials.ts';
import { createDPoPChecker } from './dpop-binding.ts';
import type { AuthenticatorOptions, AuthResult, Authenticator, HeadersInput, Principal, RequestTarget } from './types.ts';
import { checkTimes, verifyAccessToken, type AccessTokenClaims, type HeaderCheck } from './verify-jwt.ts';

interface CachedToken {
  key: VerificationKey;
  claims: AccessTokenClaims;
  result: AuthResult & { ok: true };
}

function principalOf(claims: AccessTokenClaims): Principal {
  return Object.freeze({
    kind: claims.sub.startsWith('client:') ? 'client' : 'user',
    subject: claims.sub,
    scopes: Object.freeze([...claims.scopes]),
    roles: Object.freeze([...claims.roles]),
    permissions: Object.freeze([...claims.permissions]),
    ...(claims.sid !== undefined ? { sessionId: claims.sid } : {}),
    clientId: claims.clientId,
    expiresAt: claims.exp * 1000,
    via: claims.jkt !== undefined ? 'dpop' : 'bearer',
    tokenId: claims.jti,
    ...(claims.actor !== undefined ? { actor: claims.actor } : {}),
  });
}

/**
 * The resource-server kit's core: one `authenticate(headers)` for bearer JWTs and Gatehouse
 * session cookies, with revocations followed from the server's stream. Framework-free; the
 * Express, Fastify and Hono adapters are thin layers over it.
 *
 * For a bearer token the pipeline is: read credentials → verify the JWT locally (JWKS) →
 * refuse what the revocation stream revoked → when the stream has been down past its grace,
 * fail closed or introspect. No call to Gatehouse per request while the stream is live.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const settings = resolveOptions(options);
  const { realm, now, onEvent } = settings;
  const failures = new Map<FailureCode, AuthFailure>();
  const fail = (code: FailureCode): AuthFailure => {
    let answer = failures.get(code);
    if (!answer) failures.set(code, (answer = tokenFailure(realm, code)));
    return answer;
  };
  const rules = {
    issuer: settings.issuer,
    audiences: settings.audiences,
    algorithms: settings.algorithms,
    leewaySeconds: settings.leewaySeconds,
    maxLifetimeSeconds: settings.maxLifetimeSeconds,
    maxTokenLength: settings.maxTokenLength,
  };
  const keys = createKeySet({ ...settings.jwks, algorithms: settings.algorithms, timeoutMs: settings.requestTimeoutMs, now, onEvent });
  const headerCache = new Map<string, HeaderCheck>();
  const verified = new Map<string, CachedToken>();
  const dpop = createDPoPChecker(settings.dpop, now);

  let follower: RevocationFollower | undefined;
  let introspector: Introspector | undefined;
  const revocations = settings.revocations;
  if (revocations) {
    follower = createRevocationFollower({ ...revocations, url: `${settings.serverUrl}/api/revocations/stream`, now, onEvent });
    if (revocations.whenUnavailable === 'introspect') {
      introspector = createIntrospector({ url: `${settings.serverUrl}/oauth/introspect`, clientId: revocations.clientId, clientSecret: revocations.clientSecret, cacheMs: revocations.introspectionCacheMs, timeoutMs: settings.requestTimeoutMs, now, onEvent });
    }
  }
  let sessions: SessionValidator | undefined;
  if (settings.session) {
    sessions = createSessionValidator({ ...settings.session, serverUrl: settings.serverUrl, timeoutMs: settings.requestTimeoutMs, now, onEvent, sessionRevoked: (id) => follower?.list.sessionRevoked(id) ?? false });
  }

  /** Revocation: the stream's list first; then, if the stream is down past its grace, the policy. */
  async function notRevoked(token: string, claims: AccessTokenClaims): Promise<FailureCode | undefined> {
    if (!follower) return undefined;
    if (follower.list.covers({ jti: claims.jti, gid: claims.gid, sid: claims.sid, clientId: claims.clientId, iat: claims.iat })) return 'revoked';
    if (follower.status() !== 'unavailable') return undefined;
    if (!introspector) return 'revocations_unavailable';
    const verdict = await introspector.check(token, claims.jti);
    return verdict === 'active' ? undefined : verdict === 'inactive' ? 'inactive' : 'revocations_unavailable';
  }

  async function bearer(token: string, scheme: 'bearer' | 'dpop', headers: HeadersInput, target: RequestTarget | undefined): Promise<AuthResult> {
    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    let entry = verified.get(token);
    // A remembered token still needs its key published and its times valid.
    if (entry && (keys.current(entry.key.kid) !== entry.key || checkTimes(entry.claims.exp, entry.claims.iat, undefined, nowSeconds, rules))) {
      verified.delete(token);
      entry = undefined;
    }
    if (!entry) {
      const outcome = await verifyAccessToken(token, rules, keys, nowSeconds, headerCache);
      if (!outcome.ok) return fail(outcome.code);
      entry = { key: outcome.key, claims: outcome.claims, result: Object.freeze({ ok: true as const, principal: principalOf(outcome.claims) }) };
      if (settings.verifiedTokenCacheSize > 0) {
        if (verified.size >= settings.verifiedTokenCacheSize) verified.delete(verified.keys().next().value as string);
        verified.set(token, entry);
      }
    }
    // RFC 9449 §7: a bound token only with the DPoP scheme and a proof of its key for this
    // request; the DPoP scheme only with a bound token (a stolen token is useless without the key).
    const { jkt } = entry.claims;
    if (jkt === undefined) {
      if (scheme === 'dpop') return fail('dpop_unbound');
    } else {
      if (scheme !== 'dpop') return fail('dpop_required');
      const refused = dpop.check(header(headers, 'dpop'), target, token, jkt);
      if (refused === 'dpop_nonce_required') return nonceFailure(realm, dpop.nonce()!);
      if (refused) return fail(refused);
    }
    const revoked = await notRevoked(token, entry.claims);
    return revoked ? fail(revoked) : entry.result;
  }

  async function session(cookieValue: string): Promise<AuthResult> {
    const outcome = await sessions!.validate(cookieValue);
    return typeof outcome === 'string' ? fail(outcome) : { ok: true, principal: outcome };
  }

  return {
    async authenticate(headers, target) {
      let credentials;
      try {
        credentials = readCredentials(headers, settings.session?.cookieName);
      } catch {
        return fail('malformed_authorization');
      }
      switch (credentials.kind) {
        case 'bearer':
        case 'dpop':
          return bearer(credentials.token, credentials.kind, headers, target);
        case 'cookie':
          return session(credentials.value);
        case 'malformed':
          return fail('malformed_authorization');
        default:
          return fail('missing_credentials');
      }
    },
    authorize: (principal, guard) => authorize(realm, principal, guard),
    get unauthenticated() {
      return fail('missing_credentials');
    },
    async ready(readyOptions = {}) {
      const timeoutMs = readyOptions.timeoutMs ?? 10_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`@gatehouse/middleware: not ready after ${timeoutMs} ms (JWKS ${settings.jwks.url}${follower ? ', revocation stream' : ''})`)), timeoutMs);
        timer.unref();
      });
      try {
        await Promise.race([Promise.all([keys.loaded(), follower?.synced()]), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      keys.close();
      await follower?.close();
    },
  };
}
