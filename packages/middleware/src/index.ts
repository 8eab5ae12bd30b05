/**
 * `@gatehouse/middleware`: the resource-server kit. One framework-free `createAuthenticator`
 * (bearer JWTs verified against Gatehouse's JWKS, session cookies validated by Gatehouse,
 * revocations followed from its stream), guards, and adapters under
 * `@gatehouse/middleware/express`, `…/fastify` and `…/hono`. See docs/resource-servers.md.
 */
export { createAuthenticator } from './authenticator.ts';
export { requireAuth, requirePermission, requireRole, requireScope } from './guards.ts';
export { KitConfigError } from './options.ts';
export type { AuthFailure, FailureCode, WireError } from './failures.ts';
export type {
  Algorithm,
  Authenticator,
  AuthenticatorOptions,
  AuthResult,
  Guard,
  HeadersInput,
  RequestTarget,
  KitEvent,
  Principal,
  RevocationOptions,
  SessionOptions,
  WhenRevocationsUnavailable,
} from './types.ts';
