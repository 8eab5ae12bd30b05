import type { Kysely } from 'kysely';

/**
 * SEC-REL-03: a retry of a just-rotated refresh token gets the same response as the first
 * request — the same successor and the same access token. The access token minted with the
 * rotation is kept sealed beside the sealed successor, with its expiry (`expires_in` of a retry
 * counts down from it). One ALTER per column: SQLite adds one column per statement.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('refresh_tokens').addColumn('successor_access_token_encrypted', 'text').execute();
  await db.schema.alterTable('refresh_tokens').addColumn('successor_access_token_expires_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('refresh_tokens').dropColumn('successor_access_token_expires_at').execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('successor_access_token_encrypted').execute();
}
