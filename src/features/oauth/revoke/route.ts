import type { FastifyInstance } from 'fastify';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import type { RefreshTokenService } from '../../tokens/refresh.ts';
import type { RevocationService } from '../../tokens/revocation.ts';
import type { AccessTokenVerifier } from '../../tokens/verify.ts';
import { apiError } from '../../../errors/catalog.ts';
import { formBody, requiredParam } from '../params.ts';
import { setAuditActor } from '../../audit/request-context.ts';

/** RFC 7009 §2.1: a valid token issued to another client is refused, and stays valid. */
function notYours() {
  return apiError('unauthorized_client', 'The token was not issued to this client.');
}

/**
 * `POST /oauth/revoke` (RFC 7009). A refresh token revokes its whole grant; an access token is
 * revoked by `jti` until it expires. Unknown, malformed or expired tokens are answered 200
 * (§2.2); a live token of another client is refused with `unauthorized_client` (§2.1, SEC-OAUTH-23).
 */
export function registerRevocationEndpoint(app: FastifyInstance, deps: { issuer: string; authenticator: ClientAuthenticator; refreshTokens: RefreshTokenService; revocations: RevocationService; verifier: AccessTokenVerifier }): void {
  const endpoint = `${deps.issuer}/oauth/revoke`;
  app.post('/oauth/revoke', {
    schema: { tags: ['oauth'], summary: 'RFC 7009 token revocation (form-encoded).', consumes: ['application/x-www-form-urlencoded'] },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const body = formBody(request);
    const client = await deps.authenticator.authenticate(request, body, { endpoint });
    // docs/audit.md "Who is the actor": a client that proved who it is; a public client proved nothing.
    if (client.type === 'confidential') setAuditActor(request, `client:${client.clientId}`);
    const token = requiredParam(body, 'token');
    if (token.split('.').length === 3) {
      const claims = await deps.verifier.verify(token).catch(() => undefined);
      if (claims && claims.client_id !== client.clientId) throw notYours();
      if (claims) await deps.revocations.revokeAccessToken(claims.jti, claims.exp * 1000);
    } else if ((await deps.refreshTokens.revoke(token, client)) === 'foreign') {
      throw notYours();
    }
    return reply.code(200).send();
  });
}
