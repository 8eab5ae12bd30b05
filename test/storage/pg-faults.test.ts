/**
 * SEC-REL-07 / SEC-ASVS-05 at the storage layer: a PostgreSQL connection that dies while it is
 * checked out of the pool — between two statements of a transaction, or under a statement on
 * the prepared-statement hot path — fails that work with DatabaseUnavailableError (503), never
 * crashes the process (an `error` event with no listener is an uncaught exception), and the
 * pool replaces the client: with a pool of one, the very next query succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import { DatabaseUnavailableError, openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { directPostgresOf } from '../../src/storage/sql/pg-direct.ts';
import { toApiError } from '../../src/http/errors.ts';

const postgres = await probePostgres();

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

describe('PostgreSQL connection lost while checked out', { skip: skipUnless(postgres) }, () => {
  let scratch: { url: string; drop: () => Promise<void> };
  let admin: pg.Client;
  let database: Database;
  const logged: string[] = [];

  before(async () => {
    scratch = await createTestDatabase();
    admin = new pg.Client({ connectionString: scratch.url });
    admin.on('error', () => {});
    await admin.connect();
    await admin.query('create table items (id integer primary key)');
    // One connection: the next query can only succeed if the broken client was discarded.
    database = openDatabase({ url: scratch.url, poolSize: 1 });
    database.logFaultsTo({ warn: (object, message) => void logged.push(`${message} ${JSON.stringify(object)}`) });
  });

  after(async () => {
    await database?.close();
    await admin?.end().catch(() => {});
    await scratch?.drop();
  });

  /** Terminates backend `pid` of the scratch database and waits until it has gone. */
  async function terminate(pid: number): Promise<void> {
    const { rows } = await admin.query<{ terminated: boolean }>('select pg_terminate_backend(pid) as terminated from pg_stat_activity where pid = $1 and datname = current_database()', [pid]);
    assert.equal(rows[0]?.terminated, true, `backend ${pid} was terminated`);
    await waitFor(`backend ${pid} to exit`, async () => (await admin.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount === 0);
  }

  it('SEC-REL-07: terminated between two statements of a transaction → DatabaseUnavailableError, no crash, pool recovers', async () => {
    const attempt = database.db.transaction().execute(async (trx) => {
      await sql`insert into items (id) values (1)`.execute(trx);
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      // The client sits checked out, idle in the transaction, while PostgreSQL drops it.
      await terminate(rows[0]!.pid);
      await sql`insert into items (id) values (2)`.execute(trx);
    });
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof DatabaseUnavailableError, `got ${String(error)}`);
      assert.equal(error.code, 'DATABASE_UNAVAILABLE');
      return true;
    });
    // The pool of one handed out a fresh connection: not wedged, not the dead client.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from items`.execute(database.db);
    assert.equal(rows[0]!.n, 0, 'the transaction was rolled back: no half-written rows');
    await database.ping();
    // Which arrives first is up to the socket: PostgreSQL's 57P01 notice, or the connection closing.
    assert.ok(logged.some((line) => line.includes('PostgreSQL connection lost') && (line.includes('57P01') || line.includes('Connection terminated'))), logged.join('\n'));
  });

  it('SEC-REL-07: terminated under a statement on the prepared-statement path → DatabaseUnavailableError, pool recovers', async () => {
    const direct = directPostgresOf(database.db);
    assert.ok(direct, 'PostgreSQL registers the direct path');
    // Settled into a value at once: it rejects while the test is still waiting below.
    const running = direct.execute('select pg_sleep(60) as slept', []).then(() => undefined, (error: unknown) => error);
    let pid = 0;
    await waitFor('the pg_sleep statement to run', async () => {
      const { rows } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and query like 'select pg_sleep(60)%' and state = 'active'");
      pid = rows[0]?.pid ?? 0;
      return pid !== 0;
    });
    await terminate(pid);
    const failure = await running;
    assert.ok(failure instanceof DatabaseUnavailableError, `got ${String(failure)}`);
    const after = await direct.execute<{ one: number }>('select 1 as one', []);
    assert.equal(after.rows[0]!.one, 1);
  });

  it('SEC-ASVS-05: a statement error from hostile input stays what it is — not a 503', async () => {
    await sql`insert into items (id) values (7)`.execute(database.db);
    const duplicate = await sql`insert into items (id) values (7)`.execute(database.db).catch((error: unknown) => error);
    assert.ok(duplicate instanceof Error);
    assert.equal((duplicate as { code?: unknown }).code, '23505');
    assert.equal(toApiError(duplicate), undefined, 'a unique violation is not "temporarily unavailable"');
    // And the client that reported it is still usable.
    await database.ping();
  });

  it('SEC-REL-07: the lost connection maps to 503 temporarily_unavailable with Retry-After, no internals', async () => {
    const error = await database.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      await terminate(rows[0]!.pid);
      await sql`select 1`.execute(trx);
    }).catch((caught: unknown) => caught as Error);
    const mapped = toApiError(error as Error);
    assert.ok(mapped, 'mapped');
    assert.equal(mapped.status, 503);
    assert.equal(mapped.error, 'temporarily_unavailable');
    assert.equal(mapped.headers['retry-after'], '5');
    assert.doesNotMatch(JSON.stringify(mapped.toJSON()), /57P01|terminat|postgres|select/i);
  });
});

describe('what is not a lost connection', { skip: skipUnless(postgres) }, () => {
  let scratch: { url: string; drop: () => Promise<void> };
  let database: Database;
  before(async () => {
    scratch = await createTestDatabase();
    database = openDatabase({ url: scratch.url, poolSize: 2 });
    const { migrateToLatest } = await import('../../src/storage/sql/migrate.ts');
    await migrateToLatest(database);
  });
  after(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('08P01 protocol_violation (a statement with more parameters than the protocol carries) is not a 503', async () => {
    const ids = Array.from({ length: 70_000 }, (_, index) => `id-${index}`);
    const failure = await database.db.selectFrom('grants').select('id').where('id', 'in', ids).execute().then(() => undefined, (error: unknown) => error as Error);
    assert.ok(failure, 'the statement is refused');
    assert.ok(!(failure instanceof DatabaseUnavailableError), `not classified as a lost connection: ${failure.message}`);
    assert.notEqual(toApiError(failure)?.status, 503);
    assert.equal((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows[0]?.one, 1, 'the connection is fine');
  });

  it('revoking every grant of a user with more grants than a statement takes parameters revokes them all (one UPDATE … RETURNING)', async () => {
    const { createSqlTokenStore } = await import('../../src/features/tokens/store.ts');
    const count = 70_000;
    await database.db.transaction().execute(async (trx) => {
      // The grants only: no client or user rows needed for what is tested (foreign keys off in this transaction).
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`insert into grants (id, client_id, user_id, session_id, scope, created_at, expires_at, revoked_at)
        select 'g-' || n, 'many', 'u-many', null, 'openid', 1, 9999999999999, null from generate_series(1, ${count}) as n`.execute(trx);
    });
    const revoked = await createSqlTokenStore(database.db).revokeGrantsOfUser('u-many', 5);
    assert.equal(revoked.length, count);
    const live = await database.db.selectFrom('grants').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', 'u-many').where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    assert.equal(Number(live.n), 0);
  });
});
