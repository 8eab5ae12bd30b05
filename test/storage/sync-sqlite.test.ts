/**
 * The embedded database's synchronous hot path (src/storage/sql/sync-sqlite.ts) and the prepared
 * queries that use it: same results as Kysely, never inside someone else's open transaction, and
 * a failing transaction leaves nothing behind. PostgreSQL has no such path (nothing registered).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { preparedQuery } from '../../src/storage/sql/prepared-query.ts';
import { syncSqliteOf } from '../../src/storage/sql/sync-sqlite.ts';

const T0 = 1_790_000_000_000;

function user(id: string) {
  return { id, email: `${id}@example.com`, email_verified_at: null, name: id, password_hash: null, roles: '[]', created_at: T0, updated_at: T0, disabled_at: null };
}

describe('sync SQLite path', () => {
  let database: Database;
  before(async () => {
    database = openDatabase({ url: 'sqlite::memory:' });
    await migrateToLatest(database);
  });
  after(() => database.close());

  it('is registered for the embedded database only', () => {
    assert.ok(syncSqliteOf(database.db));
    assert.equal(syncSqliteOf({}), undefined);
  });

  it('answers like Kysely: rows for a read, affected rows for a write', async () => {
    const sync = syncSqliteOf(database.db)!;
    const insert = database.db.insertInto('users').values(user('sync-a')).compile();
    const written = sync.execute(insert.sql, insert.parameters)!;
    assert.equal(written.numAffectedRows, 1n);
    const select = database.db.selectFrom('users').select(['id', 'email']).where('id', '=', 'sync-a').compile();
    assert.deepEqual(sync.execute(select.sql, select.parameters)!.rows, await database.db.selectFrom('users').select(['id', 'email']).where('id', '=', 'sync-a').execute());
    const update = database.db.updateTable('users').set({ name: 'A' }).where('id', 'in', ['sync-a', 'nobody']).compile();
    assert.equal(sync.execute(update.sql, update.parameters)!.numAffectedRows, 1n);
  });

  it('stands aside while a Kysely transaction is open, and a prepared query then waits for it', async () => {
    const sync = syncSqliteOf(database.db)!;
    const find = preparedQuery<{ id: string }, [string]>(database.db, 1, (id) => database.db.selectFrom('users').select('id').where('id', '=', id!));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let seenInside: unknown = 'not run';
    let transactionOpen!: () => void;
    const opened = new Promise<void>((resolve) => (transactionOpen = resolve));
    const transaction = database.db.transaction().execute(async (trx) => {
      await trx.insertInto('users').values(user('sync-b')).execute();
      const select = database.db.selectFrom('users').select('id').compile();
      seenInside = sync.execute(select.sql, select.parameters);
      transactionOpen();
      await gate;
    });
    await opened;
    assert.equal(seenInside, undefined, 'no sync statement inside an open transaction');
    assert.equal(sync.transaction(() => 1), undefined);
    let answered = false;
    const lookup = find(['sync-b']).then((result) => {
      answered = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(answered, false, 'the prepared query waits for the transaction instead of reading its uncommitted row');
    release();
    await transaction;
    assert.deepEqual((await lookup).rows.map((row) => row.id), ['sync-b']);
    // Free again: the prepared query answers without waiting (same result).
    assert.deepEqual((await find(['sync-b'])).rows.map((row) => row.id), ['sync-b']);
  });

  it('a transaction commits what it ran, or nothing when it throws', async () => {
    const sync = syncSqliteOf(database.db)!;
    const committed = sync.transaction((execute) => {
      const insert = database.db.insertInto('users').values(user('sync-c')).compile();
      return Number(execute(insert.sql, insert.parameters).numAffectedRows);
    });
    assert.deepEqual(committed, { value: 1 });
    assert.throws(() =>
      sync.transaction((execute) => {
        const insert = database.db.insertInto('users').values(user('sync-d')).compile();
        execute(insert.sql, insert.parameters);
        const duplicate = database.db.insertInto('users').values(user('sync-c')).compile();
        execute(duplicate.sql, duplicate.parameters);
      }),
    );
    const ids = (await database.db.selectFrom('users').select('id').where('id', 'in', ['sync-c', 'sync-d']).execute()).map((row) => row.id);
    assert.deepEqual(ids, ['sync-c'], 'the failed transaction left nothing');
    assert.ok(sync.transaction(() => true), 'and the connection is usable again');
  });
});
