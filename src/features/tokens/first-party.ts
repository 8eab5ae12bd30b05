import { apiError } from '../../errors/catalog.ts';
import type { Client } from '../clients/model.ts';
import type { ClientStore } from '../clients/store.ts';
import type { SignInResult } from '../password-login/service.ts';
import type { TokenResponse } from '../oauth/token/types.ts';
import { resolveAudience } from './access-token.ts';
import { withUserinfoAudience } from '../oauth/token/grants/audience.ts';
import type { AccessTokenIssuer } from './access-token.ts';
import type { RefreshTokenService } from './refresh.ts';

/**
 * First-party native apps sign in with email and password through `POST /api/auth/sign-in`
 * with their `client_id` and receive tokens instead of a cookie. The tokens carry the session's
 * `sid` and their grant is bound to the session, so signing out, revoking the session or
 * changing the password revokes them too.
 */
export function createFirstPartyTokens(deps: { clients: ClientStore; accessTokens: AccessTokenIssuer; refreshTokens: RefreshTokenService; issuer: string }) {
  return {
    sessionLifetimeMs: (client: Client): number => deps.refreshTokens.absoluteLifetimeMs(client),
    /** Checks the client before any password is looked at. */
    async client(clientId: string): Promise<Client> {
      const client = await deps.clients.get(clientId);
      if (!client || !client.firstParty || client.type !== 'public' || !client.grantTypes.includes('refresh_token')) {
        throw apiError('unauthorized_client', 'This client may not sign users in with a password.');
      }
      return client;
    },
    async issue(client: Client, signIn: SignInResult): Promise<TokenResponse> {
      const scope = [...client.scopes];
      const { grant, refreshToken } = await deps.refreshTokens.createGrant({ client, userId: signIn.user.id, sessionId: signIn.session.id, scope });
      const issued = await deps.accessTokens.issue({
        client,
        subject: signIn.user.id,
        scope,
        audience: withUserinfoAudience(resolveAudience(client, [], deps.issuer) ?? [deps.issuer], scope, deps.issuer),
        sessionId: signIn.session.id,
        grantId: grant.id,
        roles: signIn.user.roles,
        authTime: signIn.session.authTime,
      });
      return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, refresh_token: refreshToken, scope: scope.join(' ') };
    },
  };
}

export type FirstPartyTokens = ReturnType<typeof createFirstPartyTokens>;
