import { sql, type Kysely } from 'kysely';
import { GENESIS_HASH, chainHash } from '../../../features/audit/chain.ts';

/**
 * Tamper-evident audit log (docs/audit.md): who acted (`actor_id`), for which client, and the
 * request id; a per-record MAC written by the instance that recorded it; and the chain position
 * (`seq`) and hash (`chain_hash`) assigned later by the one sealer. `audit_chain` holds the head
 * (one row), `audit_checkpoints` the signed checkpoints, `audit_keys` the checkpoint signing keys
 * (sealed under the master key). One ALTER per column: SQLite adds one column per statement.
 *
 * Events recorded before this version have no MAC: they are sealed here, in (at, id) order, as
 * the legacy prefix of the chain (`legacy_through_seq`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of ['actor_id', 'client_id', 'request_id', 'mac', 'chain_hash']) {
    await db.schema.alterTable('audit_events').addColumn(column, 'text').execute();
  }
  await db.schema.alterTable('audit_events').addColumn('seq', 'bigint').execute();
  await db.schema.createIndex('audit_events_seq').on('audit_events').column('seq').unique().execute();
  // The sealer's queue: only the not-yet-sealed tail is in this index.
  await sql`create index audit_events_unsealed on audit_events (at, id) where seq is null`.execute(db);

  await db.schema
    .createTable('audit_chain')
    .addColumn('id', 'integer', (column) => column.primaryKey())
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addColumn('legacy_through_seq', 'bigint', (column) => column.notNull())
    .addColumn('pruned_through_seq', 'bigint', (column) => column.notNull())
    .addColumn('pruned_hash', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('seq', 'bigint', (column) => column.primaryKey())
    .addColumn('hash', 'text', (column) => column.notNull())
    .addColumn('at', 'bigint', (column) => column.notNull())
    .addColumn('kid', 'text', (column) => column.notNull())
    .addColumn('signature', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('audit_keys')
    .addColumn('kid', 'text', (column) => column.primaryKey())
    .addColumn('public_jwk', 'text', (column) => column.notNull())
    .addColumn('private_jwk_encrypted', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();

  // The legacy prefix, in pages (a large trail must not be read at once).
  const legacy = db as unknown as Kysely<LegacySchema>;
  let seq = 0;
  let hash = GENESIS_HASH;
  let after: { at: number; id: string } | undefined;
  for (;;) {
    let query = legacy.selectFrom('audit_events').selectAll().orderBy('at', 'asc').orderBy('id', 'asc').limit(500);
    if (after) {
      const cursor = after;
      query = query.where((eb) => eb.or([eb('at', '>', cursor.at), eb.and([eb('at', '=', cursor.at), eb('id', '>', cursor.id)])]));
    }
    const rows = await query.execute();
    for (const row of rows) {
      seq += 1;
      hash = chainHash(hash, seq, { ...row, at: Number(row.at), actor_id: null, client_id: null, request_id: null, mac: null });
      await legacy.updateTable('audit_events').set({ seq, chain_hash: hash }).where('id', '=', row.id).execute();
    }
    const last = rows.at(-1);
    if (!last || rows.length < 500) break;
    after = { at: Number(last.at), id: last.id };
  }
  await legacy.insertInto('audit_chain').values({ id: 1, seq, hash, legacy_through_seq: seq, pruned_through_seq: 0, pruned_hash: GENESIS_HASH, updated_at: Date.now() }).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_keys').execute();
  await db.schema.dropTable('audit_checkpoints').execute();
  await db.schema.dropTable('audit_chain').execute();
  await db.schema.dropIndex('audit_events_unsealed').execute();
  await db.schema.dropIndex('audit_events_seq').execute();
  for (const column of ['seq', 'chain_hash', 'mac', 'request_id', 'client_id', 'actor_id']) {
    await db.schema.alterTable('audit_events').dropColumn(column).execute();
  }
}

interface LegacySchema {
  audit_events: { id: string; at: number; type: string; outcome: string; user_id: string | null; ip: string | null; user_agent: string | null; detail: string; seq: number | null; chain_hash: string | null };
  audit_chain: { id: number; seq: number; hash: string; legacy_through_seq: number; pruned_through_seq: number; pruned_hash: string; updated_at: number };
}
