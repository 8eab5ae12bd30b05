import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * The request an audit event is recorded in: every event carries its request id, and the IP and
 * user agent when the caller did not pass them (a background job records none). The request
 * object itself is kept, so nothing is computed unless an event is recorded.
 */
const current = new AsyncLocalStorage<FastifyRequest>();

export interface AuditRequestContext {
  requestId: string;
  ip: string;
  userAgent: string | null;
}

export function registerAuditRequestContext(app: FastifyInstance): void {
  // `run(…, done)`: the handler continues inside the context. preHandler, not onRequest: body
  // parsing resumes from the socket's stream events, which would lose a context entered earlier.
  app.addHook('preHandler', (request, _reply, done) => {
    current.run(request, done);
  });
}

export function currentAuditRequest(): AuditRequestContext | undefined {
  const request = current.getStore();
  if (!request) return undefined;
  return { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}
