import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { emptyBody, errorResponse, authTag, sessionSchema, userSchema } from '../../http/schemas.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { SessionAuth } from './http.ts';
import { publicSession, publicUser, type SessionService } from './service.ts';

/** `/api/auth/session`, `/api/auth/sessions…` and `/api/auth/sign-out`. */
export function registerSessionRoutes(app: FastifyInstance, deps: {
  sessions: SessionService;
  auth: SessionAuth;
  audit: AuditLog;
  /** The permission strings of the user's roles (the role catalog), read at every answer: a changed role shows at once. */
  permissionsOf?: (roles: readonly string[]) => Promise<readonly string[]>;
}): void {
  const { sessions, auth, audit } = deps;

  app.get('/api/auth/session', {
    schema: {
      tags: authTag,
      summary: 'The current user and session (401 when signed out).',
      response: { 200: { type: 'object', properties: { user: sessionUserSchema, session: sessionSchema }, required: ['user', 'session'] }, 401: errorResponse },
    },
  }, async (request) => {
    const record = await auth.require(request);
    // No roles, no query: the common answer stays as cheap as before.
    const permissions = record.user.roles.length > 0 && deps.permissionsOf ? await deps.permissionsOf(record.user.roles) : [];
    return { user: { ...publicUser(record.user), permissions }, session: publicSession(record.session, record.session.id) };
  });

  app.get('/api/auth/sessions', {
    schema: {
      tags: authTag,
      summary: 'My active sessions (device, IP, created, last seen, current flag).',
      response: { 200: { type: 'object', properties: { sessions: { type: 'array', items: sessionSchema } }, required: ['sessions'] }, 401: errorResponse },
    },
  }, async (request) => {
    const record = await auth.require(request);
    const list = await sessions.list(record.user.id);
    return { sessions: list.map((session) => publicSession(session, record.session.id)) };
  });

  app.delete<{ Params: { id: string } }>('/api/auth/sessions/:id', {
    schema: {
      tags: authTag,
      summary: 'Revoke one of my sessions.',
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
      response: { 204: { type: 'null' }, 401: errorResponse, 404: errorResponse },
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    // Another user's session id is indistinguishable from an unknown one (SEC-ASVS-02).
    if (!(await sessions.revoke(request.params.id, record.user.id))) throw apiError('not_found', 'No such session.');
    await audit.record({ type: 'session-revoked', outcome: 'success', userId: record.user.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null, detail: { session_id: request.params.id } });
    if (request.params.id === record.session.id) auth.clearCookie(reply);
    return reply.code(204).send();
  });

  app.post('/api/auth/sessions/revoke-others', {
    schema: {
      tags: authTag,
      summary: 'Revoke all my sessions except this one.',
      body: emptyBody,
      response: { 200: { type: 'object', properties: { revoked: { type: 'integer' } }, required: ['revoked'] }, 401: errorResponse },
    },
  }, async (request) => {
    const record = await auth.require(request);
    const revoked = await sessions.revokeAllForUser(record.user.id, record.session.id);
    await audit.record({ type: 'session-revoked', outcome: 'success', userId: record.user.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null, detail: { others: revoked } });
    return { revoked };
  });

  app.post('/api/auth/sign-out', {
    schema: { tags: authTag, summary: 'End this session server-side and clear the cookie.', body: emptyBody, response: { 204: { type: 'null' } } },
  }, async (request, reply) => {
    const record = await auth.current(request);
    if (record) {
      await sessions.revoke(record.session.id, record.user.id);
      await audit.record({ type: 'sign-out', outcome: 'success', userId: record.user.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
    }
    auth.forget(request);
    auth.clearCookie(reply);
    return reply.code(204).send();
  });
}

/** The session's user, with the permission strings its roles grant (docs/admin.md#roles). */
const sessionUserSchema = {
  ...userSchema,
  properties: { ...userSchema.properties, permissions: { type: 'array', items: { type: 'string' } } },
  required: [...userSchema.required, 'permissions'],
} as const;
