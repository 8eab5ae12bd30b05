import { apiError } from '../../errors/catalog.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { ADMIN_SCOPES } from '../admin/access.ts';
import { type HeldPermissions, requirePermissions } from '../admin/privilege.ts';
import type { Role, RoleStore } from './store.ts';

/** The built-in role: not in the catalog, cannot be changed, grants every admin scope. */
export const BUILT_IN_ADMIN = 'admin';
export const ROLE_NAME = /^[a-z][a-z0-9:_-]{0,63}$/;
/** A permission string: an opaque, case-sensitive token (`tickets:read`, `posts.write`, `admin:users`). */
export const PERMISSION = /^[A-Za-z0-9][A-Za-z0-9:._/-]{0,127}$/;
export const MAX_PERMISSIONS = 100;

export interface RoleView extends Role {
  builtIn: boolean;
}

/**
 * Who changes the catalog: the audit's `actorId`, and what it holds (docs/admin.md, "No privilege
 * escalation"): `all` for an admin session and the CLI, else its permissions or token scopes.
 */
export interface RoleActor {
  id: string;
  permissions: HeldPermissions;
}

export interface RoleInput {
  name: string;
  description?: string | null;
  permissions?: string[];
}

const builtInAdmin = (): RoleView => ({ name: BUILT_IN_ADMIN, description: 'Built in: every admin scope.', permissions: [...ADMIN_SCOPES], createdAt: 0, updatedAt: 0, builtIn: true });

/**
 * The role catalog (issue 17): names, descriptions and the permission strings each role grants.
 * Permissions are read from the database whenever a token is minted or a session is shown, never
 * cached, so a changed role takes effect at the next refresh or session check on every instance
 * (no cache to invalidate, no rotation hint that could carry a stale set: see tokens/refresh.ts).
 * A user with no roles, or only `admin`, costs no query.
 */
export function createRoleCatalog(deps: { store: RoleStore; audit: AuditLog; now: () => number }) {
  const { store, audit, now } = deps;

  function checkName(name: string): void {
    if (!ROLE_NAME.test(name)) throw apiError('invalid_request', 'name: lower-case letters, digits, : _ - (at most 64, starting with a letter).');
    if (name === BUILT_IN_ADMIN) throw apiError('conflict', 'admin is built in and cannot be changed.');
  }

  function checkPermissions(permissions: readonly string[]): string[] {
    const unique = [...new Set(permissions)];
    if (unique.length > MAX_PERMISSIONS) throw apiError('invalid_request', `permissions: at most ${MAX_PERMISSIONS}.`);
    for (const permission of unique) {
      if (!PERMISSION.test(permission)) throw apiError('invalid_request', `permissions: "${permission.slice(0, 128)}" is not a permission string (letters, digits, : . _ / -).`);
    }
    return unique.sort();
  }

  async function existing(name: string): Promise<Role> {
    const role = name === BUILT_IN_ADMIN ? undefined : await store.get(name);
    if (!role) throw apiError('not_found', 'No such role.');
    return role;
  }

  return {
    list: async (): Promise<RoleView[]> => [builtInAdmin(), ...(await store.list()).map((role) => ({ ...role, builtIn: false }))],

    get: async (name: string): Promise<RoleView> => (name === BUILT_IN_ADMIN ? builtInAdmin() : { ...(await existing(name)), builtIn: false }),

    /** No privilege escalation: the new role may grant only what the actor holds. */
    create: async (input: RoleInput, actor: RoleActor): Promise<RoleView> => {
      checkName(input.name);
      const permissions = checkPermissions(input.permissions ?? []);
      requirePermissions(actor.permissions, permissions, 'role-permissions', 'Creating a role needs every permission it grants');
      const at = now();
      const role: Role = { name: input.name, description: input.description ?? null, permissions, createdAt: at, updatedAt: at };
      if (!(await store.create(role))) throw apiError('conflict', 'A role of this name exists.');
      await audit.record({ type: 'role-created', outcome: 'success', actorId: actor.id, detail: { role: role.name, permissions: role.permissions.join(' ') } });
      return { ...role, builtIn: false };
    },

    /**
     * `permissions` replaces the list; takes effect at the holders' next refresh or session check.
     * No privilege escalation: every permission added or removed must be the actor's (a holder of
     * only admin:roles cannot widen its own role, nor strip what it could not grant).
     */
    update: async (name: string, input: { description?: string | null; permissions?: string[] }, actor: RoleActor): Promise<RoleView> => {
      checkName(name);
      const before = await existing(name);
      const permissions = input.permissions === undefined ? undefined : checkPermissions(input.permissions);
      if (permissions !== undefined) {
        const changed = [...permissions.filter((permission) => !before.permissions.includes(permission)), ...before.permissions.filter((permission) => !permissions.includes(permission))];
        requirePermissions(actor.permissions, changed, 'role-permissions', 'Changing a role’s permissions needs every permission added or removed');
      }
      if (!(await store.update(name, { ...(input.description === undefined ? {} : { description: input.description }), ...(permissions === undefined ? {} : { permissions }) }, now()))) throw apiError('not_found', 'No such role.');
      await audit.record({ type: 'role-updated', outcome: 'success', actorId: actor.id, detail: { role: name, from: before.permissions.join(' '), to: (permissions ?? before.permissions).join(' ') } });
      return { ...(await existing(name)), builtIn: false };
    },

    /** Refused while users hold the role: take it from them first, so nobody loses access by surprise. */
    delete: async (name: string, actor: RoleActor): Promise<void> => {
      checkName(name);
      // No privilege escalation: taking a role away from its holders needs what it granted.
      requirePermissions(actor.permissions, (await existing(name)).permissions, 'role-permissions', 'Deleting a role needs every permission it grants');
      const holders = await store.holders(name);
      if (holders > 0) throw apiError('conflict', `${holders} user(s) hold this role; remove it from them first.`);
      if (!(await store.delete(name))) throw apiError('not_found', 'No such role.');
      await audit.record({ type: 'role-deleted', outcome: 'success', actorId: actor.id, detail: { role: name } });
    },

    /** Whether users may be given the role: `admin`, or a role of the catalog. */
    knownRole: async (name: string): Promise<boolean> => name === BUILT_IN_ADMIN || (await store.get(name)) !== undefined,

    /** The union of the permission strings of `roles`, sorted; `admin` grants every admin scope. */
    permissionsOf: async (roles: readonly string[]): Promise<string[]> => {
      const granted = new Set<string>(roles.includes(BUILT_IN_ADMIN) ? ADMIN_SCOPES : []);
      const catalogRoles = roles.filter((role) => role !== BUILT_IN_ADMIN);
      for (const list of await store.permissionsOf(catalogRoles)) for (const permission of list) granted.add(permission);
      return [...granted].sort();
    },
  };
}

export type RoleCatalog = ReturnType<typeof createRoleCatalog>;
