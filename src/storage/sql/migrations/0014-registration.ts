import type { Kysely } from 'kysely';

/**
 * Dynamic client registration (RFC 7591/7592, docs/oauth.md). Only SHA-256 hashes of the tokens
 * are stored (style rule 6):
 * - `initial_access_tokens`: issued by an admin, each good until `expires_at` for `uses_left`
 *   registrations (decremented atomically; null: unlimited).
 * - `client_registrations`: one row per dynamically registered client, with the hash of its
 *   registration access token (RFC 7592 §1) and the accepted RFC 7591 metadata the `clients`
 *   table has no column for (JSON); it goes with the client (foreign key, cascade).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('initial_access_tokens')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('token_hash', 'text', (column) => column.notNull().unique())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .addColumn('uses_left', 'integer')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('client_registrations')
    .addColumn('client_id', 'text', (column) => column.primaryKey().references('clients.client_id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (column) => column.notNull().unique())
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('client_registrations').execute();
  await db.schema.dropTable('initial_access_tokens').execute();
}
