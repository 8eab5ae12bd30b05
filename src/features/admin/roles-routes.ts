import type { FastifyInstance } from 'fastify';
import { errorResponse } from '../../http/schemas.ts';
import { MAX_PERMISSIONS, type RoleActor, type RoleCatalog, type RoleView } from '../roles/catalog.ts';
import type { AdminAccess } from './access.ts';

/**
 * `/api/admin/roles`: the role catalog (issue 17). Needs an admin session or a client-credentials
 * token with `admin:roles` (access.ts). Bodies name every field and refuse others (SEC-ASVS-03).
 */
export function registerAdminRoleRoutes(app: FastifyInstance, deps: { catalog: RoleCatalog; access: AdminAccess }): void {
  const { catalog, access } = deps;
  const onRequest = access.require('admin:roles');
  const actor = (request: Parameters<AdminAccess['caller']>[0]): RoleActor => {
    const caller = access.caller(request);
    return { id: caller.id, permissions: caller.permissions };
  };
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

  app.get('/api/admin/roles', {
    onRequest,
    schema: { tags, summary: 'The role catalog, the built-in admin role first.', response: { ...errors, 200: { type: 'object', required: ['roles'], properties: { roles: { type: 'array', items: roleSchema } } } } },
  }, async () => ({ roles: (await catalog.list()).map(roleView) }));

  app.post<{ Body: { name: string; description?: string | null; permissions?: string[] } }>('/api/admin/roles', {
    onRequest,
    schema: {
      tags,
      summary: 'Add a role to the catalog.',
      body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', maxLength: 64 }, description: description, permissions: permissionList } },
      response: { ...errors, 201: roleSchema },
    },
  }, async (request, reply) => reply.code(201).send(roleView(await catalog.create(request.body, actor(request)))));

  app.get<{ Params: { name: string } }>('/api/admin/roles/:name', {
    onRequest,
    schema: { tags, summary: 'One role.', params: nameParams, response: { ...errors, 200: roleSchema } },
  }, async (request) => roleView(await catalog.get(request.params.name)));

  app.patch<{ Params: { name: string }; Body: { description?: string | null; permissions?: string[] } }>('/api/admin/roles/:name', {
    onRequest,
    schema: {
      tags,
      summary: 'Change the description or the permissions (replaced); holders get them at their next refresh or session check.',
      params: nameParams,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { description: description, permissions: permissionList } },
      response: { ...errors, 200: roleSchema },
    },
  }, async (request) => roleView(await catalog.update(request.params.name, request.body, actor(request))));

  app.delete<{ Params: { name: string } }>('/api/admin/roles/:name', {
    onRequest,
    schema: { tags, summary: 'Remove a role from the catalog (409 while users hold it).', params: nameParams, response: { ...errors, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await catalog.delete(request.params.name, actor(request));
    return reply.code(204).send();
  });
}

export function roleView(role: RoleView): Record<string, unknown> {
  return { name: role.name, description: role.description, permissions: [...role.permissions], built_in: role.builtIn, created_at: role.createdAt, updated_at: role.updatedAt };
}

const tags = ['admin'];
const description = { type: ['string', 'null'], maxLength: 500 } as const;
const permissionList = { type: 'array', maxItems: MAX_PERMISSIONS, items: { type: 'string', maxLength: 128 } } as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const ms = { type: 'integer', description: 'ms since the epoch (0 for the built-in role)' } as const;
const roleProperties = {
  name: { type: 'string' },
  description: { type: ['string', 'null'] },
  permissions: { type: 'array', items: { type: 'string' } },
  built_in: { type: 'boolean' },
  created_at: ms,
  updated_at: ms,
} as const;
const roleSchema = { type: 'object', required: Object.keys(roleProperties), properties: roleProperties } as const;
