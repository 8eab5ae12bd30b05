import type { QueryResult, SqliteDatabase } from 'kysely';
import type { DatabaseSync } from 'node:sqlite';

/**
 * Synchronous access to the embedded database for hot paths. `node:sqlite` runs every statement
 * synchronously anyway; going through Kysely adds a connection mutex and several promise hops per
 * statement, and a Kysely transaction holds BEGIN open across them. Here a statement — or a whole
 * transaction — runs start to finish without yielding, so no other request can interleave.
 *
 * Everything returns `undefined` when a Kysely transaction is open on the connection (its BEGIN is
 * waiting for its next statement): a statement of ours would join that transaction, or read what
 * it has not committed. The caller then takes its Kysely path, which waits its turn.
 */
export interface SyncSqlite {
  /** Runs one statement (cached prepared statement), in Kysely's result shape. */
  execute<Row>(sql: string, parameters: readonly unknown[]): QueryResult<Row> | undefined;
  /**
   * `fn` inside BEGIN IMMEDIATE … COMMIT, running its statements with the `execute` it is given
   * (ROLLBACK when `fn` or COMMIT throws, and the error goes on). `fn` must not await.
   */
  transaction<T>(fn: (execute: <Row>(sql: string, parameters: readonly unknown[]) => QueryResult<Row>) => T): { value: T } | undefined;
}

const registry = new WeakMap<object, SyncSqlite>();

/** The SQLite database behind a Kysely instance, when it is the embedded one (`openDatabase` registers it). */
export function syncSqliteOf(db: object): SyncSqlite | undefined {
  return registry.get(db);
}

export function registerSyncSqlite(db: object, sqlite: SqliteDatabase & { raw: DatabaseSync }): void {
  const { raw } = sqlite;
  const execute = <Row>(sql: string, parameters: readonly unknown[]): QueryResult<Row> => {
    const statement = sqlite.prepare(sql);
    if (statement.reader) return { rows: statement.all(parameters) as Row[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return {
      rows: [],
      numAffectedRows: changes === undefined || changes === null ? undefined : BigInt(changes),
      insertId: lastInsertRowid === undefined || lastInsertRowid === null ? undefined : BigInt(lastInsertRowid),
    };
  };
  registry.set(db, {
    execute: (sql, parameters) => (raw.isOpen && !raw.isTransaction ? execute(sql, parameters) : undefined),
    transaction: (fn) => {
      if (!raw.isOpen || raw.isTransaction) return undefined;
      raw.exec('BEGIN IMMEDIATE');
      try {
        const value = fn(execute);
        raw.exec('COMMIT');
        return { value };
      } catch (error) {
        if (raw.isTransaction) raw.exec('ROLLBACK');
        throw error;
      }
    },
  });
}
