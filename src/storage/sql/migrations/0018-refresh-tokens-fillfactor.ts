import { sql, type Kysely } from 'kysely';

/**
 * PostgreSQL: `refresh_tokens` pages are filled to 30 % by inserts, so that the claim of a
 * rotation (an UPDATE of rotated_at, successor_id and the sealed retry response, none of them
 * indexed) finds room on the row's own page and is a HOT update: no new entry in any of the three
 * indexes, and no lock record for a row moving pages. A row grows from ~0.2 KB to ~1.4 KB when it
 * is claimed, so the page has to keep most of itself free for that; the table is no larger in the
 * end, since a claimed row takes that room anyway. Measured with `bench/pg-capacity.ts
 * --wal-detail` (docs/scaling.md): HOT claims 17 % → 87 %, WAL per rotation 2.4 KB → 2.0 KB.
 * Only pages allocated from now on are filled this way; no rewrite, and the ALTER takes a lock
 * that does not block reads or writes. SQLite has no fillfactor: nothing to do there.
 */
export const REFRESH_TOKENS_FILLFACTOR = 30;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table refresh_tokens set (fillfactor = ${sql.raw(String(REFRESH_TOKENS_FILLFACTOR))})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table refresh_tokens reset (fillfactor)`.execute(db);
}

/** Kysely says nothing public about the dialect; PostgreSQL's placeholders are numbered (as in tokens/store.ts). */
function isPostgres(db: Kysely<unknown>): boolean {
  return sql`select ${1}`.compile(db).sql.includes('$1');
}
