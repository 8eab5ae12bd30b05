import { isQuotable } from './failures.ts';
import type { Algorithm, AuthenticatorOptions, KitEvent, WhenRevocationsUnavailable } from './types.ts';

/** A misconfiguration found by `createAuthenticator`; `key` names the option to fix. */
export class KitConfigError extends Error {
  override name = 'KitConfigError';
  readonly key: string;
  constructor(key: string, message: string) {
    super(`@gatehouse/middleware: option ${key}: ${message}`);
    this.key = key;
  }
}

export const ALGORITHMS: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256'];
const MAX_LEEWAY_SECONDS = 60;
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface Settings {
  issuer: string;
  audiences: ReadonlySet<string>;
  serverUrl: string;
  realm: string;
  algorithms: ReadonlySet<string>;
  leewaySeconds: number;
  maxLifetimeSeconds: number;
  maxTokenLength: number;
  jwks: { url: string; cooldownMs: number; minCacheMs: number; maxCacheMs: number };
  verifiedTokenCacheSize: number;
  requestTimeoutMs: number;
  session: { cookieName: string; cacheMs: number; scopes: readonly string[] } | undefined;
  revocations:
    | {
        clientId: string;
        clientSecret: string;
        graceMs: number;
        whenUnavailable: WhenRevocationsUnavailable;
        initialDelayMs: number;
        maxDelayMs: number;
        idleTimeoutMs: number;
        introspectionCacheMs: number;
      }
    | undefined;
  dpop: { windowSeconds: number; replayCacheSize: number; origin: string | undefined; nonce: { secret: string | undefined } | undefined };
  onEvent: (event: KitEvent) => void;
  now: () => number;
}

function integer(key: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen < min || chosen > max) throw new KitConfigError(key, `must be an integer from ${min} to ${max} (got ${String(value)})`);
  return chosen;
}

function text(key: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new KitConfigError(key, 'must be a non-empty string');
  return value;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function serverUrlOf(options: AuthenticatorOptions): string {
  const raw = text(options.serverUrl === undefined ? 'issuer' : 'serverUrl', options.serverUrl ?? options.issuer);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new KitConfigError(options.serverUrl === undefined ? 'issuer' : 'serverUrl', `is not a URL: ${raw}`);
  }
  if (url.search || url.hash || url.username || url.password) throw new KitConfigError('serverUrl', 'must not carry a query, fragment or credentials');
  const insecure = url.protocol === 'http:' && !isLoopback(url.hostname) && options.allowInsecureHttp !== true;
  if (url.protocol !== 'https:' && (url.protocol !== 'http:' || insecure)) {
    throw new KitConfigError('serverUrl', `must be https:// (http:// is allowed for loopback, or with allowInsecureHttp: true): ${raw}`);
  }
  return raw.replace(/\/+$/, '');
}

/** Checks every option and fills in the defaults; throws `KitConfigError` naming the option. */
export function resolveOptions(options: AuthenticatorOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new KitConfigError('options', 'must be an object');
  const issuer = text('issuer', options.issuer);
  const audienceList = typeof options.audience === 'string' ? [options.audience] : Array.isArray(options.audience) ? [...(options.audience as readonly string[])] : [];
  if (audienceList.length === 0 || !audienceList.every((value) => typeof value === 'string' && value.length > 0)) {
    throw new KitConfigError('audience', 'must name this resource server (a non-empty string or list of strings)');
  }
  const realm = options.realm ?? 'gatehouse';
  if (typeof realm !== 'string' || !isQuotable(realm)) throw new KitConfigError('realm', 'must be printable ASCII without " or \\');
  const algorithms = options.algorithms ?? ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every((alg) => ALGORITHMS.includes(alg))) {
    throw new KitConfigError('algorithms', `must be a non-empty list of ${ALGORITHMS.join(', ')}`);
  }
  const serverUrl = serverUrlOf(options);

  let session: Settings['session'];
  if (options.session !== false) {
    const given = options.session ?? {};
    const cookieName = given.cookieName ?? '__Host-gatehouse';
    if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) throw new KitConfigError('session.cookieName', 'must be a cookie name');
    const scopes = given.scopes ?? [];
    if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && scope.length > 0)) throw new KitConfigError('session.scopes', 'must be a list of scope names');
    session = { cookieName, cacheMs: integer('session.cacheMs', given.cacheMs, 1000, 0, 300_000), scopes: Object.freeze([...scopes]) };
  }

  let revocations: Settings['revocations'];
  if (options.revocations === undefined) {
    throw new KitConfigError('revocations', 'is required: the credentials of a confidential client to follow the revocation stream, or false to accept tokens until they expire');
  }
  if (options.revocations !== false) {
    const given = options.revocations;
    const whenUnavailable = given.whenUnavailable ?? 'fail-closed';
    if (whenUnavailable !== 'fail-closed' && whenUnavailable !== 'introspect') throw new KitConfigError('revocations.whenUnavailable', 'must be "fail-closed" or "introspect"');
    const initialDelayMs = integer('revocations.reconnect.initialDelayMs', given.reconnect?.initialDelayMs, 1000, 10, 600_000);
    revocations = {
      clientId: text('revocations.clientId', given.clientId),
      clientSecret: text('revocations.clientSecret', given.clientSecret),
      graceMs: integer('revocations.graceMs', given.graceMs, 10_000, 0, 3_600_000),
      whenUnavailable,
      initialDelayMs,
      maxDelayMs: integer('revocations.reconnect.maxDelayMs', given.reconnect?.maxDelayMs, Math.max(30_000, initialDelayMs), initialDelayMs, 3_600_000),
      idleTimeoutMs: integer('revocations.idleTimeoutMs', given.idleTimeoutMs, 45_000, 100, 3_600_000),
      introspectionCacheMs: integer('revocations.introspectionCacheMs', given.introspectionCacheMs, 1000, 0, 60_000),
    };
  }

  let dpopOrigin: string | undefined;
  if (options.dpop?.origin !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(text('dpop.origin', options.dpop.origin));
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== options.dpop.origin.replace(/\/+$/, '')) throw new KitConfigError('dpop.origin', 'must be scheme://host[:port] only, e.g. https://api.example');
    dpopOrigin = url.origin;
  }
  const requireNonce = options.dpop?.requireNonce ?? false;
  if (typeof requireNonce !== 'boolean') throw new KitConfigError('dpop.requireNonce', 'must be true or false');
  const nonceSecret = options.dpop?.nonceSecret;
  if (nonceSecret !== undefined) {
    if (!requireNonce) throw new KitConfigError('dpop.nonceSecret', 'is used only with dpop.requireNonce: true');
    if (typeof nonceSecret !== 'string' || nonceSecret.length < 32) throw new KitConfigError('dpop.nonceSecret', 'must be a string of at least 32 characters (the same on every instance of this API)');
  }
  const dpop = {
    windowSeconds: integer('dpop.windowSeconds', options.dpop?.windowSeconds, 30, 10, 300),
    replayCacheSize: integer('dpop.replayCacheSize', options.dpop?.replayCacheSize, 10_000, 100, 10_000_000),
    origin: dpopOrigin,
    nonce: requireNonce ? { secret: nonceSecret } : undefined,
  };

  const minCacheSeconds = integer('jwks.minCacheSeconds', options.jwks?.minCacheSeconds, 30, 0, 86_400);
  return {
    issuer,
    audiences: new Set(audienceList),
    serverUrl,
    realm,
    algorithms: new Set(algorithms),
    leewaySeconds: integer('clockToleranceSeconds', options.clockToleranceSeconds, 30, 0, MAX_LEEWAY_SECONDS),
    maxLifetimeSeconds: integer('maxTokenLifetimeSeconds', options.maxTokenLifetimeSeconds, 7 * 86_400, 1, 366 * 86_400),
    maxTokenLength: integer('maxTokenLength', options.maxTokenLength, 8192, 256, 65_536),
    jwks: {
      url: `${serverUrl}/.well-known/jwks.json`,
      cooldownMs: integer('jwks.cooldownSeconds', options.jwks?.cooldownSeconds, 30, 0, 3600) * 1000,
      minCacheMs: minCacheSeconds * 1000,
      maxCacheMs: integer('jwks.maxCacheSeconds', options.jwks?.maxCacheSeconds, 3600, minCacheSeconds, 86_400) * 1000,
    },
    verifiedTokenCacheSize: integer('verifiedTokenCacheSize', options.verifiedTokenCacheSize, 1000, 0, 1_000_000),
    requestTimeoutMs: integer('requestTimeoutMs', options.requestTimeoutMs, 5000, 100, 120_000),
    session,
    revocations,
    dpop,
    onEvent: options.onEvent ?? (() => {}),
    now: options.now ?? Date.now,
  };
}
