import type { FastifyInstance } from 'fastify';
import { errorResponse } from '../../http/schemas.ts';
import type { User } from '../accounts/store.ts';
import type { StoredAuditEvent } from '../audit/audit-log.ts';
import type { Session } from '../sessions/store.ts';
import type { Identity } from '../social/store.ts';
import type { AdminAccess } from './access.ts';
import { USER_SORTS, MAX_PAGE, type UserSort } from './users/store.ts';
import type { UserAdmin } from './users/service.ts';

/**
 * `/api/admin/users`: list, show, create, update, disable/enable, delete, password mail,
 * sessions and grants of users (SEC-ASVS-01, SEC-OAUTH-22, SEC-SESS-09, SEC-SESS-11). Needs an
 * admin session or a client-credentials token with `admin:users` (access.ts). The body schemas
 * name every field and refuse others (SEC-ASVS-03).
 */
export function registerAdminUserRoutes(app: FastifyInstance, deps: { admin: UserAdmin; access: AdminAccess }): void {
  const { admin, access } = deps;
  const onRequest = access.require('admin:users');
  // The acting admin for the audit log, with what they hold (role changes need it: users/service.ts).
  const actor = (request: Parameters<AdminAccess['caller']>[0]) => {
    const caller = access.caller(request);
    return { id: caller.id, permissions: caller.permissions };
  };
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

  app.get<{ Querystring: { search?: string; status?: 'active' | 'disabled'; role?: string; verified?: 'true' | 'false'; has_mfa?: 'true' | 'false'; sort?: UserSort; cursor?: string; limit?: string } }>('/api/admin/users', {
    onRequest,
    schema: {
      tags,
      summary: 'Users, with search (email, name), filters, sort and cursor pagination; `total` counts every match.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          search: { type: 'string', minLength: 1, maxLength: 200 },
          status: { type: 'string', enum: ['active', 'disabled'] },
          role: { type: 'string', pattern: '^[a-z][a-z0-9:_-]{0,63}$' },
          verified: { type: 'string', enum: ['true', 'false'] },
          has_mfa: { type: 'string', enum: ['true', 'false'], description: 'true: users with a second factor (authenticator app or passkey); false: without' },
          sort: { type: 'string', enum: [...USER_SORTS] },
          cursor: { type: 'string', maxLength: 1000 },
          limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: `1 to ${MAX_PAGE} (default 50)` },
        },
      },
      response: { ...errors, 200: { type: 'object', required: ['users', 'total', 'next_cursor'], properties: { users: { type: 'array', items: userSchema }, total: { type: 'integer' }, next_cursor: { type: ['string', 'null'] } } } },
    },
  }, async (request) => {
    const { verified, has_mfa: hasMfa, limit, ...rest } = request.query;
    const page = await admin.list({ ...rest, ...(verified === undefined ? {} : { verified: verified === 'true' }), ...(hasMfa === undefined ? {} : { hasMfa: hasMfa === 'true' }), ...(limit === undefined ? {} : { limit: Math.min(MAX_PAGE, Number(limit)) }) });
    return { users: page.users.map(userView), total: page.total, next_cursor: page.nextCursor };
  });

  app.post<{ Body: { email: string; name?: string | null; roles?: string[]; email_verified?: boolean; send_password_mail?: boolean } }>('/api/admin/users', {
    onRequest,
    schema: {
      tags,
      summary: 'Create a user without a password; with send_password_mail, the user gets a link to set one.',
      body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email: { type: 'string', maxLength: 320 }, name: { type: ['string', 'null'], maxLength: 200 }, roles: roleList, email_verified: { type: 'boolean' }, send_password_mail: { type: 'boolean' } } },
      response: { ...errors, 201: userSchema },
    },
  }, async (request, reply) => {
    const body = request.body;
    const user = await admin.create({ email: body.email, name: body.name ?? null, roles: body.roles ?? [], emailVerified: body.email_verified === true, sendPasswordMail: body.send_password_mail === true }, actor(request));
    return reply.code(201).send(userView(user));
  });

  app.get<{ Params: { userId: string } }>('/api/admin/users/:userId', {
    onRequest,
    schema: { tags, summary: 'One user: profile, roles, linked identities, sessions, authorised applications, recent audit events.', params: userParams, response: { ...errors, 200: detailSchema } },
  }, async (request) => {
    const detail = await admin.get(request.params.userId);
    return { ...userView(detail.user), identities: detail.identities.map(identityView), sessions: detail.sessions.map(sessionView), applications: detail.applications, recent_events: detail.recentEvents.map(eventView) };
  });

  app.patch<{ Params: { userId: string }; Body: { name?: string | null; email?: string; email_verified?: boolean; roles?: string[] } }>('/api/admin/users/:userId', {
    onRequest,
    schema: {
      tags,
      summary: 'Change name, email (starts unverified: a verification mail goes to the new address, a notice to the old; 409 when taken; sessions kept), email_verified or roles (roles replace the current list; effective at the next session check or refresh; giving or taking a role needs every permission it grants, else 403).',
      params: userParams,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { name: { type: ['string', 'null'], maxLength: 200 }, email: { type: 'string', minLength: 3, maxLength: 320 }, email_verified: { type: 'boolean' }, roles: roleList } },
      response: { ...errors, 200: userSchema },
    },
  }, async (request) => {
    const body = request.body;
    return userView(await admin.update(request.params.userId, { ...('name' in body ? { name: body.name ?? null } : {}), ...(body.email === undefined ? {} : { email: body.email }), ...(body.email_verified === undefined ? {} : { emailVerified: body.email_verified }), ...(body.roles === undefined ? {} : { roles: body.roles }) }, actor(request)));
  });

  app.delete<{ Params: { userId: string } }>('/api/admin/users/:userId', {
    onRequest,
    schema: { tags, summary: 'Erase the user: personal data, credentials, sessions and grants; every token is revoked. The audit trail keeps the bare id.', params: userParams, response: { ...errors, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await admin.delete(request.params.userId, actor(request));
    return reply.code(204).send();
  });

  app.post<{ Params: { userId: string } }>('/api/admin/users/:userId/disable', {
    onRequest,
    schema: { tags, summary: 'Disable the user: sign-in refused, every session ended and every token revoked on every instance.', params: userParams, body: emptyBody, response: { ...errors, 200: userSchema } },
  }, async (request) => userView(await admin.disable(request.params.userId, actor(request))));

  app.post<{ Params: { userId: string } }>('/api/admin/users/:userId/enable', {
    onRequest,
    schema: { tags, summary: 'Enable a disabled user (nothing ended by the disable comes back).', params: userParams, body: emptyBody, response: { ...errors, 200: userSchema } },
  }, async (request) => userView(await admin.enable(request.params.userId, actor(request))));

  app.post<{ Params: { userId: string } }>('/api/admin/users/:userId/password-reset', {
    onRequest,
    schema: { tags, summary: 'Mail the user a password-reset link.', params: userParams, body: emptyBody, response: { ...errors, 202: { type: 'null' } } },
  }, async (request, reply) => {
    await admin.sendPasswordReset(request.params.userId, actor(request));
    return reply.code(202).send();
  });

  app.post<{ Params: { userId: string } }>('/api/admin/users/:userId/mfa-reset', {
    onRequest,
    schema: { tags, summary: 'Remove every second factor and recovery code of the user (for one who lost them all); audited (mfa-removed, reset) with the acting admin and mailed to the user.', params: userParams, body: emptyBody, response: { ...errors, 200: { type: 'object', required: ['removed'], properties: { removed: { type: 'integer', description: 'factors removed' } } } } },
  }, async (request) => ({ removed: await admin.resetMfa(request.params.userId, actor(request)) }));

  app.get<{ Params: { userId: string } }>('/api/admin/users/:userId/sessions', {
    onRequest,
    schema: { tags, summary: 'The user’s live sessions.', params: userParams, response: { ...errors, 200: { type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: sessionSchema } } } } },
  }, async (request) => ({ sessions: (await admin.sessions(request.params.userId)).map(sessionView) }));

  app.post<{ Params: { userId: string } }>('/api/admin/users/:userId/sessions/revoke-all', {
    onRequest,
    schema: { tags, summary: 'Sign out everywhere: every session ended and every token revoked.', params: userParams, body: emptyBody, response: { ...errors, 200: { type: 'object', required: ['revoked'], properties: { revoked: { type: 'integer' } } } } },
  }, async (request) => ({ revoked: await admin.signOutEverywhere(request.params.userId, actor(request)) }));

  app.delete<{ Params: { userId: string; sessionId: string } }>('/api/admin/users/:userId/sessions/:sessionId', {
    onRequest,
    schema: { tags, summary: 'End one session of the user (another user’s session id answers 404).', params: { type: 'object', required: ['userId', 'sessionId'], properties: { userId: idString, sessionId: idString } }, response: { ...errors, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await admin.revokeSession(request.params.userId, request.params.sessionId, actor(request));
    return reply.code(204).send();
  });

  app.get<{ Params: { userId: string } }>('/api/admin/users/:userId/grants', {
    onRequest,
    schema: { tags, summary: 'The applications the user authorised (consents and live grants).', params: userParams, response: { ...errors, 200: { type: 'object', required: ['applications'], properties: { applications: { type: 'array', items: applicationSchema } } } } },
  }, async (request) => ({ applications: await admin.applications(request.params.userId) }));

  app.delete<{ Params: { userId: string; clientId: string } }>('/api/admin/users/:userId/grants/:clientId', {
    onRequest,
    schema: { tags, summary: 'Revoke an application for the user: consent forgotten, its refresh and access tokens revoked.', params: { type: 'object', required: ['userId', 'clientId'], properties: { userId: idString, clientId: { type: 'string', minLength: 1, maxLength: 128 } } }, response: { ...errors, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await admin.revokeApplication(request.params.userId, request.params.clientId, actor(request));
    return reply.code(204).send();
  });
}

export function userView(user: User): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    email_verified: user.emailVerifiedAt !== null,
    roles: [...user.roles],
    status: user.disabledAt === null ? 'active' : 'disabled',
    has_password: user.passwordHash !== null,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    disabled_at: user.disabledAt,
  };
}

export function sessionView(session: Session): Record<string, unknown> {
  return { id: session.id, created_at: session.createdAt, last_seen_at: session.lastSeenAt, expires_at: session.expiresAt, ip: session.ip, user_agent: session.userAgent, auth_methods: session.authMethods };
}

function identityView(identity: Identity): Record<string, unknown> {
  return { id: identity.id, provider_id: identity.providerId, issuer: identity.issuer, subject: identity.subject, email: identity.email, linked_at: identity.linkedAt, last_used_at: identity.lastUsedAt };
}

export function eventView(event: StoredAuditEvent): Record<string, unknown> {
  return { id: event.id, at: event.at, type: event.type, outcome: event.outcome, user_id: event.userId, actor_id: event.actorId, client_id: event.clientId, ip: event.ip, user_agent: event.userAgent, request_id: event.requestId, detail: event.detail };
}

const tags = ['admin'];
const idString = { type: 'string', minLength: 1, maxLength: 64 } as const;
const userParams = { type: 'object', required: ['userId'], properties: { userId: idString } } as const;
const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;
const roleList = { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 64 } } as const;
const nullableText = { type: ['string', 'null'] } as const;
const ms = { type: 'integer', description: 'ms since the epoch' } as const;

const userProperties = {
  id: { type: 'string' },
  email: { type: 'string' },
  name: nullableText,
  email_verified: { type: 'boolean' },
  roles: { type: 'array', items: { type: 'string' } },
  status: { type: 'string', enum: ['active', 'disabled'] },
  has_password: { type: 'boolean' },
  created_at: ms,
  updated_at: ms,
  disabled_at: { type: ['integer', 'null'] },
} as const;
const userSchema = { type: 'object', required: Object.keys(userProperties), properties: userProperties } as const;

const sessionSchema = {
  type: 'object',
  required: ['id', 'created_at', 'last_seen_at', 'expires_at'],
  properties: { id: { type: 'string' }, created_at: ms, last_seen_at: ms, expires_at: ms, ip: nullableText, user_agent: nullableText, auth_methods: { type: 'array', items: { type: 'string' } } },
} as const;

const applicationSchema = {
  type: 'object',
  required: ['client_id', 'name', 'scopes', 'consented_at', 'active_grants'],
  properties: { client_id: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } }, consented_at: { type: ['integer', 'null'] }, active_grants: { type: 'integer' } },
} as const;

export const eventSchema = {
  type: 'object',
  required: ['id', 'at', 'type', 'outcome'],
  properties: {
    id: { type: 'string' }, at: ms, type: { type: 'string' }, outcome: { type: 'string', enum: ['success', 'failure'] },
    user_id: nullableText, actor_id: nullableText, client_id: nullableText, ip: nullableText, user_agent: nullableText, request_id: nullableText,
    detail: { type: 'object', additionalProperties: true },
  },
} as const;

const detailSchema = {
  type: 'object',
  required: [...Object.keys(userProperties), 'identities', 'sessions', 'applications', 'recent_events'],
  properties: {
    ...userProperties,
    identities: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, provider_id: { type: 'string' }, issuer: { type: 'string' }, subject: { type: 'string' }, email: nullableText, linked_at: ms, last_used_at: ms } } },
    sessions: { type: 'array', items: sessionSchema },
    applications: { type: 'array', items: applicationSchema },
    recent_events: { type: 'array', items: eventSchema },
  },
} as const;
