import type { FastifyInstance } from 'fastify';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import type { RefreshTokenService } from '../../tokens/refresh.ts';
import type { RevocationService } from '../../tokens/revocation.ts';
import type { AccessTokenVerifier } from '../../tokens/verify.ts';
import { formBody, requiredParam } from '../params.ts';

/**
 * `POST /oauth/revoke` (RFC 7009). A refresh token revokes its whole grant; an access token is
 * revoked by `jti` until it expires. Tokens that are unknown, expired or another client's are
 * answered 200 all the same (§2.2), so the endpoint tells nothing.
 */
export function registerRevocationEndpoint(app: FastifyInstance, deps: { issuer: string; authenticator: ClientAuthenticator; refreshTokens: RefreshTokenService; revocations: RevocationService; verifier: AccessTokenVerifier }): void {
  const endpoint = `${deps.issuer}/oauth/revoke`;
  app.post('/oauth/revoke', {
    schema: { tags: ['oauth'], summary: 'RFC 7009 token revocation (form-encoded).', consumes: ['application/x-www-form-urlencoded'] },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const body = formBody(request);
    const client = await deps.authenticator.authenticate(request, body, { endpoint });
    const token = requiredParam(body, 'token');
    if (token.split('.').length === 3) {
      const claims = await deps.verifier.verify(token).catch(() => undefined);
      if (claims && claims.client_id === client.clientId) await deps.revocations.revokeAccessToken(claims.jti, claims.exp * 1000);
    } else {
      await deps.refreshTokens.revoke(token, client);
    }
    return reply.code(200).send();
  });
}
