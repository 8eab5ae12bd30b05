import type { Kysely } from 'kysely';

/**
 * Pushed authorization requests (RFC 9126, docs/oauth.md): the per-client switch
 * `require_pushed_authorization_requests` (§6), 0 for every existing client. The device
 * authorization grant needs no schema: its grant type lives in the `grant_types` list, its codes
 * in the ephemeral store.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('require_pushed_authorization_requests', 'integer', (column) => column.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('require_pushed_authorization_requests').execute();
}
