import type { FastifyInstance } from 'fastify';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import type { Client } from '../../clients/model.ts';
import type { RefreshTokenService } from '../../tokens/refresh.ts';
import { tooManyRequests, type RateLimiter, type RateLimitRule } from '../../rate-limit/limiter.ts';
import type { AccessTokenVerifier } from '../../tokens/verify.ts';
import { formBody, requiredParam } from '../params.ts';

const INACTIVE = Object.freeze({ active: false });

/**
 * `POST /oauth/introspect` (RFC 7662) for JWT access tokens and opaque refresh tokens. Anything
 * revoked, expired, malformed, foreign or not visible to the calling client is exactly
 * `{"active":false}` (§2.2). A client sees tokens issued to it and access tokens whose audience
 * is one of its registered audiences (a resource server).
 */
export function registerIntrospectionEndpoint(app: FastifyInstance, deps: { issuer: string; authenticator: ClientAuthenticator; refreshTokens: RefreshTokenService; verifier: AccessTokenVerifier; limiter: RateLimiter; inactiveLimit: number; onResult?: (result: 'active' | 'inactive') => void }): void {
  const endpoint = `${deps.issuer}/oauth/introspect`;
  // SEC-OAUTH-24: a client that keeps asking about tokens that are not active is scanning.
  const scanning: RateLimitRule = { name: 'introspect:inactive', limit: deps.inactiveLimit, windowMs: 5 * 60_000 };
  app.post('/oauth/introspect', {
    schema: { tags: ['oauth'], summary: 'RFC 7662 token introspection (form-encoded).', consumes: ['application/x-www-form-urlencoded'] },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const body = formBody(request);
    const client = await deps.authenticator.authenticate(request, body, { endpoint });
    const token = requiredParam(body, 'token');
    const budget = await deps.limiter.peek(scanning, client.clientId);
    if (!budget.allowed) throw tooManyRequests(budget);
    const inactive = async () => {
      await deps.limiter.hit(scanning, client.clientId);
      deps.onResult?.('inactive');
      return INACTIVE;
    };
    if (token.split('.').length === 3) {
      const claims = await deps.verifier.active(token);
      if (!claims || !maysee(client, claims.client_id, claims.aud)) return inactive();
      deps.onResult?.('active');
      return {
        active: true,
        iss: claims.iss,
        sub: claims.sub,
        aud: claims.aud,
        client_id: claims.client_id,
        scope: claims.scope,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        // RFC 9449 §6.2: a DPoP-bound token says so, with the key it is bound to.
        token_type: claims.cnf ? 'DPoP' : 'Bearer',
        ...(claims.cnf ? { cnf: { jkt: claims.cnf.jkt } } : {}),
        ...(claims.act ? { act: claims.act } : {}),
        ...(claims.sid ? { sid: claims.sid } : {}),
        ...(claims.roles ? { roles: claims.roles } : {}),
      };
    }
    const found = await deps.refreshTokens.introspect(token);
    if (!found || found.grant.client_id !== client.clientId) return inactive();
    deps.onResult?.('active');
    return {
      active: true,
      iss: deps.issuer,
      sub: found.grant.user_id ?? `client:${found.grant.client_id}`,
      client_id: found.grant.client_id,
      scope: found.token.scope,
      exp: Math.floor(Math.min(found.token.idle_expires_at, found.grant.expires_at) / 1000),
      iat: Math.floor(found.token.created_at / 1000),
      token_type: 'refresh_token',
    };
  });
}

function maysee(client: Client, tokenClientId: string, audience: string | string[]): boolean {
  if (tokenClientId === client.clientId) return true;
  const audiences = Array.isArray(audience) ? audience : [audience];
  return audiences.some((value) => client.audiences.includes(value));
}
