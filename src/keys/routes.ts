import type { FastifyInstance } from 'fastify';
import type { KeyService } from './service.ts';

/**
 * `GET /.well-known/jwks.json` (RFC 7517): every published public key. Verifiers may cache it
 * for `jwksCacheSeconds`; a new key is published twice that long before it signs, so a cached
 * copy always holds the key of any token it meets (and `kid` misses tell jose to refetch).
 */
export function registerJWKSRoute(app: FastifyInstance, deps: { keys: KeyService; cacheSeconds: number }): void {
  app.get('/.well-known/jwks.json', {
    schema: {
      tags: ['keys'],
      summary: 'The JSON Web Key Set of the keys that sign tokens (next, current and recently retired).',
      response: { 200: { type: 'object', properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } }, required: ['keys'] } },
    },
  }, async (_request, reply) => {
    reply
      .header('cache-control', `public, max-age=${deps.cacheSeconds}`)
      .header('access-control-allow-origin', '*')
      .type('application/jwk-set+json; charset=utf-8');
    return deps.keys.jwks();
  });
}
