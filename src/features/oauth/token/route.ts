import type { FastifyInstance } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import type { GrantType } from '../../clients/model.ts';
import { formBody, requiredParam } from '../params.ts';
import { clientCredentials } from './grants/client-credentials.ts';
import { refreshToken } from './grants/refresh-token.ts';
import type { GrantDeps, GrantHandler } from './types.ts';
import type { DPoPService } from '../dpop/service.ts';
import { boundGrantDeps } from '../dpop/bind.ts';
import { setAuditActor } from '../../audit/request-context.ts';

/** Grant types every app has; the authorization-code grant comes with the provider's deps. */
const BASE_GRANTS: Partial<Record<GrantType, GrantHandler>> = {
  client_credentials: clientCredentials,
  refresh_token: refreshToken,
};

const tokenResponseSchema = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    scope: { type: 'string' },
    id_token: { type: 'string' },
    issued_token_type: { type: 'string' },
  },
  required: ['access_token', 'token_type', 'expires_in'],
} as const;

/** `POST /oauth/token` (RFC 6749 §3.2): client authentication, then the grant's handler. */
export function registerTokenEndpoint(app: FastifyInstance, deps: GrantDeps & { authenticator: ClientAuthenticator; grants?: Partial<Record<GrantType, GrantHandler>>; dpop?: DPoPService }): void {
  // Anything not listed (password, implicit …) is unsupported_grant_type.
  const grants: Partial<Record<GrantType, GrantHandler>> = { ...BASE_GRANTS, ...deps.grants };
  const endpoint = `${deps.issuer}/oauth/token`;
  app.post('/oauth/token', {
    schema: {
      tags: ['oauth'],
      summary: 'OAuth 2.1 token endpoint: authorization_code (PKCE), refresh_token and client_credentials (form-encoded).',
      consumes: ['application/x-www-form-urlencoded'],
      response: { 200: tokenResponseSchema },
    },
  }, async (request, reply) => {
    // RFC 6749 §5.1: token responses and errors are never cached.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const body = formBody(request);
    const grantType = requiredParam(body, 'grant_type');
    const handler = Object.hasOwn(grants, grantType) ? grants[grantType as GrantType] : undefined;
    if (!handler) throw apiError('unsupported_grant_type', `The grant type ${grantType.slice(0, 64)} is not supported.`);
    const client = await deps.authenticator.authenticate(request, body, { endpoint });
    // docs/audit.md "Who is the actor": a client that proved who it is; a public client proved nothing.
    if (client.type === 'confidential') setAuditActor(request, `client:${client.clientId}`);
    if (!client.grantTypes.includes(grantType as GrantType)) throw apiError('unauthorized_client', `This client may not use ${grantType}.`);
    // RFC 9449 §5: with a valid DPoP proof, the tokens are bound to its key (token_type DPoP).
    const dpop = await deps.dpop?.tokenRequest(request, reply, client, endpoint);
    if (!dpop) return handler(body, client, deps, {});
    const response = await handler(body, client, boundGrantDeps(deps, client, dpop), { dpop });
    return { ...response, token_type: 'DPoP' };
  });
}
