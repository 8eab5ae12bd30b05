import type { AuthFailure } from './failures.ts';

/** Algorithms the kit can verify (Gatehouse signs with one of them). */
export type Algorithm = 'ES256' | 'EdDSA' | 'RS256';

/** Who made the request, as established by the kit. Frozen: handlers cannot change it. */
export interface Principal {
  /** `client` for client-credentials tokens (`sub` is `client:<client_id>`), otherwise `user`. */
  readonly kind: 'user' | 'client';
  /** The token's `sub`, or the session's user id. */
  readonly subject: string;
  /** Granted scopes (the token's `scope`; for sessions, the configured `session.scopes`). */
  readonly scopes: readonly string[];
  /** The user's roles (`roles` claim, or the session's user). */
  readonly roles: readonly string[];
  /** The permission strings the user's roles grant (`permissions` claim, or the session's user; Gatehouse's role catalog). */
  readonly permissions: readonly string[];
  /** The Gatehouse session the token or cookie belongs to, where there is one. */
  readonly sessionId?: string;
  /** The OAuth client the token was issued to; null for a browser session cookie. */
  readonly clientId: string | null;
  /** When the credential stops being valid, in milliseconds since the epoch. */
  readonly expiresAt: number;
  /** How the request authenticated: `dpop` for a DPoP-bound token presented with its proof (RFC 9449). */
  readonly via: 'bearer' | 'dpop' | 'session';
  /** `act.sub` of an exchanged token (RFC 8693): who acts for the subject. */
  readonly actor?: string;
  /** The access token's `jti` (bearer only): for logs and audit, never a secret. */
  readonly tokenId?: string;
  /** The user as Gatehouse describes it (session cookies only). */
  readonly user?: { readonly id: string; readonly email: string; readonly name: string | null; readonly emailVerified: boolean };
}

export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

/**
 * Request headers: Node's `IncomingHttpHeaders` (lower-case names, as Express and Fastify give
 * them) or a WHATWG `Headers` object (as Hono and fetch give them).
 */
export type HeadersInput = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What happens to bearer tokens once the revocation stream has been down longer than `graceMs`. */
export type WhenRevocationsUnavailable = 'fail-closed' | 'introspect';

export interface RevocationOptions {
  /** A confidential client registered at Gatehouse for this resource server. */
  clientId: string;
  clientSecret: string;
  /**
   * How long bearer tokens are still accepted on local checks alone after the stream went
   * down (revocations made meanwhile arrive on reconnect, via `Last-Event-ID`). Default 10 000.
   */
  graceMs?: number;
  /** After the grace: refuse bearer tokens with 503 (default), or ask `/oauth/introspect` per token. */
  whenUnavailable?: WhenRevocationsUnavailable;
  /** Reconnect backoff: doubles from `initialDelayMs` (1000) up to `maxDelayMs` (30 000), with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** A stream silent for this long (the server sends a heartbeat every 15 s) is reconnected. Default 45 000. */
  idleTimeoutMs?: number;
  /** How long an introspection answer is reused, per token id. Default 1000. */
  introspectionCacheMs?: number;
}

export interface SessionOptions {
  /** The Gatehouse session cookie (`GATEHOUSE_SESSION_COOKIE_NAME`). Default `__Host-gatehouse`. */
  cookieName?: string;
  /** How long a validated (or refused) cookie is remembered. Default 1000 ms. */
  cacheMs?: number;
  /** Scopes a browser session holds at this resource server (sessions carry none). Default []. */
  scopes?: readonly string[];
}

/** Something operators may want in their logs; never carries a token, cookie or secret. */
export interface KitEvent {
  type:
    | 'jwks-refreshed'
    | 'jwks-failed'
    | 'revocations-connected'
    | 'revocations-synced'
    | 'revocations-down'
    | 'revocations-refused'
    | 'introspection-failed'
    | 'session-check-failed';
  detail?: string;
}

export interface AuthenticatorOptions {
  /** The expected `iss`: Gatehouse's `GATEHOUSE_PUBLIC_URL`, compared exactly. */
  issuer: string;
  /** This resource server's identifier(s): a token's `aud` must contain at least one. */
  audience: string | readonly string[];
  /**
   * Revocation stream credentials and policy, or `false` to accept every validly signed,
   * unexpired token until it expires (no revocation). Required so the choice is explicit.
   */
  revocations: RevocationOptions | false;
  /** Session cookies validated through Gatehouse (default on), or `false` for bearer tokens only. */
  session?: SessionOptions | false;
  /** Where the kit reaches Gatehouse (JWKS, sessions, stream, introspection). Default: `issuer`. */
  serverUrl?: string;
  /** Allow `http://` to a host other than loopback (e.g. a private network). Default false. */
  allowInsecureHttp?: boolean;
  /** `realm` of the `WWW-Authenticate` challenge. Default `gatehouse`. */
  realm?: string;
  /** Accepted signing algorithms. Default all three Gatehouse can use. */
  algorithms?: readonly Algorithm[];
  /** Clock-skew leeway for `exp`, `nbf`, `iat`, 0 … 60 s. Default 30. */
  clockToleranceSeconds?: number;
  /** Longest `exp − iat` accepted. Default 7 days (Gatehouse's upper bound). */
  maxTokenLifetimeSeconds?: number;
  /** Longest token accepted, in characters. Default 8192. */
  maxTokenLength?: number;
  /** JWKS cache: refetch on an unknown `kid` at most once per `cooldownSeconds` (30). */
  jwks?: { cooldownSeconds?: number; minCacheSeconds?: number; maxCacheSeconds?: number };
  /**
   * How many verified tokens to remember (exact token text → principal), so a token that comes
   * again skips the signature check; expiry, key removal and revocation are still checked on
   * every request. 0 turns it off. Default 1000.
   */
  verifiedTokenCacheSize?: number;
  /** Timeout of each call to Gatehouse. Default 5000 ms. */
  requestTimeoutMs?: number;
  /** Told about connection changes and failures (for operators' logs). */
  onEvent?: (event: KitEvent) => void;
  /**
   * DPoP-bound tokens (RFC 9449 §7), always checked: a token with `cnf.jkt` is accepted only as
   * `Authorization: DPoP` with a proof of its key for this request. `windowSeconds` (30, 10…300):
   * how far a proof's `iat` may be from now; `replayCacheSize` (10 000): proofs' `jti` remembered
   * per process; `origin`: the public scheme://host[:port] of this API when a proxy changes it.
   * `requireNonce` (false): RFC 9449 §9 server nonces — a proof without a current nonce is
   * answered 401 `use_dpop_nonce` with a fresh `DPoP-Nonce` header (stateless: HMAC over a
   * 5-minute slot, the previous slot still accepted); `nonceSecret` (≥ 32 characters) keys them —
   * give every instance of the API the same one (default: random per process).
   */
  dpop?: { windowSeconds?: number; replayCacheSize?: number; origin?: string; requireNonce?: boolean; nonceSecret?: string };
  /** The clock (ms since the epoch). Tests freeze it. */
  now?: () => number;
}

/** The request a DPoP proof is checked against (adapters pass it; see `Authenticator.authenticate`). */
export interface RequestTarget {
  /** `GET`, `POST` … as received. */
  method: string;
  /** The absolute URL the client addressed (query and fragment are ignored). */
  url: string;
}

/** The framework-free core. */
export interface Authenticator {
  /** The principal of a request, or why it is refused. Never throws, never calls Gatehouse for a known-good bearer token. */
  authenticate(headers: HeadersInput, request?: RequestTarget): Promise<AuthResult>;
  /** Whether `principal` satisfies `guard`; the failure to answer otherwise. */
  authorize(principal: Principal, guard: Guard): AuthFailure | undefined;
  /** The failure for a request without credentials (for adapters' guards). */
  readonly unauthenticated: AuthFailure;
  /**
   * Resolves once the keys are loaded and (with revocations) the stream has delivered its
   * backlog. Rejects after `timeoutMs` (default 10 000) or when Gatehouse refuses the credentials.
   */
  ready(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops the stream and timers. */
  close(): Promise<void>;
}

/** A requirement on a principal: every scope in `scopes`, one of `anyRole` when not empty, and every one of `permissions`. */
export interface Guard {
  readonly scopes: readonly string[];
  readonly anyRole: readonly string[];
  readonly permissions?: readonly string[];
}
