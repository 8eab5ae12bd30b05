/**
 * DPoP proofs for tests (RFC 9449 §4.2), built with `jose` — an implementation independent of
 * the one under test — and its RFC 7638 `calculateJwkThumbprint` as the reference thumbprint.
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type ProofAlg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

export interface DPoPKey {
  alg: ProofAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  /** jose's RFC 7638 thumbprint of the public key. */
  jkt: string;
}

export async function dpopKey(alg: ProofAlg = 'ES256'): Promise<DPoPKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, publicKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

export const ath = (accessToken: string): string => createHash('sha256').update(accessToken).digest('base64url');

/** A proof for `htm` `htu`; `iat` in seconds (default: now), `claims`/`header` override members (undefined removes). */
export async function proof(key: DPoPKey, options: { htm?: string; htu: string; iat?: number; jti?: string; accessToken?: string; nonce?: string; claims?: Record<string, unknown>; header?: Record<string, unknown> }): Promise<string> {
  const payload: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken !== undefined ? { ath: ath(options.accessToken) } : {}),
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    ...options.claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  const header: Record<string, unknown> = { alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...options.header };
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}
