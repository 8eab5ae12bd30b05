import type { Kysely } from 'kysely';

/**
 * The role catalog (docs/admin.md#roles): one row per role a user may be given, with its
 * description and the permission strings it grants (JSON list). Users keep role names in
 * `users.roles` as before; the built-in `admin` role is not a row (it grants every admin scope).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('roles')
    .addColumn('name', 'text', (column) => column.primaryKey())
    .addColumn('description', 'text')
    .addColumn('permissions', 'text', (column) => column.notNull().defaultTo('[]'))
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('roles').execute();
}
