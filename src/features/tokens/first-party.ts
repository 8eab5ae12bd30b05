import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import type { Client } from '../clients/model.ts';
import type { ClientStore } from '../clients/store.ts';
import type { SignInResult } from '../password-login/service.ts';
import type { DPoPBinding, DPoPService } from '../oauth/dpop/service.ts';
import type { TokenResponse } from '../oauth/token/types.ts';
import { resolveAudience } from './access-token.ts';
import { withUserinfoAudience } from '../oauth/token/grants/audience.ts';
import type { AccessTokenIssuer } from './access-token.ts';
import type { RefreshTokenService } from './refresh.ts';

/**
 * First-party native apps sign in with email and password through `POST /api/auth/sign-in`
 * with their `client_id` and receive tokens instead of a cookie. The tokens carry the session's
 * `sid` and their grant is bound to the session, so signing out, revoking the session or
 * changing the password revokes them too. With a DPoP proof (RFC 9449) they are bound to its key
 * exactly as at the token endpoint: `cnf.jkt` in the access token, the refresh tokens usable only
 * with a proof of that key (these clients are public).
 */
export function createFirstPartyTokens(deps: {
  clients: ClientStore;
  accessTokens: AccessTokenIssuer;
  refreshTokens: RefreshTokenService;
  issuer: string;
  /** The token endpoint's DPoP step (oauth/dpop); without it a `DPoP` header is ignored and tokens are Bearer. */
  dpop?: DPoPService;
}) {
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
    /**
     * The request's DPoP proof for this endpoint (`htu` is its URL), checked before the password:
     * undefined without a `DPoP` header; throws `invalid_dpop_proof` / `use_dpop_nonce` (RFC 9449 §5, §8).
     */
    async proof(request: FastifyRequest, reply: FastifyReply, client: Client): Promise<DPoPBinding | undefined> {
      if (!deps.dpop) return undefined;
      return deps.dpop.tokenRequest(request, reply, client, `${deps.issuer}${new URL(request.url, deps.issuer).pathname}`);
    },
    async issue(client: Client, signIn: SignInResult, binding?: DPoPBinding): Promise<TokenResponse> {
      const scope = [...client.scopes];
      const { grant, refreshToken } = await deps.refreshTokens.createGrant({ client, userId: signIn.user.id, sessionId: signIn.session.id, scope, ...(binding ? { jkt: binding.jkt } : {}) });
      const issued = await deps.accessTokens.issue({
        client,
        subject: signIn.user.id,
        scope,
        audience: withUserinfoAudience(resolveAudience(client, [], deps.issuer) ?? [deps.issuer], scope, deps.issuer),
        sessionId: signIn.session.id,
        grantId: grant.id,
        roles: signIn.user.roles,
        authTime: signIn.session.authTime,
        ...(binding ? { confirmation: { jkt: binding.jkt } } : {}),
      });
      return { access_token: issued.accessToken, token_type: binding ? 'DPoP' : 'Bearer', expires_in: issued.expiresIn, refresh_token: refreshToken, scope: scope.join(' ') };
    },
  };
}

export type FirstPartyTokens = ReturnType<typeof createFirstPartyTokens>;
