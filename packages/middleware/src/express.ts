/**
 * `@gatehouse/middleware/express`: the kit for Express 4 and 5. Each middleware authenticates
 * the request once, sets `req.auth` (the principal, or null on an optional route without
 * credentials), and answers refusals itself (401/403/503 JSON with `WWW-Authenticate`). It uses
 * only Node's `req.headers` and `res.statusCode / setHeader / end`, so it needs nothing from
 * Express at run time and works the same on both major versions.
 */
import { admit, failureBody } from './adapter.ts';
import { requireAuth, requirePermission, requireRole, requireScope } from './guards.ts';
import type { Authenticator, Guard, Principal, RequestTarget } from './types.ts';

declare global {
  // Express's own declaration-merging point (@types/express): `req.auth` is typed everywhere.
  namespace Express {
    interface Request {
      auth?: Principal | null;
    }
  }
}

/** The parts of an Express request the kit reads and writes. */
export interface ExpressLikeRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  auth?: Principal | null;
  /** For DPoP proofs (`htm`, `htu`): Express's `method`, `protocol` (honours `trust proxy`) and `originalUrl`. */
  method?: string;
  protocol?: string;
  originalUrl?: string;
  url?: string;
}

/** The request a DPoP proof is checked against (`dpop.origin` replaces the origin when a proxy changes it). */
function targetOf(req: ExpressLikeRequest): RequestTarget | undefined {
  const host = req.headers.host;
  if (typeof req.method !== 'string' || typeof host !== 'string') return undefined;
  return { method: req.method, url: `${req.protocol ?? 'http'}://${host}${req.originalUrl ?? req.url ?? '/'}` };
}

/** The parts of an Express (Node) response the kit uses to refuse a request. */
export interface ExpressLikeResponse {
  statusCode: number;
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type ExpressMiddleware = (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (error?: unknown) => void) => void;

export interface ExpressAuth {
  /** Optional authentication: `req.auth` is the principal, or null without credentials; bad credentials are refused. */
  authenticate(): ExpressMiddleware;
  /** 401 unless the request is authenticated. */
  requireAuth(): ExpressMiddleware;
  /** 401 unless authenticated, 403 `insufficient_scope` unless every scope is granted. */
  requireScope(...scopes: string[]): ExpressMiddleware;
  /** 401 unless authenticated, 403 unless the principal has at least one of the roles. */
  requireRole(...roles: string[]): ExpressMiddleware;
  /** 403 `insufficient_scope` unless the principal has every one of the permissions (Gatehouse's role catalog). */
  requirePermission(...permissions: string[]): ExpressMiddleware;
}

/** Express middleware over an authenticator made with `createAuthenticator`. */
export function createExpressAuth(authenticator: Authenticator): ExpressAuth {
  const seen = new WeakMap<object, Principal | null>();
  const middleware = (guard: Guard | undefined): ExpressMiddleware => (req, res, next) => {
    // Express 4 does not catch rejected promises: everything ends in exactly one next() or answer.
    let done = false;
    const proceed = (error?: unknown): void => {
      if (done) return;
      done = true;
      next(error);
    };
    admit(authenticator, seen, req, req.headers, guard, targetOf(req))
      .then((admission) => {
        if (admission.ok) {
          req.auth = admission.principal;
          return proceed();
        }
        if (res.headersSent) return proceed(new Error('@gatehouse/middleware: the response had already started'));
        done = true;
        res.statusCode = admission.status;
        for (const [name, value] of Object.entries(admission.headers)) res.setHeader(name, value);
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(failureBody(admission));
      })
      .catch(proceed);
  };
  return {
    authenticate: () => middleware(undefined),
    requireAuth: () => middleware(requireAuth()),
    requireScope: (...scopes) => middleware(requireScope(...scopes)),
    requireRole: (...roles) => middleware(requireRole(...roles)),
    requirePermission: (...permissions) => middleware(requirePermission(...permissions)),
  };
}
