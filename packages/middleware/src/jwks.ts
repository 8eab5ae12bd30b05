import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isRecord, requestJSON } from './http.ts';
import type { Algorithm, KitEvent } from './types.ts';

/** A published verification key, imported once and bound to its one algorithm (RFC 8725 §3.1). */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: Algorithm;
  /** Exact signature length for `alg` with this key (raw R‖S for ECDSA, RFC 7518 §3.4). */
  readonly signatureLength: number;
  /** The signature check itself: node:crypto, synchronous, no allocation beyond the call. */
  readonly verify: (data: Buffer, signature: Buffer) => boolean;
}

export interface KeySet {
  /** The key published under `kid` now (no fetch). */
  current(kid: string): VerificationKey | undefined;
  /** The key for `kid`, refetching the JWKS on an unknown kid at most once per cooldown. */
  resolve(kid: string): Promise<VerificationKey | 'unknown' | 'unavailable'>;
  /** Resolves after the first successful fetch. */
  loaded(): Promise<void>;
  close(): void;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_JWKS_BYTES = 512 * 1024;
const MAX_KID_LENGTH = 256;

function algorithmOf(jwk: Record<string, unknown>): Algorithm | undefined {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'RS256';
  return undefined;
}

/**
 * Imports one JWK, or undefined when it is not a public signing key usable with one allowed
 * algorithm: no private or symmetric members, `use` absent or `sig`, `alg` (when present) the
 * one its type and curve imply, RSA of at least 2048 bits (SEC-JWT-19).
 */
export function importVerificationKey(jwk: unknown, algorithms: ReadonlySet<string>): VerificationKey | undefined {
  if (!isRecord(jwk)) return undefined;
  const kid = jwk.kid;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) return undefined;
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))) return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined;
  const alg = algorithmOf(jwk);
  if (!alg || (jwk.alg !== undefined && jwk.alg !== alg) || !algorithms.has(alg)) return undefined;
  const material = alg === 'RS256' ? { kty: 'RSA', n: jwk.n, e: jwk.e } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(alg === 'ES256' ? { y: jwk.y } : {}) };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: material as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (alg === 'ES256') {
    if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1') return undefined;
    const options = { key, dsaEncoding: 'ieee-p1363' as const };
    return Object.freeze({ kid, alg, signatureLength: 64, verify: (data: Buffer, signature: Buffer) => verify('sha256', data, options, signature) });
  }
  if (alg === 'EdDSA') {
    if (key.asymmetricKeyType !== 'ed25519') return undefined;
    return Object.freeze({ kid, alg, signatureLength: 64, verify: (data: Buffer, signature: Buffer) => verify(null, data, key, signature) });
  }
  if (key.asymmetricKeyType !== 'rsa' || (details.modulusLength ?? 0) < 2048) return undefined;
  return Object.freeze({ kid, alg, signatureLength: Math.ceil((details.modulusLength ?? 0) / 8), verify: (data: Buffer, signature: Buffer) => verify('sha256', data, key, signature) });
}

/** Every usable key of a JWKS document by kid; a kid published twice is used for neither. */
export function parseJWKS(document: unknown, algorithms: ReadonlySet<string>): Map<string, VerificationKey> | undefined {
  if (!isRecord(document) || !Array.isArray(document.keys)) return undefined;
  const keys = new Map<string, VerificationKey>();
  const duplicates = new Set<string>();
  for (const jwk of document.keys) {
    const key = importVerificationKey(jwk, algorithms);
    if (!key) continue;
    if (keys.has(key.kid)) duplicates.add(key.kid);
    keys.set(key.kid, key);
  }
  for (const kid of duplicates) keys.delete(kid);
  return keys;
}

/** `max-age` of a Cache-Control header, in ms, or undefined. */
function maxAgeMs(header: string | null): number | undefined {
  const match = header ? /(?:^|,)\s*max-age=(\d{1,9})\s*(?:,|$)/i.exec(header) : null;
  return match ? Number(match[1]) * 1000 : undefined;
}

/**
 * The server's JWKS, fetched at start, refreshed in the background when its `Cache-Control`
 * max-age runs out (clamped to [minCacheMs, maxCacheMs]) and on an unknown `kid` — at most once
 * per `cooldownMs`, however many unknown kids arrive (SEC-JWT-05: a kid flood costs one fetch).
 * A failed fetch keeps the last good key set and retries with backoff.
 */
export function createKeySet(deps: {
  url: string;
  algorithms: ReadonlySet<string>;
  cooldownMs: number;
  minCacheMs: number;
  maxCacheMs: number;
  timeoutMs: number;
  now: () => number;
  onEvent: (event: KitEvent) => void;
}): KeySet {
  let keys = new Map<string, VerificationKey>();
  let everLoaded = false;
  let lastFetchAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const stop = new AbortController();
  let failures = 0;
  let resolveLoaded: () => void = () => {};
  const loaded = new Promise<void>((resolve) => (resolveLoaded = resolve));

  function schedule(delayMs: number): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), delayMs);
    timer.unref();
  }

  async function fetchOnce(): Promise<void> {
    lastFetchAt = deps.now();
    try {
      const response = await requestJSON(deps.url, { headers: { accept: 'application/jwk-set+json, application/json' }, timeoutMs: deps.timeoutMs, maxBytes: MAX_JWKS_BYTES, signal: stop.signal });
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      const parsed = parseJWKS(response.body, deps.algorithms);
      if (!parsed) throw new Error('not a JWK Set');
      keys = parsed;
      failures = 0;
      if (!everLoaded) {
        everLoaded = true;
        resolveLoaded();
      }
      deps.onEvent({ type: 'jwks-refreshed', detail: `${parsed.size} keys` });
      const age = maxAgeMs(response.headers.get('cache-control')) ?? deps.minCacheMs;
      schedule(Math.min(deps.maxCacheMs, Math.max(deps.minCacheMs, age, 1000)));
    } catch (error) {
      if (closed) return;
      failures++;
      deps.onEvent({ type: 'jwks-failed', detail: error instanceof Error ? error.message : 'fetch failed' });
      schedule(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
    }
  }

  function refresh(): Promise<void> {
    if (closed) return Promise.resolve();
    inFlight ??= fetchOnce().finally(() => (inFlight = undefined));
    return inFlight;
  }

  void refresh();

  return {
    current: (kid) => keys.get(kid),
    async resolve(kid) {
      const known = keys.get(kid);
      if (known) return known;
      if (inFlight) await inFlight;
      else if (deps.now() - lastFetchAt >= deps.cooldownMs) await refresh();
      return keys.get(kid) ?? (everLoaded ? 'unknown' : 'unavailable');
    },
    loaded: () => loaded,
    close() {
      closed = true;
      stop.abort();
      if (timer) clearTimeout(timer);
    },
  };
}
