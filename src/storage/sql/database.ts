import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { openNodeSqlite } from './node-sqlite.ts';
import { registerSyncSqlite } from './sync-sqlite.ts';
import { registerDirectPostgres } from './pg-direct.ts';
import { DatabaseUnavailableError, faultReason, guardedPool, guardPoolClients, type DatabaseFaultLogger } from './pg-faults.ts';
import type { DatabaseSchema } from './schema.ts';

export { DatabaseUnavailableError, type DatabaseFaultLogger } from './pg-faults.ts';

export type DialectName = 'sqlite' | 'postgres';

/** The durable store: one Kysely instance over SQLite (embedded) or PostgreSQL. */
export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DialectName;
  /** Resolves when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  /**
   * Where lost connections are logged (reason only, no secrets) once a logger exists; before
   * that they go unlogged, though the requests they fail still answer 503.
   */
  logFaultsTo(logger: DatabaseFaultLogger): void;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…` */
  url: string;
  poolSize?: number;
}

export function openDatabase(options: OpenDatabaseOptions): Database {
  if (options.url.startsWith('sqlite:')) return openSqlite(options.url.slice('sqlite:'.length));
  return openPostgres(options.url, options.poolSize ?? 10);
}

function openSqlite(path: string): Database {
  // The data directory holds the database and the development master key: owner only.
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const sqlite = openNodeSqlite(path, { busyTimeoutMs: 5000 });
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  registerSyncSqlite(db, sqlite);
  return {
    db,
    dialect: 'sqlite',
    ping: async () => {
      if (!sqlite.raw.isOpen) throw new DatabaseUnavailableError('database is closed');
      sqlite.raw.prepare('select 1').get();
    },
    // An embedded database has no connection to lose.
    logFaultsTo: () => {},
    close: () => db.destroy(),
  };
}

// PostgreSQL `bigint` (int8) holds our millisecond timestamps: read them as numbers.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

function openPostgres(url: string, poolSize: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    // TCP keep-alive: a connection to a server that vanished (failover, cable) is noticed.
    keepAlive: true,
    types: pgTypes,
  });
  let logger: DatabaseFaultLogger | undefined;
  // No error of a pooled client may crash the process, idle or checked out (SEC-REL-07): the
  // query in flight fails with DatabaseUnavailableError and the pool discards the client.
  guardPoolClients(pool, (error) => {
    logger?.warn({ reason: faultReason(error) }, 'PostgreSQL connection lost; the pool will replace it');
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: guardedPool(pool) }) });
  registerDirectPostgres(db, pool);
  return {
    db,
    dialect: 'postgres',
    ping: async (timeoutMs = 2000) => {
      await withTimeout(sql`select 1`.execute(db), timeoutMs, 'database did not answer');
    },
    logFaultsTo: (target) => {
      logger = target;
    },
    close: () => db.destroy(),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DatabaseUnavailableError(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
