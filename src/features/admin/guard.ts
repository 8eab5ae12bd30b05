import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import type { UserStore } from '../accounts/store.ts';
import type { SessionAuth } from '../sessions/http.ts';

/** Who made an admin change, for the audit log. */
export interface AdminActor {
  userId: string;
  ip: string;
  userAgent: string | null;
}

/**
 * The admin API's `onRequest` check (SEC-ASVS-01): `no-store` on every answer, then a signed-in
 * user whose current role set holds `admin` — read from the database on every request, not from
 * the session cache. 401 without a session, 403 otherwise, before the body is even parsed.
 */
export function createAdminGuard(deps: { auth: SessionAuth; users: UserStore }) {
  const actors = new WeakMap<FastifyRequest, AdminActor>();
  return {
    adminOnly: async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      reply.header('cache-control', 'no-store');
      const record = await deps.auth.require(request);
      const user = await deps.users.findById(record.session.userId);
      if (!user || user.disabledAt !== null || !user.roles.includes('admin')) throw apiError('forbidden', 'This needs the admin role.');
      const agent = request.headers['user-agent'];
      actors.set(request, { userId: user.id, ip: request.ip, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null });
    },
    /** The admin of a request that passed `adminOnly`. */
    actor: (request: FastifyRequest): Partial<AdminActor> => actors.get(request) ?? {},
  };
}
