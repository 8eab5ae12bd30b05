import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import type { UserStore } from '../accounts/store.ts';
import type { ClientStore } from '../clients/store.ts';
import type { SessionAuth } from '../sessions/http.ts';
import type { AccessTokenVerifier } from '../tokens/verify.ts';

/**
 * The admin scopes a machine client may hold (client credentials only), one per area so that
 * automation gets least privilege. They double as the permission strings of the role catalog.
 */
export const ADMIN_SCOPES = ['admin:users', 'admin:roles', 'admin:audit', 'admin:keys', 'admin:clients', 'admin:identity-providers'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

export function isAdminScope(scope: string): scope is AdminScope {
  return (ADMIN_SCOPES as readonly string[]).includes(scope);
}

/** Who called an admin endpoint, for the audit log (`actorId`). */
export interface AdminCaller {
  /** The admin's user id, or `client:<client_id>` for a machine client. */
  id: string;
  kind: 'user' | 'client';
  ip: string;
  userAgent: string | null;
}

export interface AdminAccessDeps {
  auth: SessionAuth;
  users: UserStore;
  /** Without these, only admin sessions are accepted. */
  verifier?: AccessTokenVerifier;
  clients?: Pick<ClientStore, 'get'>;
  issuer: string;
  /** The permissions the user's roles grant (role catalog); the `admin` role grants every admin scope. */
  permissionsOf?: (roles: readonly string[]) => Promise<ReadonlySet<string>>;
}

/**
 * The admin API's `onRequest` check (SEC-ASVS-01), per scope, before the body is parsed:
 * - a bearer token: only a client-credentials token of ours (subject `client:<client_id>`, no
 *   grant, no session, audience the issuer) whose scope holds `scope` — and whose client still
 *   exists and is still allowed it, so taking the scope away takes effect at once (SEC-ASVS-06).
 *   A user's access token is refused whatever its scope: admin power is never delegated to apps.
 * - otherwise a session of an enabled user whose current roles (read from the database on every
 *   request, not from the session cache) are `admin` or grant `scope`.
 * 401 without credentials or with a dead token, 403 otherwise. Every answer is `no-store`.
 */
export function createAdminAccess(deps: AdminAccessDeps) {
  const callers = new WeakMap<FastifyRequest, AdminCaller>();

  function userAgent(request: FastifyRequest): string | null {
    const agent = request.headers['user-agent'];
    return typeof agent === 'string' ? agent.slice(0, 512) : null;
  }

  async function viaToken(request: FastifyRequest, token: string, scope: AdminScope): Promise<AdminCaller> {
    const claims = deps.verifier ? await deps.verifier.active(token) : undefined;
    if (!claims) throw apiError('unauthenticated', 'The access token is invalid, expired or revoked.', { headers: { 'www-authenticate': 'Bearer realm="gatehouse", error="invalid_token"' } });
    const forbidden = () => apiError('forbidden', `This needs a client-credentials token with the ${scope} scope.`, { headers: { 'www-authenticate': `Bearer realm="gatehouse", error="insufficient_scope", scope="${scope}"` } });
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.sub !== `client:${claims.client_id}` || claims.gid !== undefined || claims.sid !== undefined) throw forbidden();
    if (!audiences.includes(deps.issuer) || !claims.scope.split(' ').includes(scope)) throw forbidden();
    const client = await deps.clients?.get(claims.client_id);
    if (!client || !client.scopes.includes(scope) || !client.grantTypes.includes('client_credentials')) throw forbidden();
    return { id: claims.sub, kind: 'client', ip: request.ip, userAgent: userAgent(request) };
  }

  async function viaSession(request: FastifyRequest, scope: AdminScope): Promise<AdminCaller> {
    const record = await deps.auth.require(request);
    const user = await deps.users.findById(record.session.userId);
    if (!user || user.disabledAt !== null) throw apiError('forbidden', 'This needs the admin role.');
    const allowed = user.roles.includes('admin') || (deps.permissionsOf !== undefined && (await deps.permissionsOf(user.roles)).has(scope));
    if (!allowed) throw apiError('forbidden', `This needs the admin role or a role granting ${scope}.`);
    return { id: user.id, kind: 'user', ip: request.ip, userAgent: userAgent(request) };
  }

  return {
    /** The `onRequest` hook for routes of `scope`. */
    require: (scope: AdminScope) => async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      reply.header('cache-control', 'no-store');
      const header = request.headers.authorization;
      let caller: AdminCaller;
      if (typeof header === 'string' && header.length > 0) {
        const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
        if (!match) throw apiError('unauthenticated', 'Send Authorization: Bearer <access token>.', { headers: { 'www-authenticate': 'Bearer realm="gatehouse"' } });
        caller = await viaToken(request, match[1]!, scope);
      } else {
        caller = await viaSession(request, scope);
      }
      callers.set(request, caller);
    },
    /** The caller of a request that passed `require`. */
    caller: (request: FastifyRequest): AdminCaller => {
      const caller = callers.get(request);
      if (!caller) throw new Error('admin route without the admin access check');
      return caller;
    },
  };
}

export type AdminAccess = ReturnType<typeof createAdminAccess>;
