import { sql, type Kysely } from 'kysely';
import { stringList } from '../../storage/sql/columns.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';

/** A role of the catalog: what it is for, and the permission strings it grants. */
export interface Role {
  name: string;
  description: string | null;
  permissions: string[];
  createdAt: number;
  updatedAt: number;
}

/** The role catalog's storage port (migration 0011). */
export interface RoleStore {
  list(): Promise<Role[]>;
  get(name: string): Promise<Role | undefined>;
  /** False when a role of that name exists. */
  create(role: Role): Promise<boolean>;
  /** False when there is no such role. */
  update(name: string, fields: { description?: string | null; permissions?: string[] }, at: number): Promise<boolean>;
  /** False when there is no such role. */
  delete(name: string): Promise<boolean>;
  /** The permission strings the named roles grant, per role (roles not in the catalog are absent). */
  permissionsOf(names: readonly string[]): Promise<string[][]>;
  /** How many users hold the role. */
  holders(name: string): Promise<number>;
}

type RoleRow = DatabaseSchema['roles'];

function roleFrom(row: RoleRow): Role {
  return { name: row.name, description: row.description, permissions: stringList(row.permissions), createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
}

export function createRoleStore(db: Kysely<DatabaseSchema>): RoleStore {
  return {
    list: async () => (await db.selectFrom('roles').selectAll().orderBy('name').execute()).map(roleFrom),
    get: async (name) => {
      const row = await db.selectFrom('roles').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? roleFrom(row) : undefined;
    },
    create: async (role) => {
      const result = await db.insertInto('roles')
        .values({ name: role.name, description: role.description, permissions: JSON.stringify(role.permissions), created_at: role.createdAt, updated_at: role.updatedAt })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    update: async (name, fields, at) => {
      const result = await db.updateTable('roles')
        .set({
          updated_at: at,
          ...(fields.description === undefined ? {} : { description: fields.description }),
          ...(fields.permissions === undefined ? {} : { permissions: JSON.stringify(fields.permissions) }),
        })
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    delete: async (name) => Number((await db.deleteFrom('roles').where('name', '=', name).executeTakeFirst()).numDeletedRows) > 0,
    permissionsOf: async (names) => {
      if (names.length === 0) return [];
      const rows = await db.selectFrom('roles').select('permissions').where('name', 'in', [...names]).execute();
      return rows.map((row) => stringList(row.permissions));
    },
    holders: async (name) => {
      // users.roles is a JSON list of names; the quoted name cannot match inside another name.
      const pattern = `%"${name.replace(/[\\%_]/g, (character) => `\\${character}`)}"%`;
      const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).where(sql`roles`, 'like', sql`${pattern} escape '\\'`).executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
