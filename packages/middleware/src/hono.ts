/**
 * `@gatehouse/middleware/hono`: the kit for Hono 4. Each middleware authenticates the request
 * once, sets the `auth` variable (`c.get('auth')` / `c.var.auth`), and answers refusals itself.
 * Reads only `c.req.raw.headers`, so it runs wherever Hono runs on Node.
 */
import type { MiddlewareHandler } from 'hono';
import { admit, failureBody } from './adapter.ts';
import { requireAuth, requirePermission, requireRole, requireScope } from './guards.ts';
import type { Authenticator, Guard, Principal } from './types.ts';

/** Add to your app's Env (`new Hono<AuthEnv>()`) for a typed `c.get('auth')`. */
export type AuthEnv = { Variables: { auth: Principal | null } };

export interface HonoAuth {
  /** Optional authentication: `auth` is the principal, or null without credentials; bad credentials are refused. */
  authenticate(): MiddlewareHandler<AuthEnv>;
  requireAuth(): MiddlewareHandler<AuthEnv>;
  /** 403 `insufficient_scope` unless every scope is granted. */
  requireScope(...scopes: string[]): MiddlewareHandler<AuthEnv>;
  /** 403 unless the principal has at least one of the roles. */
  requireRole(...roles: string[]): MiddlewareHandler<AuthEnv>;
  /** 403 `insufficient_scope` unless the principal has every one of the permissions (Gatehouse's role catalog). */
  requirePermission(...permissions: string[]): MiddlewareHandler<AuthEnv>;
}

/** Hono middleware over an authenticator made with `createAuthenticator`. */
export function createHonoAuth(authenticator: Authenticator): HonoAuth {
  const seen = new WeakMap<object, Principal | null>();
  const middleware = (guard: Guard | undefined): MiddlewareHandler<AuthEnv> => async (c, next) => {
    const admission = await admit(authenticator, seen, c.req.raw, c.req.raw.headers, guard, { method: c.req.method, url: c.req.url });
    if (!admission.ok) {
      return new Response(failureBody(admission), { status: admission.status, headers: { ...admission.headers, 'content-type': 'application/json; charset=utf-8' } });
    }
    c.set('auth', admission.principal);
    await next();
    return undefined;
  };
  return {
    authenticate: () => middleware(undefined),
    requireAuth: () => middleware(requireAuth()),
    requireScope: (...scopes) => middleware(requireScope(...scopes)),
    requireRole: (...roles) => middleware(requireRole(...roles)),
    requirePermission: (...permissions) => middleware(requirePermission(...permissions)),
  };
}
