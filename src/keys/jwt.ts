import { KeyObject, sign, verify as verifySignature } from 'node:crypto';
import type { CryptoKey } from 'jose';
// The kit's parser: the server may use the kit, never the other way round.
import { FORBIDDEN_HEADER_MEMBERS, parseCompactJWS, parseObject } from '../../packages/middleware/src/compact-jws.ts';
import type { KeyService } from './service.ts';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './service.ts';

/** Clock-skew leeway for every JWT we verify (SEC-JWT-09: ≤ 30 s). */
export const JWT_LEEWAY_SECONDS = 30;

const MAX_TOKEN_LENGTH = 8192;

/** Signs JWTs with the current signing key; `typ` is always explicit (RFC 8725 §3.11). */
export function createJWTSigner(keys: KeyService, algorithm?: SigningAlgorithm) {
  // Encoded protected headers by kid and typ: a handful over the life of the process.
  const headers = new Map<string, string>();
  return {
    algorithm: (): SigningAlgorithm => keys.signingKey(algorithm).alg,
    async sign(claims: Record<string, unknown>, options: { typ: string }): Promise<string> {
      const key = keys.signingKey(algorithm);
      // Compact JWS (RFC 7515 §7.1) with node:crypto: jose verifies every token we sign in the
      // tests (remote JWKS, kit differential), so the encoding is checked by code we did not write.
      const headerKey = `${key.alg} ${key.kid} ${options.typ}`;
      let header = headers.get(headerKey);
      if (header === undefined) {
        header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: options.typ })).toString('base64url');
        if (headers.size >= 64) headers.clear();
        headers.set(headerKey, header);
      }
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const input = Buffer.from(`${header}.${payload}`, 'ascii');
      const signature =
        key.alg === 'EdDSA' ? sign(null, input, key.privateKeyObject)
        : key.alg === 'ES256' ? sign('sha256', input, { key: key.privateKeyObject, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', input, key.privateKeyObject);
      return `${header}.${payload}.${signature.toString('base64url')}`;
    },
  };
}

export class InvalidJWTError extends Error {
  override name = 'InvalidJWTError';
}

function isNumericDate(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}



/** A header's verdict (it depends on nothing but the header): alg, kid and typ, or why it is refused. */
type HeaderCheck = { alg: SigningAlgorithm; kid: string; typ: unknown } | string;

function checkHeader(header: Record<string, unknown> | undefined): HeaderCheck {
  if (!header) return 'malformed token';
  const alg = Object.hasOwn(header, 'alg') ? header.alg : undefined;
  if (typeof alg !== 'string' || !(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) return 'algorithm not allowed';
  const kid = Object.hasOwn(header, 'kid') ? header.kid : undefined;
  if (typeof kid !== 'string' || kid.length > 128) return 'unknown key';
  for (const member of FORBIDDEN_HEADER_MEMBERS) {
    if (Object.hasOwn(header, member)) return `header member ${member} not allowed`;
  }
  return { alg: alg as SigningAlgorithm, kid, typ: Object.hasOwn(header, 'typ') ? header.typ : undefined };
}

/** A token whose signature verified: which key, its typ, and the payload bytes (parsed anew each time). */
interface SignatureChecked {
  kid: string;
  alg: SigningAlgorithm;
  typ: unknown;
  key: CryptoKey;
  payload: Buffer;
}

const VERIFIED_CACHE_SIZE = 1000;

/** node:crypto views of the KeyService's public keys, made once per key. */
const keyObjects = new WeakMap<CryptoKey, { key: KeyObject; signatureLength: number }>();
function publicKeyObject(key: CryptoKey, alg: SigningAlgorithm): { key: KeyObject; signatureLength: number } {
  let found = keyObjects.get(key);
  if (!found) {
    const object = KeyObject.from(key);
    // RFC 7518 §3.4: ES256 is R‖S, 64 bytes; RFC 8037: Ed25519 64; RS256: the modulus length.
    const signatureLength = alg === 'RS256' ? (object.asymmetricKeyDetails?.modulusLength ?? 0) / 8 : 64;
    found = { key: object, signatureLength };
    keyObjects.set(key, found);
  }
  return found;
}

function signatureValid(alg: SigningAlgorithm, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  try {
    if (alg === 'EdDSA') return verifySignature(null, input, key, signature);
    if (alg === 'ES256') return verifySignature('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return verifySignature('sha256', input, key, signature);
  } catch {
    return false;
  }
}

/** RFC 7519 §4.1.3: `aud` is one string or a list; it must name one of the expected audiences. */
function audienceMatches(claim: unknown, expected: string | string[]): boolean {
  const wanted = Array.isArray(expected) ? expected : [expected];
  if (typeof claim === 'string') return wanted.includes(claim);
  return Array.isArray(claim) && claim.some((value) => typeof value === 'string' && wanted.includes(value));
}

/**
 * Verifies JWTs that this server signed (access tokens, ID tokens as hints, logout tokens).
 * The key comes only from our own key set by `kid`, and must have been made for the header's
 * `alg`; `none`, HMAC and any key or key URL carried in the token are refused. `typ`, `iss` and
 * `exp` are always checked; `aud` when the caller names one.
 *
 * A pipeline of node:crypto and JSON steps (shape → header → key → signature → claims), like the
 * kit's verifier and for the same reason: jose's WebCrypto path was 30 % of the CPU of an
 * introspection (docs/benchmarks.md). test/keys/server-jwt-differential.test.ts checks it
 * against jose's `jwtVerify` on valid tokens, the hostile corpus and a mutation fuzz: it never
 * accepts what jose refuses.
 */
export function createJWTVerifier(keys: KeyService, options: { issuer: string; now?: () => number }) {
  const now = options.now ?? Date.now;
  const headers = new Map<string, HeaderCheck>();
  // Tokens whose signature verified, by their exact text: a resource server introspects the same
  // token again and again. Only the signature check is skipped on a hit — the key must still be
  // published, and every claim (exp, iss, typ, aud …) is checked again on a fresh parse.
  const checked = new Map<string, SignatureChecked>();

  /** Steps 1–4: shape, header, key, signature; throws when any fails. */
  function checkSignature(token: string): SignatureChecked {
    // 1. shape: canonical compact JWS (SEC-JWT-15, -16, -17)
    const jws = parseCompactJWS(token, MAX_TOKEN_LENGTH);
    if (typeof jws === 'string') throw new InvalidJWTError(jws);
    // 2. header: alg from the allow-list, a kid, nothing that names a key (SEC-JWT-01, -04, -12)
    let header = headers.get(jws.headerSegment);
    if (header === undefined) {
      header = checkHeader(parseObject(jws.header));
      if (headers.size >= 64) headers.clear();
      headers.set(jws.headerSegment, header);
    }
    if (typeof header === 'string') throw new InvalidJWTError(header);
    // 3. key: only ours, by kid, made for this very algorithm (SEC-JWT-02, -05)
    const cryptoKey = keys.verificationKey(header.kid, header.alg);
    if (!cryptoKey) throw new InvalidJWTError('unknown key');
    const key = publicKeyObject(cryptoKey, header.alg);
    // 4. signature, of exactly the algorithm's length (SEC-JWT-06, -07)
    if (jws.signature.length !== key.signatureLength || !signatureValid(header.alg, key.key, Buffer.from(jws.signingInput, 'latin1'), jws.signature)) {
      throw new InvalidJWTError('signature verification failed');
    }
    const signed: SignatureChecked = { kid: header.kid, alg: header.alg, typ: header.typ, key: cryptoKey, payload: jws.payload };
    if (checked.size >= VERIFIED_CACHE_SIZE) checked.delete(checked.keys().next().value!);
    checked.set(token, signed);
    return signed;
  }

  return {
    async verify(token: string, expect: { typ: string; audience?: string | string[]; requiredClaims?: string[]; maxLifetimeSeconds?: number; /** id_token_hint: an expired ID token still identifies (OIDC RP-Initiated Logout §2). */ ignoreExpiry?: boolean }): Promise<Record<string, unknown>> {
      if (typeof token !== 'string') throw new InvalidJWTError('not a token');
      let signed = checked.get(token);
      // A cached signature counts only while its key is still ours and published (a key
      // unpublished after a compromise stops verifying at once, cached or not).
      if (signed && keys.verificationKey(signed.kid, signed.alg) !== signed.key) {
        checked.delete(token);
        signed = undefined;
      }
      signed ??= checkSignature(token);
      // RFC 8725 §3.11: explicit typing, compared exactly (no `application/` prefix folding).
      if (signed.typ !== expect.typ) throw new InvalidJWTError('wrong typ');
      // 5. claims: a JSON object, required members present (own properties only)
      const payload = parseObject(signed.payload);
      if (!payload) throw new InvalidJWTError('the payload is not a JSON object');
      for (const claim of ['exp', 'iat', ...(expect.requiredClaims ?? [])]) {
        if (!Object.hasOwn(payload, claim)) throw new InvalidJWTError(`missing required claim ${claim}`);
      }
      // NumericDate must be an integer number of seconds (SEC-JWT-08: no strings, fractions, ms).
      for (const claim of ['exp', 'iat', 'nbf'] as const) {
        if (Object.hasOwn(payload, claim) && !isNumericDate(payload[claim])) throw new InvalidJWTError(`${claim} is not a NumericDate`);
      }
      // 6. issuer, exactly; audience when the caller names one (SEC-JWT-10)
      if (payload.iss !== options.issuer) throw new InvalidJWTError('wrong issuer');
      if (expect.audience !== undefined && !audienceMatches(payload.aud, expect.audience)) throw new InvalidJWTError('wrong audience');
      // 7. times with the leeway (SEC-JWT-08, -09)
      const exp = payload.exp as number;
      const iat = payload.iat as number;
      let at = now();
      // Verify as of just before expiry; every other check (signature, iss, typ, aud) still applies.
      if (expect.ignoreExpiry && exp * 1000 <= at) at = exp * 1000 - 1000;
      const nowSeconds = Math.floor(at / 1000);
      if (exp <= nowSeconds - JWT_LEEWAY_SECONDS) throw new InvalidJWTError('expired');
      if (Object.hasOwn(payload, 'nbf') && (payload.nbf as number) > nowSeconds + JWT_LEEWAY_SECONDS) throw new InvalidJWTError('not yet valid');
      if (iat > nowSeconds + JWT_LEEWAY_SECONDS) throw new InvalidJWTError('issued in the future');
      if (expect.maxLifetimeSeconds !== undefined && exp - iat > expect.maxLifetimeSeconds) throw new InvalidJWTError('lifetime too long');
      // Own properties only, no prototype: a `__proto__` claim stays an inert string key.
      return Object.assign(Object.create(null) as Record<string, unknown>, payload);
    },
  };
}

export type JWTVerifier = ReturnType<typeof createJWTVerifier>;
export type JWTSigner = ReturnType<typeof createJWTSigner>;
