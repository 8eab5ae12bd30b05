import type { FastifyInstance } from 'fastify';
import { apiError } from '../errors/catalog.ts';
import type { Csrf } from './csrf.ts';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Rules for the first-party JSON API under `/api/`:
 * - state-changing requests must come from an allowed origin (CSRF layer 1) and carry
 *   `Content-Type: application/json` (a cross-site form cannot send that without a preflight);
 * - CORS with credentials only for configured first-party origins, never a reflected arbitrary
 *   origin (SEC-ASVS-11).
 */
export function registerApiGuard(app: FastifyInstance, csrf: Csrf): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.url.startsWith('/api/')) return done();
    const origin = request.headers.origin;
    const corsAllowed = origin !== undefined && csrf.isAllowedOrigin(origin);
    if (corsAllowed) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('vary', 'Origin');
    }
    if (request.method === 'OPTIONS') {
      if (!corsAllowed) return done(apiError('forbidden', 'Cross-origin requests from this origin are not allowed.'));
      reply.header('access-control-allow-methods', 'GET, POST, PATCH, DELETE');
      reply.header('access-control-allow-headers', 'content-type, authorization');
      reply.header('access-control-max-age', '600');
      // Answered here: a callback hook that sends does not call done().
      reply.code(204).send();
      return;
    }
    if (!UNSAFE.has(request.method)) return done();
    try {
      csrf.checkOrigin(request);
    } catch (error) {
      return done(error as Error);
    }
    // DELETE carries no body, and no HTML form can send it cross-site without a preflight.
    if (request.method === 'DELETE') return done();
    const type = request.headers['content-type'];
    if (type === undefined || !/^application\/json\s*(;|$)/i.test(type)) {
      return done(apiError('unsupported_media_type', 'Send the request body as application/json.'));
    }
    done();
  });
}

/** Parses `application/x-www-form-urlencoded` bodies; repeated fields become arrays (refused by schemas: SEC-ASVS-16). */
export function registerFormParser(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const result: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    for (const [name, value] of new URLSearchParams(body as string)) {
      const existing = result[name];
      result[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    done(null, result);
  });
}
