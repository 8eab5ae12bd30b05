import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { apiError } from '../../errors/catalog.ts';
import { setAuditActor } from '../audit/request-context.ts';
import { mfaRequiredFor } from '../mfa/policy.ts';
import type { UserStore } from '../accounts/store.ts';
import type { ClientStore } from '../clients/store.ts';
import type { SessionAuth } from '../sessions/http.ts';
import type { AccessTokenVerifier } from '../tokens/verify.ts';

/**
 * The admin scopes a machine client may hold (client credentials only), one per area so that
 * automation gets least privilege. They double as the permission strings of the role catalog.
 */
export const ADMIN_SCOPES = ['admin:users', 'admin:roles', 'admin:audit', 'admin:keys', 'admin:clients', 'admin:identity-providers', 'admin:branding'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

export function isAdminScope(scope: string): scope is AdminScope {
  return (ADMIN_SCOPES as readonly string[]).includes(scope);
}

/** Who called an admin endpoint, for the audit log (`actorId`). */
export interface AdminCaller {
  /** The admin's user id, or `client:<client_id>` for a machine client. */
  id: string;
  kind: 'user' | 'client';
  /**
   * What the caller holds, for role assignment (users/service.ts): `all` for a user with the
   * `admin` role; else the permissions of their roles, or the client's token scopes (those its
   * registration still allows).
   */
  permissions: ReadonlySet<string> | 'all';
  ip: string;
  userAgent: string | null;
}

/** Whether `caller` holds `scope`: the admin role holds every admin scope. */
export function holdsAdminScope(caller: AdminCaller, scope: AdminScope): boolean {
  return caller.permissions === 'all' || caller.permissions.has(scope);
}

/**
 * The caller of every request that passed an admin access check, whichever app checked it, so
 * that shared page chrome (the console's navigation) can show only the areas the caller holds.
 */
const admitted = new WeakMap<FastifyRequest, AdminCaller>();

/** The caller `request` was admitted as, if it passed an admin access check. */
export function admittedCaller(request: FastifyRequest): AdminCaller | undefined {
  return admitted.get(request);
}

/** The MFA policy and how recent an admin session's second factor must be (docs/admin.md). */
export type AdminMfaPolicy = Pick<Config, 'mfaRequiredForAll' | 'mfaRequiredRoles' | 'adminRecentSecondFactorSeconds'>;

export interface AdminAccessDeps {
  auth: SessionAuth;
  users: UserStore;
  /** Without these, only admin sessions are accepted. */
  verifier?: AccessTokenVerifier;
  clients?: Pick<ClientStore, 'get'>;
  issuer: string;
  /** The permissions the user's roles grant (role catalog); the `admin` role grants every admin scope. */
  permissionsOf?: (roles: readonly string[]) => Promise<ReadonlySet<string>>;
  /** Admin sessions of users the MFA policy covers need a second factor this recent. */
  secondFactor: { config: AdminMfaPolicy; now: () => number };
}

/**
 * The admin API's `onRequest` check (SEC-ASVS-01), per scope, before the body is parsed:
 * - a bearer token: only a client-credentials token of ours (subject `client:<client_id>`, no
 *   grant, no session, audience the issuer) whose scope holds `scope` — and whose client still
 *   exists and is still allowed it, so taking the scope away takes effect at once (SEC-ASVS-06).
 *   A user's access token is refused whatever its scope: admin power is never delegated to apps.
 * - otherwise a session of an enabled user whose current roles (read from the database on every
 *   request, not from the session cache) are `admin` or grant `scope` — and, when the MFA policy
 *   requires a second factor of that user, whose session proved one within
 *   `adminRecentSecondFactorSeconds` (else 403 `mfa_step_up_required`; 0 turns this off).
 *   Client-credentials tokens have no second factor to prove and are not affected.
 * 401 without credentials or with a dead token, 403 otherwise. Every answer is `no-store`.
 */
export function createAdminAccess(deps: AdminAccessDeps) {

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
    const permissions = new Set(claims.scope.split(' ').filter((granted) => granted !== '' && client.scopes.includes(granted)));
    return { id: claims.sub, kind: 'client', permissions, ip: request.ip, userAgent: userAgent(request) };
  }

  async function viaSession(request: FastifyRequest, scope: AdminScope): Promise<AdminCaller> {
    const record = await deps.auth.require(request);
    const user = await deps.users.findById(record.session.userId);
    if (!user || user.disabledAt !== null) throw apiError('forbidden', 'This needs the admin role.');
    const permissions = user.roles.includes('admin') ? 'all' : deps.permissionsOf === undefined ? new Set<string>() : await deps.permissionsOf(user.roles);
    if (permissions !== 'all' && !permissions.has(scope)) throw apiError('forbidden', `This needs the admin role or a role granting ${scope}.`);
    requireRecentSecondFactor(user, record.session);
    return { id: user.id, kind: 'user', permissions, ip: request.ip, userAgent: userAgent(request) };
  }

  /** Issue 17: "a recent second factor when policy says so", for every admin area and the console alike. */
  function requireRecentSecondFactor(user: { roles: readonly string[] }, session: { authMethods: readonly string[]; authTime: number }): void {
    const { config, now } = deps.secondFactor;
    const seconds = config.adminRecentSecondFactorSeconds;
    if (seconds === 0 || !mfaRequiredFor(user, config)) return;
    if (session.authMethods.includes('mfa') && now() - session.authTime <= seconds * 1000) return;
    throw apiError('mfa_step_up_required', `The admin API needs a second factor proved in the last ${Math.ceil(seconds / 60)} minute(s): POST /api/auth/mfa/step-up (or /login/mfa), then try again.`);
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
      admitted.set(request, caller);
      setAuditActor(request, caller.id); // the admin or `client:<client_id>` acts (docs/audit.md)
    },
    /** The caller of a request that passed `require`. */
    caller: (request: FastifyRequest): AdminCaller => {
      const caller = admitted.get(request);
      if (!caller) throw new Error('admin route without the admin access check');
      return caller;
    },
  };
}

export type AdminAccess = ReturnType<typeof createAdminAccess>;
