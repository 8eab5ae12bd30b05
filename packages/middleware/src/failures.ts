/**
 * The one catalog of answers the kit gives when a request is not allowed through. Each failure
 * carries the wire error (RFC 6750 §3.1, or Gatehouse's `unauthenticated` when the request
 * carried no credentials at all), its HTTP status, a short description safe to send, the
 * `WWW-Authenticate` challenge, and an internal `code` for logs and tests — callers switch on
 * `code`, never on descriptions. The description never contains a token or cookie.
 */
import { DPOP_ALGORITHMS } from './dpop.ts';

const DPOP_CHALLENGE_ALGS = DPOP_ALGORITHMS.join(' ');

/** Error codes that go on the wire (`error` in the JSON body and the challenge). */
export type WireError = 'unauthenticated' | 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'insufficient_scope' | 'temporarily_unavailable';

/** Why the kit refused a request: stable codes for logs, metrics and tests. */
export type FailureCode =
  | 'missing_credentials'
  | 'malformed_authorization'
  | 'malformed_token'
  | 'algorithm_not_allowed'
  | 'wrong_typ'
  | 'forbidden_header'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'lifetime_too_long'
  | 'bad_claims'
  | 'revoked'
  | 'inactive'
  | 'session_invalid'
  | 'insufficient_scope'
  | 'insufficient_role'
  | 'insufficient_permission'
  | 'revocations_unavailable'
  | 'keys_unavailable'
  | 'server_unavailable'
  // RFC 9449 §7: DPoP-bound tokens
  | 'dpop_required'
  | 'dpop_unbound'
  | 'dpop_no_request'
  | 'dpop_proof_missing'
  | 'dpop_proof_invalid'
  | 'dpop_proof_stale'
  | 'dpop_key_mismatch'
  | 'dpop_replayed'
  | 'dpop_nonce_required';

/** A refused request: what to answer and why. */
export interface AuthFailure {
  ok: false;
  status: 400 | 401 | 403 | 503;
  error: WireError;
  /** Safe to send (`error_description`). */
  description: string;
  code: FailureCode;
  /** The `WWW-Authenticate` header value (RFC 6750 §3), or undefined for 503. */
  wwwAuthenticate: string | undefined;
  /** Every header the answer must carry (`www-authenticate`, `retry-after`, `cache-control`). */
  headers: Readonly<Record<string, string>>;
  /** The JSON body adapters send: `{ error, error_description }` (plus `scope` for 403). */
  body: Readonly<Record<string, string>>;
}

const STATUS: Record<WireError, AuthFailure['status']> = {
  unauthenticated: 401,
  invalid_request: 400,
  invalid_token: 401,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

/** RFC 6750 §3: quoted-string values may hold %x20-21 / %x23-5B / %x5D-7E only. */
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** RFC 6749 §3.3: scope-token = 1*NQCHAR. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function isQuotable(value: string): boolean {
  return QUOTABLE.test(value);
}

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/** Builds a failure; `realm` was validated at start-up, descriptions are constants. */
export function failure(realm: string, error: WireError, code: FailureCode, description: string, extra: { scope?: string; dpopAlgs?: string; dpopNonce?: string } = {}): AuthFailure {
  const status = STATUS[error];
  const safeDescription = isQuotable(description) ? description : 'Request refused.';
  let wwwAuthenticate: string | undefined;
  if (error === 'unauthenticated') {
    // RFC 6750 §3.1: a request without any authentication information gets no error code.
    wwwAuthenticate = `Bearer realm="${realm}"`;
  } else if (extra.dpopAlgs !== undefined) {
    // RFC 9449 §7.1: a DPoP-bound token (or the DPoP scheme) is answered with a DPoP challenge.
    wwwAuthenticate = `DPoP realm="${realm}", algs="${extra.dpopAlgs}", error="${error}", error_description="${safeDescription}"`;
  } else if (error !== 'temporarily_unavailable') {
    wwwAuthenticate = `Bearer realm="${realm}", error="${error}", error_description="${safeDescription}"${extra.scope !== undefined ? `, scope="${extra.scope}"` : ''}`;
  }
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (wwwAuthenticate !== undefined) headers['www-authenticate'] = wwwAuthenticate;
  if (status === 503) headers['retry-after'] = '5';
  if (extra.dpopNonce !== undefined) headers['dpop-nonce'] = extra.dpopNonce;
  const body: Record<string, string> = { error, error_description: safeDescription };
  if (extra.scope !== undefined) body.scope = extra.scope;
  return Object.freeze({ ok: false, status, error, description: safeDescription, code, wwwAuthenticate, headers: Object.freeze(headers), body: Object.freeze(body) });
}

/**
 * RFC 9449 §9: the proof lacks a current nonce — 401 `use_dpop_nonce` with a fresh one in
 * `DPoP-Nonce`, which the client puts in a new proof. Built per answer (the nonce changes).
 */
export function nonceFailure(realm: string, nonce: string): AuthFailure {
  return failure(realm, 'use_dpop_nonce', 'dpop_nonce_required', 'Resource server requires nonce in DPoP proof.', { dpopAlgs: DPOP_CHALLENGE_ALGS, dpopNonce: nonce });
}

/** What a client is told for each token problem: expired tokens say so, the rest stay vague. */
export function tokenFailure(realm: string, code: FailureCode): AuthFailure {
  switch (code) {
    case 'missing_credentials':
      return failure(realm, 'unauthenticated', code, 'Authentication required.');
    case 'malformed_authorization':
      return failure(realm, 'invalid_request', code, 'The Authorization header is malformed.');
    case 'expired':
      return failure(realm, 'invalid_token', code, 'The access token expired.');
    case 'session_invalid':
      return failure(realm, 'invalid_token', code, 'The session is not valid.');
    case 'dpop_required':
    case 'dpop_unbound':
      return failure(realm, 'invalid_token', code, 'The access token must be presented with the DPoP scheme and a proof.', { dpopAlgs: DPOP_CHALLENGE_ALGS });
    case 'dpop_no_request':
    case 'dpop_proof_missing':
    case 'dpop_proof_invalid':
    case 'dpop_key_mismatch':
    case 'dpop_replayed':
      return failure(realm, 'invalid_dpop_proof', code, 'The DPoP proof is not valid.', { dpopAlgs: DPOP_CHALLENGE_ALGS });
    case 'dpop_proof_stale':
      return failure(realm, 'invalid_dpop_proof', code, 'The DPoP proof is too old or from the future.', { dpopAlgs: DPOP_CHALLENGE_ALGS });
    case 'revocations_unavailable':
    case 'keys_unavailable':
    case 'server_unavailable':
      return failure(realm, 'temporarily_unavailable', code, 'Authentication is temporarily unavailable.');
    default:
      return failure(realm, 'invalid_token', code, 'The access token is not valid.');
  }
}
