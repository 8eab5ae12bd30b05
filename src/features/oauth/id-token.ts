import { createHash } from 'node:crypto';
import type { User } from '../accounts/store.ts';
import { acrOf } from '../mfa/policy.ts';

/** The claims each scope releases (OIDC Core §5.4; `roles` is ours). */
export function userClaims(user: Pick<User, 'id' | 'email' | 'name' | 'emailVerifiedAt' | 'roles'>, scope: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.id };
  if (scope.includes('profile') && user.name) claims.name = user.name;
  if (scope.includes('email')) {
    claims.email = user.email;
    claims.email_verified = user.emailVerifiedAt !== null;
  }
  if (scope.includes('roles')) claims.roles = [...user.roles];
  return claims;
}

/** `at_hash` (OIDC Core §3.1.3.6): left half of the access token's hash, by the signing algorithm's hash. */
export function accessTokenHash(accessToken: string, alg: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** ID tokens, signed with the same keys as access tokens, `typ: JWT` (never `at+jwt`). */
export function createIdTokenIssuer(deps: {
  signer: { algorithm(): string; sign(claims: Record<string, unknown>, options: { typ: string }): Promise<string> };
  issuer: string;
  ttlSeconds: number;
  now: () => number;
  /** With the `roles` scope, the permission strings the roles grant go beside `roles` (the role catalog). */
  permissionsOf?: (roles: readonly string[]) => Promise<readonly string[]>;
}) {
  return {
    async issue(input: { user: Pick<User, 'id' | 'email' | 'name' | 'emailVerifiedAt' | 'roles'>; clientId: string; scope: readonly string[]; nonce?: string | undefined; authTime: number; amr: readonly string[]; acr?: string; sessionId: string | null; accessToken?: string }): Promise<string> {
      const iat = Math.floor(deps.now() / 1000);
      const claims: Record<string, unknown> = {
        ...userClaims(input.user, input.scope),
        iss: deps.issuer,
        aud: input.clientId,
        azp: input.clientId,
        iat,
        exp: iat + deps.ttlSeconds,
        auth_time: Math.floor(input.authTime / 1000),
        amr: [...input.amr],
        acr: input.acr ?? acrOf(input.amr),
      };
      if (input.scope.includes('roles') && input.user.roles.length > 0 && deps.permissionsOf) {
        const permissions = await deps.permissionsOf(input.user.roles);
        if (permissions.length > 0) claims.permissions = [...permissions];
      }
      if (input.nonce !== undefined) claims.nonce = input.nonce;
      if (input.sessionId) claims.sid = input.sessionId;
      if (input.accessToken) claims.at_hash = accessTokenHash(input.accessToken, deps.signer.algorithm());
      return deps.signer.sign(claims, { typ: 'JWT' });
    },
  };
}

export type IdTokenIssuer = ReturnType<typeof createIdTokenIssuer>;
