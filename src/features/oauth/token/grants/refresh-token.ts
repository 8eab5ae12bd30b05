import { apiError } from '../../../../errors/catalog.ts';
import { param, requiredParam, resources, type FormBody } from '../../params.ts';
import { resolveAudience, resolveScope } from '../../../tokens/access-token.ts';
import type { GrantHandler } from '../types.ts';
import { withUserinfoAudience } from './audience.ts';

/** RFC 6749 §6 with OAuth 2.1 rotation: every use returns a new refresh token; scope can only narrow. */
export const refreshToken: GrantHandler = async (body: FormBody, client, deps) => {
  const presented = requiredParam(body, 'refresh_token');
  const audience = resolveAudience(client, resources(body), deps.issuer);
  if (!audience) throw apiError('invalid_target', 'The requested resource is not allowed for this client.');
  let scope: string[] = [];
  const rotated = await deps.refreshTokens.rotate(presented, client, {
    check: (grantScope) => {
      // Scope only narrows: from the grant, and from what the client may still ask for (SEC-OAUTH-18).
      const allowed = grantScope.filter((value) => client.scopes.includes(value));
      const resolved = resolveScope(allowed, param(body, 'scope'));
      if (!resolved) throw apiError('invalid_scope', 'A refreshed token cannot have more scope than the grant.');
      scope = resolved;
    },
  });
  const issued = await deps.accessTokens.issue({
    client,
    subject: rotated.grant.user_id ?? `client:${client.clientId}`,
    scope,
    audience: withUserinfoAudience(audience, scope, deps.issuer),
    sessionId: rotated.grant.session_id,
    grantId: rotated.grant.id,
    roles: rotated.roles,
  });
  return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, refresh_token: rotated.refreshToken, scope: scope.join(' ') };
};
