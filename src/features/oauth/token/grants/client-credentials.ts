import { apiError } from '../../../../errors/catalog.ts';
import { param, resources, type FormBody } from '../../params.ts';
import { resolveAudience, resolveScope } from '../../../tokens/access-token.ts';
import type { GrantHandler } from '../types.ts';

/** RFC 6749 §4.4: confidential clients only, no refresh token, subject `client:<client_id>`. */
export const clientCredentials: GrantHandler = async (body: FormBody, client, deps) => {
  if (client.type !== 'confidential') throw apiError('unauthorized_client', 'Public clients cannot use client_credentials.');
  const scope = resolveScope(client.scopes, param(body, 'scope'));
  if (!scope) throw apiError('invalid_scope', 'The requested scope is not allowed for this client.');
  const audience = resolveAudience(client, resources(body), deps.issuer);
  if (!audience) throw apiError('invalid_target', 'The requested resource is not allowed for this client.');
  const issued = await deps.accessTokens.issue({ client, subject: `client:${client.clientId}`, scope, audience });
  return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope: scope.join(' ') };
};
