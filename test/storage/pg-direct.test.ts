/**
 * PostgreSQL's hot path (src/storage/sql/pg-direct.ts): prepared queries outside a transaction go
 * to the pool as named prepared statements. Same rows and affected-row counts as Kysely; the
 * statement really is prepared once per connection (pg_prepared_statements); inside a Kysely
 * transaction the query still runs on the transaction's connection. Required in CI; skipped with
 * the reason printed where PostgreSQL is not reachable.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { preparedQuery } from '../../src/storage/sql/prepared-query.ts';
import { directPostgresOf } from '../../src/storage/sql/pg-direct.ts';
import { syncSqliteOf } from '../../src/storage/sql/sync-sqlite.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';

const T0 = 1_790_000_000_000;
const postgres = await probePostgres();

function user(id: string) {
  return { id, email: `${id}@example.com`, email_verified_at: null, name: id, password_hash: null, roles: '[]', created_at: T0, updated_at: T0, disabled_at: null };
}

describe('PostgreSQL named prepared statements', { skip: skipUnless(postgres) }, () => {
  let database: Database;
  let drop: () => Promise<void>;
  before(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    database = openDatabase({ url: created.url, poolSize: 1 });
    await migrateToLatest(database);
  });
  after(async () => {
    await database?.close();
    await drop?.();
  });

  it('is registered for PostgreSQL, and the SQLite path is not', () => {
    assert.ok(directPostgresOf(database.db));
    assert.equal(syncSqliteOf(database.db), undefined);
  });

  it('answers like Kysely, preparing each statement once per connection', async () => {
    const insert = preparedQuery<never, [string, string]>(database.db, 2, (id, email) => database.db.insertInto('users').values({ ...user('x'), id: id!, email: email! }));
    const find = preparedQuery<{ id: string; email: string }, [string]>(database.db, 1, (id) => database.db.selectFrom('users').select(['id', 'email']).where('id', '=', id!));
    const rename = preparedQuery<never, [string, string]>(database.db, 2, (name, id) => database.db.updateTable('users').set({ name: name! }).where('id', '=', id!));
    for (const id of ['pg-a', 'pg-b', 'pg-c']) assert.equal((await insert([id, `${id}@example.com`])).numAffectedRows, 1n);
    for (const id of ['pg-a', 'pg-b', 'pg-c']) {
      assert.deepEqual((await find([id])).rows, await database.db.selectFrom('users').select(['id', 'email']).where('id', '=', id).execute());
    }
    assert.deepEqual((await find(['nobody'])).rows, []);
    assert.equal((await rename(['A', 'pg-a'])).numAffectedRows, 1n);
    assert.equal((await rename(['A', 'nobody'])).numAffectedRows, 0n);
    // Pool of one connection: each statement text prepared there exactly once, however often run.
    const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'gh\\_%'`.execute(database.db);
    const texts = prepared.rows.map((row) => row.statement);
    assert.equal(texts.length, 3, texts.join('\n'));
    assert.equal(new Set(texts).size, 3);
  });

  it('inside a Kysely transaction the query runs on the transaction, seeing its uncommitted row', async () => {
    const find = preparedQuery<{ id: string }, [string]>(database.db, 1, (id) => database.db.selectFrom('users').select('id').where('id', '=', id!));
    await assert.rejects(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(user('pg-tx')).execute();
        assert.deepEqual((await find(['pg-tx'], trx)).rows.map((row) => row.id), ['pg-tx']);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual((await find(['pg-tx'])).rows, [], 'rolled back');
  });
});
