import type { Kysely } from 'kysely';

/**
 * Branding settings changed through the admin API or console (docs/branding.md): one row per
 * text setting (`product_name`, `accent_color`, …), each overriding its config key. Logos,
 * favicon and stylesheet stay file-configured. `updated_at`: ms since the epoch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('branding_settings')
    .addColumn('key', 'text', (column) => column.primaryKey())
    .addColumn('value', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('branding_settings').execute();
}
