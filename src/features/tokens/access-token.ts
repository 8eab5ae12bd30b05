import { randomToken } from '../../crypto/random.ts';
import type { Client } from '../clients/model.ts';

export interface AccessTokenRequest {
  client: Client;
  /** `client:<client_id>` for client credentials, the user id otherwise (disjoint namespaces). */
  subject: string;
  scope: readonly string[];
  audience: readonly string[];
  sessionId?: string | null;
  grantId?: string | null;
  roles?: readonly string[];
  authTime?: number;
  /** RFC 9068 §2.2.1: how the user authenticated (RFC 8176 `amr`, and `acr`), for userinfo and resource servers. */
  amr?: readonly string[];
  acr?: string;
  /** RFC 9449 §6: the DPoP key the token is bound to (`cnf.jkt`). */
  confirmation?: { jkt: string };
  /** RFC 8693 §4.1: the actor chain of a token exchange (`act`). */
  actor?: Record<string, unknown>;
  /** Never outlive this many seconds (a token exchange never outlives its subject token). */
  maxTtlSeconds?: number;
}

export interface IssuedAccessToken {
  accessToken: string;
  jti: string;
  expiresIn: number;
  expiresAt: number;
}

export interface JWTSigner {
  sign(claims: Record<string, unknown>, options: { typ: string }): Promise<string>;
}

/** RFC 9068 JWT access tokens: `typ: at+jwt`, iss, sub, aud, exp, iat, jti, client_id, scope (+ sid, roles, permissions, gid). */
export function createAccessTokenIssuer(deps: {
  signer: JWTSigner;
  issuer: string;
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  now?: () => number;
  /**
   * The permission strings the user's roles grant (the role catalog), read at every mint — so a
   * refresh, on the hint path too, carries the catalog as it is now (docs/admin.md#roles).
   */
  permissionsOf?: (roles: readonly string[]) => Promise<readonly string[]>;
}) {
  const now = deps.now ?? Date.now;
  return {
    async issue(request: AccessTokenRequest): Promise<IssuedAccessToken> {
      const ttl = Math.min(request.client.accessTokenTtlSeconds ?? deps.defaultTtlSeconds, deps.maxTtlSeconds, request.maxTtlSeconds ?? Infinity);
      const issuedAt = Math.floor(now() / 1000);
      const jti = randomToken(16);
      const claims: Record<string, unknown> = {
        iss: deps.issuer,
        sub: request.subject,
        aud: request.audience.length === 1 ? request.audience[0] : [...request.audience],
        iat: issuedAt,
        exp: issuedAt + ttl,
        jti,
        client_id: request.client.clientId,
        scope: request.scope.join(' '),
      };
      if (request.sessionId) claims.sid = request.sessionId;
      if (request.grantId) claims.gid = request.grantId;
      if (request.roles && request.roles.length > 0) {
        claims.roles = [...request.roles];
        const permissions = deps.permissionsOf ? await deps.permissionsOf(request.roles) : [];
        if (permissions.length > 0) claims.permissions = [...permissions];
      }
      if (request.authTime !== undefined) claims.auth_time = Math.floor(request.authTime / 1000);
      if (request.amr && request.amr.length > 0) claims.amr = [...request.amr];
      if (request.acr) claims.acr = request.acr;
      if (request.confirmation) claims.cnf = { jkt: request.confirmation.jkt };
      if (request.actor) claims.act = request.actor;
      const accessToken = await deps.signer.sign(claims, { typ: 'at+jwt' });
      return { accessToken, jti, expiresIn: ttl, expiresAt: (issuedAt + ttl) * 1000 };
    },
  };
}

export type AccessTokenIssuer = ReturnType<typeof createAccessTokenIssuer>;

/** The audience of a token: requested resources (each allowed for the client), else the client's audiences, else the issuer. */
export function resolveAudience(client: Client, requested: readonly string[], issuer: string): string[] | undefined {
  if (requested.length > 0) return requested.every((resource) => client.audiences.includes(resource)) ? [...requested] : undefined;
  return client.audiences.length > 0 ? [...client.audiences] : [issuer];
}

/** The scope granted: the requested subset of what the client may ask for (all of it when none is requested). */
export function resolveScope(allowed: readonly string[], requested: string | undefined): string[] | undefined {
  if (requested === undefined || requested.trim() === '') return [...allowed];
  const scopes = [...new Set(requested.split(' ').filter(Boolean))];
  return scopes.every((scope) => allowed.includes(scope)) ? scopes : undefined;
}
