/**
 * DPoP proofs (RFC 9449 §4.3), shared by the kit and the server (the server imports it from here,
 * like compact-jws.ts). node:crypto only. A proof is read with the strict compact-JWS reader and
 * the duplicate-refusing JSON reader (SEC-JWT-13, -15, -16), its key comes only from its own `jwk`
 * header (a public key of an allowed type: no private members, no HMAC, RSA ≥ 2048 bits), and the
 * key's RFC 7638 thumbprint is what an access token's `cnf.jkt` names.
 *
 * Replay (`jti`) and server nonces need state: the caller checks them with what this returns.
 */
import { constants, createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { FORBIDDEN_HEADER_MEMBERS, parseCompactJWS, parseObject } from './compact-jws.ts';

export type DPoPAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';
export const DPOP_ALGORITHMS: readonly DPoPAlgorithm[] = Object.freeze(['ES256', 'EdDSA', 'RS256', 'PS256']);

/** Why a proof is refused: stable codes for logs and tests, never sent. */
export type DPoPFailureCode =
  | 'dpop_malformed'
  | 'dpop_wrong_typ'
  | 'dpop_algorithm_not_allowed'
  | 'dpop_forbidden_header'
  | 'dpop_bad_key'
  | 'dpop_bad_signature'
  | 'dpop_bad_claims'
  | 'dpop_wrong_method'
  | 'dpop_wrong_url'
  | 'dpop_stale'
  | 'dpop_wrong_ath'
  | 'dpop_replayed'
  | 'dpop_key_mismatch';

export interface DPoPProofCheck {
  /** The request's method (`htm`, exact). */
  method: string;
  /** The URL the client addressed; compared with `htu` without query and fragment (§4.3 step 9). */
  url: string;
  /** The access token presented with the proof: `ath` is then required (§4.3 step 10, §7). */
  accessToken?: string;
  nowSeconds: number;
  /** `iat` may be this far from now, either way (SEC-OIDF-19: ±10 s must pass). */
  windowSeconds: number;
  algorithms?: ReadonlySet<string>;
  maxLength?: number;
}

export type DPoPProofResult =
  | { ok: true; jkt: string; jti: string; iat: number; nonce: string | undefined; htu: string }
  | { ok: false; code: DPoPFailureCode };

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'r', 't'];
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const DEFAULT_ALGORITHMS: ReadonlySet<string> = new Set(DPOP_ALGORITHMS);
/** Header members other than `jwk` that pick keys or processing rules are refused (SEC-JWT-04, -12). */
const FORBIDDEN = FORBIDDEN_HEADER_MEMBERS.filter((member) => member !== 'jwk').concat(['kid']);

const refused = (code: DPoPFailureCode): DPoPProofResult => ({ ok: false, code });

function own(object: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/** Canonical unpadded base64url (one spelling per value, so one thumbprint per key). */
function isBase64url(value: unknown, maxLength = 1024): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength && SEGMENT.test(value) && Buffer.from(value, 'base64url').toString('base64url') === value;
}

interface ProofKey {
  key: KeyObject;
  /** RFC 7638 required members, in lexicographic order. */
  thumbprintInput: string;
  signatureLength: number;
}

/** The proof's `jwk`, if it is a public key usable with `alg` — never a private or symmetric key. */
function importProofKey(jwk: unknown, alg: string): ProofKey | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined;
  const record = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(record, member))) return undefined;
  const use = own(record, 'use');
  const declared = own(record, 'alg');
  if ((use !== undefined && use !== 'sig') || (declared !== undefined && declared !== alg)) return undefined;
  const kty = own(record, 'kty');
  const crv = own(record, 'crv');
  let material: JsonWebKey;
  let thumbprintInput: string;
  if (alg === 'ES256') {
    const x = own(record, 'x');
    const y = own(record, 'y');
    if (kty !== 'EC' || crv !== 'P-256' || !isBase64url(x, 43) || !isBase64url(y, 43)) return undefined;
    material = { kty, crv, x, y };
    thumbprintInput = JSON.stringify({ crv, kty, x, y });
  } else if (alg === 'EdDSA') {
    const x = own(record, 'x');
    if (kty !== 'OKP' || crv !== 'Ed25519' || !isBase64url(x, 43)) return undefined;
    material = { kty, crv, x };
    thumbprintInput = JSON.stringify({ crv, kty, x });
  } else if (alg === 'RS256' || alg === 'PS256') {
    const n = own(record, 'n');
    const e = own(record, 'e');
    if (kty !== 'RSA' || !isBase64url(n, 1366) || !isBase64url(e, 16)) return undefined;
    material = { kty, n, e };
    thumbprintInput = JSON.stringify({ e, kty, n });
  } else {
    return undefined;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: material, format: 'jwk' });
  } catch {
    return undefined;
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (alg === 'ES256') return key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1' ? { key, thumbprintInput, signatureLength: 64 } : undefined;
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519' ? { key, thumbprintInput, signatureLength: 64 } : undefined;
  const bits = details.modulusLength ?? 0;
  return key.asymmetricKeyType === 'rsa' && bits >= 2048 && bits <= 8192 ? { key, thumbprintInput, signatureLength: Math.ceil(bits / 8) } : undefined;
}

function checkSignature(alg: string, proofKey: ProofKey, data: Buffer, signature: Buffer): boolean {
  if (signature.length !== proofKey.signatureLength) return false;
  try {
    switch (alg) {
      case 'ES256':
        return verify('sha256', data, { key: proofKey.key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'EdDSA':
        return verify(null, data, proofKey.key, signature);
      case 'RS256':
        return verify('sha256', data, proofKey.key, signature);
      case 'PS256':
        // RFC 7518 §3.5: MGF1 with SHA-256, salt as long as the hash.
        return verify('sha256', data, { key: proofKey.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK of a type DPoP accepts; undefined otherwise. */
export function jwkThumbprint(jwk: unknown): string | undefined {
  const record = typeof jwk === 'object' && jwk !== null ? (jwk as Record<string, unknown>) : {};
  const kty = own(record, 'kty');
  const alg = kty === 'EC' ? 'ES256' : kty === 'OKP' ? 'EdDSA' : kty === 'RSA' ? 'RS256' : '';
  const imported = importProofKey(jwk, alg);
  return imported ? createHash('sha256').update(imported.thumbprintInput).digest('base64url') : undefined;
}

/** `ath` (§4.2): base64url SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * A URL as `htu` compares it (§4.3 step 9, RFC 3986 §6.2.2–6.2.3 via WHATWG URL: lower-case
 * scheme and host, default port dropped, dot segments removed), without query and fragment;
 * undefined for anything but an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return `${url.origin}${url.pathname}`;
}

/**
 * Verifies a DPoP proof as a pipeline of named checks: shape → header (`typ: dpop+jwt`, allowed
 * asymmetric `alg`, a public `jwk`, nothing else that picks a key) → signature (before any claim
 * is read) → claims (`jti`, `htm`, `htu`, `iat` within the window, `ath` when a token is presented).
 */
export function verifyDPoPProof(proof: string, check: DPoPProofCheck): DPoPProofResult {
  // 1. shape (SEC-JWT-15, -16, -17)
  const jws = parseCompactJWS(proof, check.maxLength ?? 8192);
  if (typeof jws === 'string') return refused('dpop_malformed');
  const header = parseObject(jws.header);
  if (!header) return refused('dpop_malformed');
  // 2. header (§4.2; SEC-JWT-01…04, -12)
  if (own(header, 'typ') !== 'dpop+jwt') return refused('dpop_wrong_typ');
  const alg = own(header, 'alg');
  if (typeof alg !== 'string' || !(check.algorithms ?? DEFAULT_ALGORITHMS).has(alg) || !DEFAULT_ALGORITHMS.has(alg)) return refused('dpop_algorithm_not_allowed');
  for (const member of FORBIDDEN) if (Object.hasOwn(header, member)) return refused('dpop_forbidden_header');
  const proofKey = importProofKey(own(header, 'jwk'), alg);
  if (!proofKey) return refused('dpop_bad_key');
  // 3. signature (SEC-JWT-06, -07)
  if (!checkSignature(alg, proofKey, Buffer.from(jws.signingInput, 'latin1'), jws.signature)) return refused('dpop_bad_signature');
  // 4. claims, as own properties only (SEC-JWT-14)
  const payload = parseObject(jws.payload);
  if (!payload) return refused('dpop_malformed');
  const jti = own(payload, 'jti');
  const htm = own(payload, 'htm');
  const htu = own(payload, 'htu');
  const iat = own(payload, 'iat');
  const ath = own(payload, 'ath');
  const nonce = own(payload, 'nonce');
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256 || !jti.isWellFormed()) return refused('dpop_bad_claims');
  if (typeof htm !== 'string' || typeof htu !== 'string' || htu.length > 2048) return refused('dpop_bad_claims');
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || iat < 0) return refused('dpop_bad_claims');
  if ((ath !== undefined && typeof ath !== 'string') || (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 512))) return refused('dpop_bad_claims');
  if (htm !== check.method) return refused('dpop_wrong_method');
  // htu carries no query or fragment (§4.2); then both sides normalised.
  const expected = normalizeHtu(check.url);
  if (/[?#]/.test(htu) || expected === undefined || normalizeHtu(htu) !== expected) return refused('dpop_wrong_url');
  if (Math.abs(check.nowSeconds - iat) > check.windowSeconds) return refused('dpop_stale');
  if (check.accessToken !== undefined && ath !== accessTokenHash(check.accessToken)) return refused('dpop_wrong_ath');
  const jkt = createHash('sha256').update(proofKey.thumbprintInput).digest('base64url');
  return { ok: true, jkt, jti, iat, nonce: nonce as string | undefined, htu: expected };
}

/** The key under which a proof's `jti` is remembered: per key, hashed to a fixed length (SEC-JWT-07). */
export function replayKey(jkt: string, jti: string): string {
  return createHash('sha256').update(`${jkt}\u0000${jti}`).digest('base64url');
}
