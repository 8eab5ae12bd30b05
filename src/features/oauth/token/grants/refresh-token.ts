import { apiError } from '../../../../errors/catalog.ts';
import { param, requiredParam, resources, type FormBody } from '../../params.ts';
import { resolveAudience, resolveScope } from '../../../tokens/access-token.ts';
import type { GrantHandler } from '../types.ts';
import { withUserinfoAudience } from './audience.ts';

/**
 * RFC 6749 §6 with OAuth 2.1 rotation: every use returns a new refresh token; scope can only
 * narrow. The access token is minted inside the rotation, so that a retry of a just-rotated
 * token gets the same one back (SEC-REL-03).
 */
export const refreshToken: GrantHandler = async (body: FormBody, client, deps, context) => {
  const presented = requiredParam(body, 'refresh_token');
  const audience = resolveAudience(client, resources(body), deps.issuer);
  if (!audience) throw apiError('invalid_target', 'The requested resource is not allowed for this client.');
  const rotated = await deps.refreshTokens.rotate(presented, client, {
    resolve: (grantScope) => {
      // Scope only narrows: from the grant, and from what the client may still ask for (SEC-OAUTH-18).
      const allowed = grantScope.filter((value) => client.scopes.includes(value));
      const scope = resolveScope(allowed, param(body, 'scope'));
      if (!scope) throw apiError('invalid_scope', 'A refreshed token cannot have more scope than the grant.');
      return { scope, audience: withUserinfoAudience(audience, scope, deps.issuer) };
    },
    issue: async ({ grant, scope, audience: tokenAudience, roles }) => {
      // RFC 9449 §5: a grant bound to a DPoP key is refreshed only with a proof of that key.
      // Checked before the rotation commits, so a refused attempt uses nothing up.
      if (grant.jkt && grant.jkt !== context?.dpop?.jkt) {
        throw apiError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { detail: context?.dpop ? 'DPoP key differs from the bound one' : 'DPoP-bound refresh token without a proof' });
      }
      return deps.accessTokens.issue({
        client,
        subject: grant.user_id ?? `client:${client.clientId}`,
        scope,
        audience: tokenAudience,
        sessionId: grant.session_id,
        grantId: grant.id,
        roles,
      });
    },
  });
  return { access_token: rotated.accessToken, token_type: 'Bearer', expires_in: rotated.expiresIn, refresh_token: rotated.refreshToken, scope: rotated.scope.join(' ') };
};
