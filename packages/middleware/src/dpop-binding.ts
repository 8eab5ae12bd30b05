import { replayKey, verifyDPoPProof } from './dpop.ts';
import { createDPoPNonces } from './dpop-nonces.ts';
import type { FailureCode } from './failures.ts';

/** The request a DPoP proof must be for: its method and the absolute URL the client addressed. */
export interface RequestTarget {
  method: string;
  url: string;
}

export interface DPoPSettings {
  windowSeconds: number;
  replayCacheSize: number;
  /** Replaces the scheme, host and port of every request URL (behind a proxy: the public origin). */
  origin: string | undefined;
  /** RFC 9449 §9: proofs must carry a nonce this kit issued (`DPoP-Nonce`); undefined: no nonces. */
  nonce: { secret: string | undefined } | undefined;
}

/**
 * The kit's check of a DPoP-bound access token (RFC 9449 §7): exactly one `DPoP` header, a proof
 * for this method and URL, with `ath` of this token, signed by the key the token names in
 * `cnf.jkt`, its `iat` inside the window, and its `jti` not seen before — remembered per process
 * in a bounded cache (oldest evicted first) for as long as the proof could pass the iat check.
 */
export function createDPoPChecker(settings: DPoPSettings, now: () => number) {
  const seen = new Map<string, number>();
  const ttlMs = (2 * settings.windowSeconds + 5) * 1000;
  const nonces = settings.nonce ? createDPoPNonces({ secret: settings.nonce.secret, now }) : undefined;

  function remember(key: string, at: number): boolean {
    const until = seen.get(key);
    if (until !== undefined && until > at) return false;
    if (seen.size >= settings.replayCacheSize) {
      for (const [name, expires] of seen) {
        if (expires <= at) seen.delete(name);
        else break; // insertion order is expiry order: the rest are younger
      }
      if (seen.size >= settings.replayCacheSize) seen.delete(seen.keys().next().value as string);
    }
    seen.delete(key);
    seen.set(key, at + ttlMs);
    return true;
  }

  function urlOf(target: RequestTarget): string {
    if (!settings.origin) return target.url;
    try {
      const url = new URL(target.url, settings.origin);
      return `${settings.origin}${url.pathname}`;
    } catch {
      return target.url;
    }
  }

  return {
    /** The nonce to send with a `use_dpop_nonce` answer; undefined when nonces are off. */
    nonce: (): string | undefined => nonces?.current(),
    check(proof: string | readonly string[] | null | undefined, target: RequestTarget | undefined, accessToken: string, jkt: string): FailureCode | undefined {
      // Adapters pass the request; a caller of the core that does not cannot have a bound token checked.
      if (!target) return 'dpop_no_request';
      if (proof === undefined || proof === null) return 'dpop_proof_missing';
      if (typeof proof !== 'string' || proof.includes(',')) return 'dpop_proof_invalid';
      const at = now();
      const verified = verifyDPoPProof(proof, { method: target.method, url: urlOf(target), accessToken, nowSeconds: Math.floor(at / 1000), windowSeconds: settings.windowSeconds });
      if (!verified.ok) return verified.code === 'dpop_stale' ? 'dpop_proof_stale' : 'dpop_proof_invalid';
      if (verified.jkt !== jkt) return 'dpop_key_mismatch';
      // §9: without a current nonce the client is told to retry with one (its jti is not spent).
      if (nonces && (verified.nonce === undefined || !nonces.valid(verified.nonce))) return 'dpop_nonce_required';
      if (!remember(replayKey(verified.jkt, verified.jti), at)) return 'dpop_replayed';
      return undefined;
    },
  };
}

export type DPoPChecker = ReturnType<typeof createDPoPChecker>;
