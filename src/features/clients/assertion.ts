import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { apiError, type ApiError } from '../../errors/catalog.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import { ASSERTION_ALGORITHMS } from './jwks.ts';
import type { Client } from './model.ts';
import type { ClientStore } from './store.ts';
import { parseCompactJWS, parseObject } from '../../../packages/middleware/src/compact-jws.ts';

/**
 * `private_key_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9): the client signs a short-lived JWT
 * with a key it registered. Attack surface S3 of the security requirements: every check below
 * cites the SEC-JWT or SEC-OAUTH row it enforces. Any failure is `invalid_client`.
 */

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** SEC-JWT-08: client assertions live at most five minutes. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** SEC-JWT-09: one bounded leeway (nbf +8 s accepted, +60 s rejected). */
export const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_ASSERTION_LENGTH = 8192;
const MAX_CLAIM_LENGTH = 256;
/** SEC-JWT-04/-12: keys or key URLs from the token itself, critical extensions, unencoded payloads, JWE. */
const REFUSED_HEADER_MEMBERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64', 'zip', 'enc'];

export interface AssertionInput {
  assertionType: string | undefined;
  assertion: string | undefined;
  /** `client_id` from the body, if sent: must name the same client. */
  clientId: string | undefined;
}

export interface AssertionDeps {
  store: ClientStore;
  ephemeral: EphemeralStore;
  issuer: string;
  /** The URL of the endpoint being called: an accepted `aud` besides the issuer. */
  endpoint: string;
  now: () => number;
}

export async function verifyClientAssertion(input: AssertionInput, deps: AssertionDeps): Promise<Client> {
  if (input.assertionType !== JWT_BEARER_ASSERTION) throw refused('client_assertion_type is missing or not jwt-bearer');
  const assertion = input.assertion;
  if (assertion === undefined) throw refused('client_assertion is missing');
  const { header, claims } = readParts(assertion);
  checkHeader(header);
  const clientId = claimedClient(claims);
  if (input.clientId !== undefined && input.clientId !== clientId) throw refused('client_id differs from the assertion issuer');

  const client = await deps.store.get(clientId);
  if (!client || client.type !== 'confidential' || client.tokenEndpointAuthMethod !== 'private_key_jwt' || client.jwks === null) {
    throw refused('no private_key_jwt client with this client_id');
  }

  const nowMs = deps.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0]), {
      // SEC-JWT-01/-02/-03: asymmetric algorithms only, each bound to its registered key.
      algorithms: [...ASSERTION_ALGORITHMS],
      // RFC 7523 §3: iss and sub are the client_id; aud names this server.
      issuer: clientId,
      subject: clientId,
      // SEC-OAUTH-16 / SEC-JWT-10: the issuer or the URL of this endpoint (a string, or an array holding one).
      audience: [deps.issuer, deps.endpoint],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowMs),
    }));
  } catch (error) {
    throw refused(`assertion rejected: ${(error as { code?: unknown }).code ?? 'invalid'}`);
  }
  const jti = checkTimesAndJti(payload, nowMs);

  // RFC 7523 §3 item 7 / SEC-OAUTH-16: one use per jti, remembered until the assertion expires.
  // Keyed on jti, never on signature bytes (SEC-JWT-07: signatures are malleable).
  const exp = payload.exp as number;
  const ttlMs = Math.max(1000, (exp + CLOCK_TOLERANCE_SECONDS) * 1000 - nowMs);
  if (!(await deps.ephemeral.setIfAbsent(`client-assertion:${clientId}:${jti}`, '1', ttlMs))) throw refused('replayed jti');
  return client;
}

/**
 * SEC-JWT-15/-16/-17: compact serialization, bounded size, canonical base64url, a signature
 * present; SEC-JWT-13: header and claims read by the one strict JSON-object reader every JWT
 * surface shares, which refuses a member named twice (jose's decoders keep the last one).
 */
function readParts(assertion: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parsed = parseCompactJWS(assertion, MAX_ASSERTION_LENGTH);
  if (typeof parsed === 'string') throw refused(parsed);
  const header = parseObject(parsed.header);
  if (!header) throw refused('unreadable header (or a member named twice)');
  const claims = parseObject(parsed.payload);
  if (!claims) throw refused('unreadable claims (or a member named twice)');
  return { header, claims };
}

/** RFC 8725 §3.11 / SEC-JWT-11: a `typ` other than JWT marks another kind of token (at+jwt, logout+jwt …). */
const ASSERTION_TYPES = new Set(['jwt', 'application/jwt']);

function checkHeader(header: Record<string, unknown>): void {
  for (const name of REFUSED_HEADER_MEMBERS) if (Object.hasOwn(header, name)) throw refused(`header member ${name} is not accepted`);
  if (typeof header.alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(header.alg)) throw refused('algorithm not allowed');
  // Media types are case-insensitive (RFC 7515 §4.1.9); absent is fine (RFC 7523 does not require one).
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !ASSERTION_TYPES.has(header.typ.toLowerCase()))) throw refused('typ is not JWT');
  // SEC-JWT-05: kid is only ever compared with the client's own registered kids.
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length > MAX_CLAIM_LENGTH)) throw refused('unusable kid');
}

/** The client the assertion claims to come from (unverified until the signature is checked). */
function claimedClient(claims: Record<string, unknown>): string {
  const { iss, sub } = claims;
  if (typeof iss !== 'string' || typeof sub !== 'string' || iss === '' || iss.length > MAX_CLAIM_LENGTH) throw refused('iss or sub missing');
  if (iss !== sub) throw refused('iss differs from sub');
  return iss;
}

/** SEC-JWT-08: integer NumericDates, a lifetime of at most five minutes, no iat in the future. */
function checkTimesAndJti(payload: JWTPayload, nowMs: number): string {
  const nowSeconds = Math.floor(nowMs / 1000);
  for (const name of ['exp', 'iat', 'nbf'] as const) {
    const value = payload[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) throw refused(`${name} is not a NumericDate`);
  }
  const exp = payload.exp as number;
  if (exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) throw refused('exp too far in the future');
  const iat = payload.iat;
  if (iat !== undefined) {
    if (iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) throw refused('iat in the future');
    if (exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) throw refused('lifetime above five minutes');
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_CLAIM_LENGTH) throw refused('jti missing or too long');
  return jti;
}

function refused(detail: string): ApiError {
  return apiError('invalid_client', 'Client authentication failed.', { detail });
}
