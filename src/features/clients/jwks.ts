import { createPublicKey } from 'node:crypto';

/**
 * Checks of the public keys a `private_key_jwt` client registers (RFC 7523, RFC 7517; SEC-JWT-02,
 * SEC-JWT-19 as they apply to client keys). Only public asymmetric keys of the algorithms client
 * assertions may use; each key is bound to one algorithm.
 */

/** Client assertion algorithms (SEC-JWT-01/-02: no `none`, no HS*). */
export const ASSERTION_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;

const MAX_KEYS = 10;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
/** Private or symmetric key material: never accepted, never stored. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const ALLOWED_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'n', 'e', 'alg', 'use', 'kid', 'key_ops']);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface JWKSProblem {
  /** Relative to `jwks`, e.g. `keys[0].d`. */
  path: string;
  reason: string;
}

export type ClientJWKS = { keys: Record<string, unknown>[] };

/** A clean copy of the key set, or the first problem found. */
export function checkClientJWKS(value: unknown): { jwks: ClientJWKS } | { problem: JWKSProblem } {
  if (!isPlainObject(value)) return problem('', 'must be a JSON Web Key Set: {"keys": [ … ]}');
  for (const name of Object.keys(value)) if (name !== 'keys') return problem(name, 'is not allowed (a key set has only "keys")');
  const keys = value.keys;
  if (!Array.isArray(keys) || keys.length === 0) return problem('keys', 'must be a non-empty list of public keys');
  if (keys.length > MAX_KEYS) return problem('keys', `must hold at most ${MAX_KEYS} keys`);
  const clean: Record<string, unknown>[] = [];
  const kids = new Set<string>();
  for (const [index, key] of keys.entries()) {
    const checked = checkKey(key, `keys[${index}]`);
    if ('problem' in checked) return checked;
    const kid = checked.key.kid;
    if (keys.length > 1 && kid === undefined) return problem(`keys[${index}].kid`, 'is required when the set has more than one key');
    if (typeof kid === 'string') {
      if (kids.has(kid)) return problem(`keys[${index}].kid`, 'is used by another key in the set');
      kids.add(kid);
    }
    clean.push(checked.key);
  }
  return { jwks: { keys: clean } };
}

function checkKey(key: unknown, path: string): { key: Record<string, unknown> } | { problem: JWKSProblem } {
  if (!isPlainObject(key)) return problem(path, 'must be a JSON Web Key object');
  for (const name of PRIVATE_MEMBERS) {
    if (Object.hasOwn(key, name)) return problem(`${path}.${name}`, 'is private or symmetric key material: register public keys only');
  }
  for (const name of Object.keys(key)) if (!ALLOWED_MEMBERS.has(name)) return problem(`${path}.${name}`, 'is not allowed in a client key');
  for (const name of ['kty', 'crv', 'x', 'y', 'n', 'e', 'alg', 'use', 'kid'] as const) {
    if (key[name] !== undefined && typeof key[name] !== 'string') return problem(`${path}.${name}`, 'must be a string');
  }
  for (const name of ['x', 'y', 'n', 'e'] as const) {
    const member = key[name];
    if (typeof member === 'string' && !BASE64URL.test(member)) return problem(`${path}.${name}`, 'must be base64url');
  }
  if (typeof key.kid === 'string' && (key.kid.length === 0 || key.kid.length > 256 || /[^\x20-\x7e]/.test(key.kid))) {
    return problem(`${path}.kid`, 'must be 1 to 256 printable ASCII characters');
  }
  if (key.use !== undefined && key.use !== 'sig') return problem(`${path}.use`, 'must be "sig"');
  if (key.key_ops !== undefined && !(Array.isArray(key.key_ops) && key.key_ops.length === 1 && key.key_ops[0] === 'verify')) {
    return problem(`${path}.key_ops`, 'must be ["verify"] when present');
  }

  let algorithm: string;
  switch (key.kty) {
    case 'EC':
      if (key.crv !== 'P-256') return problem(`${path}.crv`, 'must be P-256 (ES256)');
      if (key.x === undefined || key.y === undefined) return problem(path, 'an EC key needs x and y');
      algorithm = 'ES256';
      break;
    case 'OKP':
      if (key.crv !== 'Ed25519') return problem(`${path}.crv`, 'must be Ed25519 (EdDSA)');
      if (key.x === undefined || key.y !== undefined) return problem(path, 'an Ed25519 key has x only');
      algorithm = 'EdDSA';
      break;
    case 'RSA':
      if (key.n === undefined || key.e === undefined) return problem(path, 'an RSA key needs n and e');
      // RS256 and PS256 verify with the same key: the registered alg pins one (SEC-JWT-02).
      if (key.alg !== 'RS256' && key.alg !== 'PS256') return problem(`${path}.alg`, 'is required for RSA keys: RS256 or PS256');
      algorithm = key.alg;
      break;
    default:
      return problem(`${path}.kty`, 'must be EC (P-256), OKP (Ed25519) or RSA (2048 bits or more)');
  }
  if (key.alg !== undefined && key.alg !== algorithm) return problem(`${path}.alg`, `must be ${algorithm} for this key`);

  try {
    const imported = createPublicKey({ key: keyMaterial(key), format: 'jwk' });
    if (key.kty === 'RSA') {
      const bits = imported.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return problem(`${path}.n`, `must be an RSA modulus of ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`);
    }
  } catch {
    return problem(path, 'is not a valid public key (an EC point off the curve, a bad length …)');
  }
  const clean: Record<string, unknown> = {};
  for (const name of ALLOWED_MEMBERS) if (key[name] !== undefined) clean[name] = Array.isArray(key[name]) ? [...(key[name] as unknown[])] : key[name];
  return { key: clean };
}

function keyMaterial(key: Record<string, unknown>): { kty: string; crv?: string; x?: string; y?: string; n?: string; e?: string } {
  const material: { kty: string; crv?: string; x?: string; y?: string; n?: string; e?: string } = { kty: String(key.kty) };
  for (const name of ['crv', 'x', 'y', 'n', 'e'] as const) if (typeof key[name] === 'string') material[name] = key[name];
  return material;
}

function problem(path: string, reason: string): { problem: JWKSProblem } {
  return { problem: { path, reason } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
