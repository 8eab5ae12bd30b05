import type { Kysely } from 'kysely';

/**
 * Client metadata for branding (RFC 7591 §2, docs/clients.md): `logo_uri`, `client_uri`,
 * `policy_uri`, `tos_uri` (null: none) and `contacts` (a JSON list of email addresses, `[]` for
 * every existing client). One ALTER per column: SQLite adds one column per statement.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of URI_COLUMNS) await db.schema.alterTable('clients').addColumn(column, 'text').execute();
  await db.schema.alterTable('clients').addColumn('contacts', 'text', (column) => column.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('contacts').execute();
  for (const column of [...URI_COLUMNS].reverse()) await db.schema.alterTable('clients').dropColumn(column).execute();
}

const URI_COLUMNS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const;
