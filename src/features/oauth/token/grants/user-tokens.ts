import type { Client } from '../../../clients/model.ts';
import type { User } from '../../../accounts/store.ts';
import { acrOf } from '../../../mfa/policy.ts';
import type { IdTokenIssuer } from '../../id-token.ts';
import type { GrantDeps, TokenResponse } from '../types.ts';
import { withUserinfoAudience } from './audience.ts';

/** What a grant the user approved in a browser session knows when it issues tokens. */
export interface UserApproval {
  client: Client;
  user: Pick<User, 'id' | 'email' | 'name' | 'emailVerifiedAt' | 'roles'>;
  scope: string[];
  /** The resources asked for (the userinfo audience is added when `openid` was granted). */
  audience: readonly string[];
  /** The browser session the user approved in. */
  sessionId: string;
  /** The grant just created, and its first refresh token. */
  grantId: string;
  refreshToken: string;
  authTime: number;
  /** How the user authenticated in that session (RFC 8176). */
  amr: readonly string[];
  /** The `acr` chosen for the request (`acr_values`); otherwise the session's own level. */
  acr?: string | undefined;
  nonce?: string | undefined;
}

/**
 * The token response of a grant a user approved (authorization code, device code): an access
 * token saying how the user authenticated (`auth_time`, `amr`, `acr`: RFC 9068 §2.2.1, which
 * userinfo returns), an ID token when `openid` was granted, the refresh token when the client
 * may refresh.
 */
export async function issueUserTokens(approval: UserApproval, deps: { grantDeps: GrantDeps; idTokens: IdTokenIssuer }): Promise<TokenResponse> {
  const { client, user, scope, sessionId, authTime, amr } = approval;
  const issued = await deps.grantDeps.accessTokens.issue({
    client,
    subject: user.id,
    scope,
    audience: withUserinfoAudience(approval.audience, scope, deps.grantDeps.issuer),
    sessionId,
    grantId: approval.grantId,
    roles: user.roles,
    authTime,
    amr,
    acr: approval.acr ?? acrOf(amr),
  });
  const idToken = scope.includes('openid')
    ? await deps.idTokens.issue({ user, clientId: client.clientId, scope, nonce: approval.nonce, authTime, amr, ...(approval.acr ? { acr: approval.acr } : {}), sessionId, accessToken: issued.accessToken })
    : undefined;
  return {
    access_token: issued.accessToken,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: scope.join(' '),
    ...(client.grantTypes.includes('refresh_token') ? { refresh_token: approval.refreshToken } : {}),
    ...(idToken ? { id_token: idToken } : {}),
  };
}
