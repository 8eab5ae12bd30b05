import { randomToken } from '../../../crypto/random.ts';

/** OpenID Connect Back-Channel Logout 1.0 §2.4: the `events` member of every logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** §2.4: explicit typing (RFC 8725 §3.11) — no other JWT surface of ours accepts this `typ`. */
export const LOGOUT_TOKEN_TYPE = 'logout+jwt';
/** §2.4 recommends a short lifetime (two minutes or less). */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

/**
 * Signs a logout token: `iss`, `aud`, `iat`, `exp`, `jti` (new for every attempt), `events`,
 * `sub` and `sid` — and never a `nonce` (§2.4: it would let it pass as an ID token).
 */
export async function signLogoutToken(
  signer: { sign(claims: Record<string, unknown>, options: { typ: string }): Promise<string> },
  input: { issuer: string; clientId: string; subject: string; sessionId: string | null; now: number },
): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  const claims: Record<string, unknown> = {
    iss: input.issuer,
    aud: input.clientId,
    iat,
    exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
    jti: randomToken(16),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    sub: input.subject,
  };
  if (input.sessionId !== null) claims.sid = input.sessionId;
  return signer.sign(claims, { typ: LOGOUT_TOKEN_TYPE });
}
