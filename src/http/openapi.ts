import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { describeRoute, securitySchemes } from './openapi-operations.ts';

/**
 * Route schemas become an OpenAPI 3.1 document at `/openapi.json`, fit for code generation:
 * every operation has a stable `operationId`, its `security` and its 4xx answers
 * (openapi-operations.ts adds them centrally, from one table). Must be registered before the
 * routes it describes.
 *
 * Public on purpose: it describes only the public API (what the source code says anyway), no
 * configuration, client or user; SDK generators and API consoles fetch it unauthenticated.
 */
export async function registerOpenAPI(app: FastifyInstance, options: { publicUrl: string; version: string; sessionCookieName?: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: options.version,
        description: 'Authentication server: sessions, tokens, OAuth 2.1 / OpenID Connect.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: options.publicUrl }],
      components: { securitySchemes: securitySchemes(options.sessionCookieName ?? '__Host-gatehouse') },
    },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      return { schema: describeRoute(method, url, schema as Record<string, unknown> | undefined) as typeof schema, url };
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return app.swagger();
  });
}
