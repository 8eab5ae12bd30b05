import type { RevocationService } from './revocation.ts';

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string;
  sid?: string;
  gid?: string;
  roles?: string[];
  auth_time?: number;
  /** RFC 9068 §2.2.1 (docs/mfa.md). */
  amr?: string[];
  acr?: string;
  /** RFC 9449 §6.1: bound to this DPoP key. */
  cnf?: { jkt: string };
  /** RFC 8693 §4.1: the actor chain of an exchanged token. */
  act?: Record<string, unknown>;
}

export interface JWTVerifierLike {
  verify(token: string, expect: { typ: string; audience?: string | string[]; requiredClaims?: string[]; maxLifetimeSeconds?: number }): Promise<Record<string, unknown>>;
}

export interface AccessTokenVerifier {
  /** Signature, `typ: at+jwt`, issuer, lifetime and shape — not revocation. Throws when invalid. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** `verify` plus revocation by jti, grant and session; undefined when not active. */
  active(token: string): Promise<AccessTokenClaims | undefined>;
}

/** Verifies our own RFC 9068 access tokens (introspection, revocation, userinfo). */
export function createAccessTokenVerifier(deps: { jwt: JWTVerifierLike; revocations: RevocationService; maxLifetimeSeconds: number }): AccessTokenVerifier {
  async function verify(token: string): Promise<AccessTokenClaims> {
    const claims = await deps.jwt.verify(token, { typ: 'at+jwt', requiredClaims: ['sub', 'jti', 'client_id', 'iat', 'exp', 'aud'], maxLifetimeSeconds: deps.maxLifetimeSeconds });
    // Every claim used downstream has exactly the type we issue (SEC-JWT-10, SEC-JWT-14): a
    // token we did not mint this way is not one of ours, whatever its signature says.
    const { sub, jti, client_id: clientId, scope, exp, iat, aud, iss, sid, gid, roles, auth_time: authTime, amr, acr, cnf, act } = claims;
    if (!isText(sub) || !isText(jti) || !isText(clientId) || !isText(iss) || typeof exp !== 'number' || typeof iat !== 'number') throw new Error('access token claims have the wrong types');
    if (!(isText(aud) || (Array.isArray(aud) && aud.length > 0 && aud.every(isText)))) throw new Error('access token audience missing or malformed');
    if (scope !== undefined && typeof scope !== 'string') throw new Error('scope is not a string');
    if ((sid !== undefined && !isText(sid)) || (gid !== undefined && !isText(gid))) throw new Error('sid or gid is not a string');
    if (roles !== undefined && !(Array.isArray(roles) && roles.every(isText))) throw new Error('roles is not a list of strings');
    if (authTime !== undefined && !Number.isSafeInteger(authTime)) throw new Error('auth_time is not a NumericDate');
    if ((amr !== undefined && !(Array.isArray(amr) && amr.every(isText))) || (acr !== undefined && !isText(acr))) throw new Error('amr or acr malformed');
    const jkt = isRecord(cnf) && Object.hasOwn(cnf, 'jkt') ? cnf.jkt : undefined;
    if (cnf !== undefined && !(typeof jkt === 'string' && /^[A-Za-z0-9_-]{43}$/.test(jkt))) throw new Error('cnf is not a DPoP key confirmation');
    if (act !== undefined && !(isRecord(act) && Object.hasOwn(act, 'sub') && isText(act.sub))) throw new Error('act is not an actor');
    return {
      iss,
      sub,
      aud: aud as string | string[],
      exp,
      iat,
      jti,
      client_id: clientId,
      scope: scope ?? '',
      ...(sid !== undefined ? { sid: sid as string } : {}),
      ...(gid !== undefined ? { gid: gid as string } : {}),
      ...(roles !== undefined ? { roles: [...(roles as string[])] } : {}),
      ...(authTime !== undefined ? { auth_time: authTime as number } : {}),
      ...(amr !== undefined ? { amr: [...(amr as string[])] } : {}),
      ...(acr !== undefined ? { acr: acr as string } : {}),
      ...(jkt !== undefined ? { cnf: { jkt: jkt as string } } : {}),
      ...(act !== undefined ? { act: act as Record<string, unknown> } : {}),
    };
  }

  return {
    verify,
    active: async (token) => {
      let claims: AccessTokenClaims;
      try {
        claims = await verify(token);
      } catch {
        return undefined;
      }
      const revoked = await deps.revocations.isRevoked({ jti: claims.jti, grantId: claims.gid, sessionId: claims.sid, clientId: claims.client_id, issuedAt: claims.iat * 1000 });
      return revoked ? undefined : claims;
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 1024;
}
