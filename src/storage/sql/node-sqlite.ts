import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Adapts `node:sqlite` (built into Node, no native addon to install) to the database shape
 * Kysely's `SqliteDialect` expects (the better-sqlite3 API).
 *
 * Prepared statements are cached by SQL text: Kysely compiles the same query shape to the same
 * text, so the steady state prepares nothing.
 */
export function openNodeSqlite(path: string, options: { busyTimeoutMs: number }): SqliteDatabase & { raw: DatabaseSync } {
  const database = new DatabaseSync(path, { timeout: options.busyTimeoutMs });
  // WAL: readers never block the writer; NORMAL sync is durable across process crashes in WAL.
  if (path !== ':memory:') database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec('PRAGMA foreign_keys = ON');
  database.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);

  const cache = new Map<string, SqliteStatement>();
  const MAX_CACHED = 500;

  return {
    raw: database,
    close: () => {
      cache.clear();
      if (database.isOpen) database.close();
    },
    prepare: (sql: string): SqliteStatement => {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = wrap(database.prepare(sql));
        if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

function wrap(statement: StatementSync): SqliteStatement {
  const reader = statement.columns().length > 0;
  return {
    reader,
    all: (parameters) => statement.all(...toSqlite(parameters)) as unknown[],
    run: (parameters) => {
      const result = statement.run(...toSqlite(parameters));
      return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
    },
    iterate: (parameters) => statement.iterate(...toSqlite(parameters)) as IterableIterator<unknown>,
  };
}

/** node:sqlite binds only null, numbers, bigints, strings and bytes. */
function toSqlite(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value === undefined) return null;
    if (value instanceof Date) return value.getTime();
    return value as SQLInputValue;
  });
}
