import { sql, type Kysely } from 'kysely';

/**
 * Housekeeping (docs/operations.md#housekeeping): the indexes its sweeps select by, so that each
 * bounded batch is an index range scan instead of a scan of the whole table. None is on
 * `refresh_tokens`: its sweep reaches the tokens of dead grants through `refresh_tokens_grant`,
 * so a rotation writes no extra index entry.
 * - grants: revoked ones (partial: live grants are not in it) and by absolute expiry;
 * - sessions and one-time tokens by expiry, used one-time tokens (partial);
 * - revocations by expiry (an entry may be forgotten once every token it covers has expired).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index grants_revoked_at on grants (revoked_at) where revoked_at is not null`.execute(db);
  await db.schema.createIndex('grants_expires_at').on('grants').column('expires_at').execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
  await db.schema.createIndex('one_time_tokens_expires_at').on('one_time_tokens').column('expires_at').execute();
  await sql`create index one_time_tokens_consumed_at on one_time_tokens (consumed_at) where consumed_at is not null`.execute(db);
  await db.schema.createIndex('revocations_expires_at').on('revocations').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of INDEXES) await db.schema.dropIndex(name).execute();
}

/** Every index this migration creates (the migration test checks they exist). */
export const INDEXES = ['grants_revoked_at', 'grants_expires_at', 'sessions_expires_at', 'one_time_tokens_expires_at', 'one_time_tokens_consumed_at', 'revocations_expires_at'] as const;
