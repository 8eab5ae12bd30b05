import type { Kysely } from 'kysely';

/**
 * RFC 9449 §5: the refresh tokens a public client obtains with a DPoP proof are bound to that
 * key. The grant keeps the key's RFC 7638 thumbprint (`jkt`), written when the grant is created
 * and never changed; null for grants without a binding (every grant before this migration).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('grants').addColumn('jkt', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('grants').dropColumn('jkt').execute();
}
