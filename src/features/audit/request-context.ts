import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * The request an audit event is recorded in: every event carries its request id, the IP and
 * user agent when the caller did not pass them, and who the request is authenticated as (a
 * background job records none of these). The request object itself is kept, so nothing is
 * computed unless an event is recorded.
 */
const current = new AsyncLocalStorage<FastifyRequest>();

/**
 * Who each request is authenticated as (`setAuditActor`). Keyed by the request, not held in the
 * async context: the admin access check runs in `onRequest`, before the context is entered.
 */
const actors = new WeakMap<FastifyRequest, string>();

export interface AuditRequestContext {
  requestId: string;
  ip: string;
  userAgent: string | null;
  /** The principal the request is authenticated as (`setAuditActor`); null when none is. */
  actorId: string | null;
}

export function registerAuditRequestContext(app: FastifyInstance): void {
  // `run(…, done)`: the handler continues inside the context. preHandler, not onRequest: body
  // parsing resumes from the socket's stream events, which would lose a context entered earlier.
  app.addHook('preHandler', (request, _reply, done) => {
    current.run(request, done);
  });
}

/**
 * Names the principal `request` is authenticated as, the default `actor_id` of the events it
 * records (docs/audit.md, "Who is the actor"): a user id, or `client:<client_id>` for a machine
 * client. Call it where authentication succeeds, never before: a failed attempt stays anonymous.
 */
export function setAuditActor(request: FastifyRequest, actorId: string): void {
  actors.set(request, actorId);
}

export function currentAuditRequest(): AuditRequestContext | undefined {
  const request = current.getStore();
  if (!request) return undefined;
  return { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null, actorId: actors.get(request) ?? null };
}
