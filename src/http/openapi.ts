import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';

/**
 * Route schemas become an OpenAPI 3.1 document at `/openapi.json`. Must be registered before
 * the routes it describes.
 */
export async function registerOpenAPI(app: FastifyInstance, options: { publicUrl: string; version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: options.version,
        description: 'Authentication server: sessions, tokens, OAuth 2.1 / OpenID Connect.',
      },
      servers: [{ url: options.publicUrl }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return app.swagger();
  });
}
