import { FORBIDDEN_HEADER_MEMBERS, parseCompactJWS, parseObject } from './compact-jws.ts';
import type { FailureCode } from './failures.ts';
import type { KeySet, VerificationKey } from './jwks.ts';

/** The claims of a Gatehouse access token (RFC 9068 §2.2), each with exactly its issued type. */
export interface AccessTokenClaims {
  readonly sub: string;
  readonly aud: readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly sid?: string;
  readonly gid?: string;
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
  /** RFC 9449 §6.1 `cnf.jkt`: the token is bound to this DPoP key. */
  readonly jkt?: string;
  /** RFC 8693 §4.1 `act.sub`: who acts for the subject (an exchanged token). */
  readonly actor?: string;
}

export interface JWTRules {
  issuer: string;
  audiences: ReadonlySet<string>;
  algorithms: ReadonlySet<string>;
  leewaySeconds: number;
  maxLifetimeSeconds: number;
  maxTokenLength: number;
}

export type Verified = { ok: true; claims: AccessTokenClaims; key: VerificationKey };
export type Refused = { ok: false; code: FailureCode };

const MAX_TEXT = 1024;
const MAX_LIST = 256;

const refused = (code: FailureCode): Refused => ({ ok: false, code });


/** Own property only: a `__proto__` member is an inert key, never a prototype (SEC-JWT-14). */
function own(object: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

const JKT = /^[A-Za-z0-9_-]{43}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT && value.isWellFormed();
}

/** RFC 7519 §2 NumericDate, as Gatehouse issues it: whole seconds (SEC-JWT-08). */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTextList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= MAX_LIST && value.every(isText);
}

/** A header's verdict: its alg and kid, or why it is refused. */
export type HeaderCheck = { alg: string; kid: string } | FailureCode;

/**
 * Header rules (RFC 8725 §3.1, §3.11; RFC 9068 §4): `alg` from the allow-list, `typ` exactly
 * `at+jwt`, a `kid`, and nothing that names a key, a key URL or critical extensions.
 */
function checkHeader(header: Record<string, unknown> | undefined, rules: JWTRules): HeaderCheck {
  if (!header) return 'malformed_token';
  const alg = own(header, 'alg');
  if (typeof alg !== 'string' || !rules.algorithms.has(alg)) return 'algorithm_not_allowed';
  if (own(header, 'typ') !== 'at+jwt') return 'wrong_typ';
  for (const member of FORBIDDEN_HEADER_MEMBERS) if (Object.hasOwn(header, member)) return 'forbidden_header';
  const kid = own(header, 'kid');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) return 'unknown_key';
  return { alg, kid };
}

/** Claim types exactly as Gatehouse issues them (RFC 9068 §2.2); anything else is not our token. */
function typedClaims(payload: Record<string, unknown>): AccessTokenClaims | undefined {
  const sub = own(payload, 'sub');
  const audRaw = own(payload, 'aud');
  const exp = own(payload, 'exp');
  const iat = own(payload, 'iat');
  const jti = own(payload, 'jti');
  const clientId = own(payload, 'client_id');
  const scope = own(payload, 'scope');
  const sid = own(payload, 'sid');
  const gid = own(payload, 'gid');
  const roles = own(payload, 'roles');
  const permissions = own(payload, 'permissions');
  const nbf = own(payload, 'nbf');
  const authTime = own(payload, 'auth_time');
  const cnf = own(payload, 'cnf');
  const act = own(payload, 'act');
  if (!isText(sub) || !isText(jti) || !isText(clientId) || !isNumericDate(exp) || !isNumericDate(iat)) return undefined;
  if ((nbf !== undefined && !isNumericDate(nbf)) || (authTime !== undefined && !isNumericDate(authTime))) return undefined;
  const aud = isText(audRaw) ? [audRaw] : audRaw;
  if (!isTextList(aud) || aud.length === 0) return undefined;
  if (scope !== undefined && !(typeof scope === 'string' && scope.length <= 4 * MAX_TEXT && scope.isWellFormed())) return undefined;
  if ((sid !== undefined && !isText(sid)) || (gid !== undefined && !isText(gid))) return undefined;
  if (roles !== undefined && !isTextList(roles)) return undefined;
  if (permissions !== undefined && !isTextList(permissions)) return undefined;
  // cnf, when present, is exactly a DPoP confirmation: a token bound to a key type we do not know is not ours to accept.
  const jkt = isRecord(cnf) ? own(cnf, 'jkt') : undefined;
  if (cnf !== undefined && !(typeof jkt === 'string' && JKT.test(jkt))) return undefined;
  const actor = isRecord(act) ? own(act, 'sub') : undefined;
  if (act !== undefined && !isText(actor)) return undefined;
  // The namespaces never overlap: a client token's subject is exactly `client:<client_id>`.
  if (sub.startsWith('client:') && sub !== `client:${clientId}`) return undefined;
  return {
    sub,
    aud,
    exp,
    iat,
    jti,
    clientId,
    scopes: scope === undefined ? [] : scope.split(' ').filter((value) => value.length > 0),
    ...(sid !== undefined ? { sid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    roles: roles ?? [],
    permissions: permissions ?? [],
    ...(jkt !== undefined ? { jkt: jkt as string } : {}),
    ...(actor !== undefined ? { actor: actor as string } : {}),
  };
}

/**
 * Verifies a Gatehouse access token as a pipeline of named checks, each refusing with a stable
 * code: shape → header → key → signature → claim types → issuer → audience → times. The signature
 * is checked before the payload is parsed, so no attacker-chosen claim is ever looked at.
 * `headerCache` remembers header verdicts (they depend only on the rules).
 */
export async function verifyAccessToken(token: string, rules: JWTRules, keys: KeySet, nowSeconds: number, headerCache?: Map<string, HeaderCheck>): Promise<Verified | Refused> {
  // 1. shape: canonical compact JWS (SEC-JWT-15, -16, -17)
  const jws = parseCompactJWS(token, rules.maxTokenLength);
  if (typeof jws === 'string') return refused('malformed_token');
  // 2. header
  let header = headerCache?.get(jws.headerSegment);
  if (header === undefined) {
    header = checkHeader(parseObject(jws.header), rules);
    if (headerCache) {
      if (headerCache.size >= 64) headerCache.clear();
      headerCache.set(jws.headerSegment, header);
    }
  }
  if (typeof header === 'string') return refused(header);
  // 3. key: only from the server's own key set, and made for this very algorithm (SEC-JWT-02, -05)
  const key = keys.current(header.kid) ?? (await keys.resolve(header.kid));
  if (key === 'unavailable') return refused('keys_unavailable');
  if (key === 'unknown') return refused('unknown_key');
  if (key.alg !== header.alg) return refused('algorithm_not_allowed');
  // 4. signature (SEC-JWT-06, -07): exact raw length, then node:crypto
  if (jws.signature.length !== key.signatureLength) return refused('bad_signature');
  let valid = false;
  try {
    valid = key.verify(Buffer.from(jws.signingInput, 'latin1'), jws.signature);
  } catch {
    valid = false;
  }
  if (!valid) return refused('bad_signature');
  // 5. claims
  const payload = parseObject(jws.payload);
  if (!payload) return refused('malformed_token');
  const claims = typedClaims(payload);
  if (!claims) return refused('bad_claims');
  // 6. issuer, exactly (SEC-JWT-10)
  if (own(payload, 'iss') !== rules.issuer) return refused('wrong_issuer');
  // 7. audience: names this resource server (SEC-JWT-10)
  if (!claims.aud.some((value) => rules.audiences.has(value))) return refused('wrong_audience');
  // 8. times with bounded leeway (SEC-JWT-08, -09)
  const checked = checkTimes(claims.exp, claims.iat, own(payload, 'nbf') as number | undefined, nowSeconds, rules);
  if (checked) return refused(checked);
  return { ok: true, claims, key };
}

/** exp, nbf and iat against the clock with the leeway; a lifetime above the bound is refused. */
export function checkTimes(exp: number, iat: number, nbf: number | undefined, nowSeconds: number, rules: Pick<JWTRules, 'leewaySeconds' | 'maxLifetimeSeconds'>): FailureCode | undefined {
  if (exp <= nowSeconds - rules.leewaySeconds) return 'expired';
  if (nbf !== undefined && nbf > nowSeconds + rules.leewaySeconds) return 'not_yet_valid';
  if (iat > nowSeconds + rules.leewaySeconds) return 'not_yet_valid';
  if (exp - iat > rules.maxLifetimeSeconds) return 'lifetime_too_long';
  return undefined;
}
