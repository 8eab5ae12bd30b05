/**
 * `@gatehouse/middleware/fastify`: the kit for Fastify 5, as hooks (`onRequest` — before the body
 * is read — or `preHandler`). Each hook authenticates the request once, sets `request.auth`, and
 * answers refusals itself. `plugin` declares the `auth` request decorator up front (Fastify's
 * recommended shape for per-request properties); the hooks work without it too.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { admit, failureBody } from './adapter.ts';
import { requireAuth, requirePermission, requireRole, requireScope } from './guards.ts';
import type { Authenticator, Guard, Principal } from './types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the Gatehouse kit's hooks: the principal, or null on an optional route without credentials. */
    auth: Principal | null;
  }
}

export type FastifyAuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

export interface FastifyAuth {
  /** Register with `app.register(auth.plugin)`: decorates every request with `auth` (null). */
  plugin: FastifyPluginCallback;
  /** Optional authentication: `request.auth` is the principal, or null without credentials; bad credentials are refused. */
  authenticate(): FastifyAuthHook;
  requireAuth(): FastifyAuthHook;
  /** 403 `insufficient_scope` unless every scope is granted. */
  requireScope(...scopes: string[]): FastifyAuthHook;
  /** 403 unless the principal has at least one of the roles. */
  requireRole(...roles: string[]): FastifyAuthHook;
  /** 403 `insufficient_scope` unless the principal has every one of the permissions (Gatehouse's role catalog). */
  requirePermission(...permissions: string[]): FastifyAuthHook;
}

/** Fastify hooks over an authenticator made with `createAuthenticator`. */
export function createFastifyAuth(authenticator: Authenticator): FastifyAuth {
  const seen = new WeakMap<object, Principal | null>();
  const hook = (guard: Guard | undefined): FastifyAuthHook => async (request, reply) => {
    const admission = await admit(authenticator, seen, request, request.headers, guard, { method: request.method, url: `${request.protocol}://${request.host}${request.url}` });
    if (admission.ok) {
      request.auth = admission.principal;
      return undefined;
    }
    return reply.code(admission.status).headers(admission.headers).type('application/json; charset=utf-8').send(failureBody(admission));
  };
  const plugin: FastifyPluginCallback = (instance, _options, done) => {
    if (!instance.hasRequestDecorator('auth')) instance.decorateRequest('auth', null);
    done();
  };
  // What fastify-plugin does: the decorator applies to the registering scope, not a child.
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'gatehouse-middleware' });
  return {
    plugin,
    authenticate: () => hook(undefined),
    requireAuth: () => hook(requireAuth()),
    requireScope: (...scopes) => hook(requireScope(...scopes)),
    requireRole: (...roles) => hook(requireRole(...roles)),
    requirePermission: (...permissions) => hook(requirePermission(...permissions)),
  };
}
