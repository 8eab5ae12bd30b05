import { sign } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, type JWTHeaderParameters } from 'jose';
// The kit's parser: the server may use the kit, never the other way round.
import { parseCompactJWS } from '../middleware/compact-jws.ts';
import type { KeyService } from './service.ts';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './service.ts';

/** Clock-skew leeway for every JWT we verify (SEC-JWT-09: ≤ 30 s). */
export const JWT_LEEWAY_SECONDS = 30;

/** Header members that would let a token choose its own key or processing rules (SEC-JWT-04, -12). */
const FORBIDDEN_HEADER_MEMBERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit', 'b64', 'zip', 'enc'];
const MAX_TOKEN_LENGTH = 8192;

/** Signs JWTs with the current signing key; `typ` is always explicit (RFC 8725 §3.11). */
export function createJWTSigner(keys: KeyService, algorithm?: SigningAlgorithm) {
  return {
    algorithm: (): SigningAlgorithm => keys.signingKey(algorithm).alg,
    async sign(claims: Record<string, unknown>, options: { typ: string }): Promise<string> {
      const key = keys.signingKey(algorithm);
      // Compact JWS (RFC 7515 §7.1) with node:crypto: jose verifies every token we sign in the
      // tests (remote JWKS, kit differential), so the encoding is checked by code we did not write.
      const header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: options.typ })).toString('base64url');
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

/**
 * Verifies JWTs that this server signed (access tokens now; ID tokens and logout tokens later).
 * The key comes only from our own key set by `kid`, and must have been made for the header's
 * `alg`; `none`, HMAC and any key or key URL carried in the token are refused. `typ`, `iss` and
 * `exp` are always checked; `aud` when the caller names one.
 */
export function createJWTVerifier(keys: KeyService, options: { issuer: string; now?: () => number }) {
  const now = options.now ?? Date.now;
  return {
    async verify(token: string, expect: { typ: string; audience?: string | string[]; requiredClaims?: string[]; maxLifetimeSeconds?: number; /** id_token_hint: an expired ID token still identifies (OIDC RP-Initiated Logout §2). */ ignoreExpiry?: boolean }): Promise<Record<string, unknown>> {
      if (typeof token !== 'string') throw new InvalidJWTError('not a token');
      const parsed = parseCompactJWS(token, MAX_TOKEN_LENGTH);
      if (typeof parsed === 'string') throw new InvalidJWTError(parsed);
      let header: JWTHeaderParameters;
      try {
        header = decodeProtectedHeader(token) as JWTHeaderParameters;
      } catch {
        throw new InvalidJWTError('malformed token');
      }
      if (typeof header.alg !== 'string' || !(SIGNING_ALGORITHMS as readonly string[]).includes(header.alg)) throw new InvalidJWTError('algorithm not allowed');
      if (typeof header.kid !== 'string' || header.kid.length > 128) throw new InvalidJWTError('unknown key');
      for (const member of FORBIDDEN_HEADER_MEMBERS) {
        if (Object.hasOwn(header, member)) throw new InvalidJWTError(`header member ${member} not allowed`);
      }
      const key = keys.verificationKey(header.kid, header.alg);
      if (!key) throw new InvalidJWTError('unknown key');
      let payload: Record<string, unknown>;
      let at = now();
      if (expect.ignoreExpiry) {
        // Verify as of just before expiry; every other check (signature, iss, typ, aud) still applies.
        const exp = (() => {
          try {
            return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
          } catch {
            return undefined;
          }
        })();
        if (typeof exp === 'number' && Number.isSafeInteger(exp) && exp * 1000 <= at) at = exp * 1000 - 1000;
      }
      try {
        const result = await jwtVerify(token, key, {
          algorithms: [header.alg],
          issuer: options.issuer,
          typ: expect.typ,
          clockTolerance: JWT_LEEWAY_SECONDS,
          currentDate: new Date(at),
          requiredClaims: ['exp', 'iat', ...(expect.requiredClaims ?? [])],
          ...(expect.audience !== undefined ? { audience: expect.audience } : {}),
        });
        // jose compares `typ` ignoring an `application/` prefix; ours is exact.
        if (result.protectedHeader.typ !== expect.typ) throw new InvalidJWTError('wrong typ');
        payload = result.payload as Record<string, unknown>;
      } catch (error) {
        if (error instanceof InvalidJWTError) throw error;
        throw new InvalidJWTError(error instanceof Error ? error.message : 'invalid token');
      }
      // NumericDate must be an integer number of seconds (SEC-JWT-08: no strings, fractions, ms).
      for (const claim of ['exp', 'iat', 'nbf'] as const) {
        if (Object.hasOwn(payload, claim) && !isNumericDate(payload[claim])) throw new InvalidJWTError(`${claim} is not a NumericDate`);
      }
      const exp = payload.exp as number;
      const iat = payload.iat as number;
      if (iat > Math.floor(at / 1000) + JWT_LEEWAY_SECONDS) throw new InvalidJWTError('issued in the future');
      if (expect.maxLifetimeSeconds !== undefined && exp - iat > expect.maxLifetimeSeconds) throw new InvalidJWTError('lifetime too long');
      // Own properties only, no prototype: a `__proto__` claim stays an inert string key.
      return Object.assign(Object.create(null) as Record<string, unknown>, payload);
    },
  };
}

export type JWTVerifier = ReturnType<typeof createJWTVerifier>;
export type JWTSigner = ReturnType<typeof createJWTSigner>;
