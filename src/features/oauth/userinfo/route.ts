import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UserStore } from '../../accounts/store.ts';
import type { AccessTokenVerifier } from '../../tokens/verify.ts';
import { userClaims } from '../id-token.ts';
import type { DPoPService } from '../dpop/service.ts';

/** RFC 6750 §2.1: the bearer token from the Authorization header only (scheme case-insensitive). */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1];
}

/** RFC 9449 §7.1: `Authorization: DPoP <token>` (scheme case-insensitive). */
function dpopToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return /^DPoP +([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())?.[1];
}

type Refusal = 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';

function refuse(reply: FastifyReply, status: 401 | 403, error: Refusal | undefined, description: string, dpop?: DPoPService) {
  // A DPoP-bound token, or the DPoP scheme, is answered with a DPoP challenge (RFC 9449 §7.1).
  const parts = dpop ? [dpop.challenge(error, description)] : ['Bearer realm="gatehouse"'];
  if (error && !dpop) parts.push(`error="${error}"`, `error_description="${description}"`);
  if (error === 'insufficient_scope') parts.push('scope="openid"');
  return reply
    .code(status)
    .header('www-authenticate', parts.join(', '))
    .header('cache-control', 'no-store')
    .send(error ? { error, error_description: description } : { error: 'invalid_token', error_description: description });
}

/**
 * `/oauth/userinfo` (OIDC Core §5.3), GET and POST: an active access token of a user, whose
 * audience includes this issuer and whose scope includes `openid`; claims by scope. A
 * client-credentials token has no user and is refused (SEC-OAUTH-17, SEC-OAUTH-35).
 */
export function registerUserinfoRoute(app: FastifyInstance, deps: { issuer: string; verifier: AccessTokenVerifier; users: UserStore; dpop?: DPoPService }): void {
  const url = `${deps.issuer}/oauth/userinfo`;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('access-control-allow-origin', '*');
    const viaDPoP = deps.dpop ? dpopToken(request) : undefined;
    let token = viaDPoP ?? bearerToken(request);
    // RFC 6750 §2.2: a form-encoded POST body may carry the token instead (never the query string).
    const body = request.method === 'POST' && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(request.headers['content-type'] ?? '') ? (request.body as Record<string, unknown> | undefined) : undefined;
    const inBody = body?.access_token;
    if (inBody !== undefined) {
      if (token !== undefined || typeof inBody !== 'string') {
        return reply.code(400).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: 'Send the access token one way only.' });
      }
      token = inBody;
    }
    if (!token) return refuse(reply, 401, undefined, 'A bearer access token is required.');
    const claims = await deps.verifier.active(token);
    if (!claims) return refuse(reply, 401, 'invalid_token', 'The access token is invalid, expired or revoked.', viaDPoP ? deps.dpop : undefined);
    if (viaDPoP !== undefined || claims.cnf) {
      // RFC 9449 §7: a bound token only with the DPoP scheme and a proof of its key; the DPoP scheme only with a bound token.
      if (!deps.dpop || viaDPoP === undefined || !claims.cnf) return refuse(reply, 401, 'invalid_token', 'The access token must be presented with its DPoP proof.', deps.dpop);
      const proof = await deps.dpop.resourceRequest(request, reply, { url, accessToken: token });
      if (!proof.ok) return refuse(reply, 401, proof.error, proof.description, deps.dpop);
      if (proof.jkt !== claims.cnf.jkt) return refuse(reply, 401, 'invalid_dpop_proof', 'The DPoP proof is not from the key the token is bound to.', deps.dpop);
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(deps.issuer)) return refuse(reply, 401, 'invalid_token', 'The access token is not meant for this server.');
    if (claims.sub.startsWith('client:')) return refuse(reply, 401, 'invalid_token', 'The access token does not belong to a user.');
    const scope = claims.scope.split(' ').filter(Boolean);
    if (!scope.includes('openid')) return refuse(reply, 403, 'insufficient_scope', 'The access token lacks the openid scope.');
    const user = await deps.users.findById(claims.sub);
    if (!user || user.disabledAt !== null) return refuse(reply, 401, 'invalid_token', 'The user no longer exists.');
    reply.header('cache-control', 'no-store');
    // How the user authenticated, as the token records it (docs/mfa.md): RFC 8176 amr and acr.
    return { ...userClaims(user, scope), ...(claims.amr ? { amr: claims.amr } : {}), ...(claims.acr ? { acr: claims.acr } : {}) };
  };
  const schema = { tags: ['oidc'], summary: 'OpenID Connect userinfo: the signed-in user’s claims by scope (Authorization: Bearer).' };
  app.get('/oauth/userinfo', { schema }, handler);
  app.post('/oauth/userinfo', { schema }, handler);
}
