import { createHash } from 'node:crypto';
import type { QueryResult } from 'kysely';
import type pg from 'pg';
import { classifyPostgresError } from './pg-faults.ts';

/**
 * PostgreSQL hot path: a hot query (prepared-query.ts) sent through the `pg` pool as a named
 * prepared statement. PostgreSQL parses and plans it once per connection instead of on every
 * request, and the request skips Kysely's executor and connection hand-off. Only statements with
 * an explicit column list go this way (a cached plan must not change its result columns).
 */
export interface DirectPostgres {
  execute<Row>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<Row>>;
}

const registry = new WeakMap<object, DirectPostgres>();

/** The pool behind a Kysely instance, when it is PostgreSQL (`openDatabase` registers it). */
export function directPostgresOf(db: object): DirectPostgres | undefined {
  return registry.get(db);
}

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

export function registerDirectPostgres(db: object, pool: pg.Pool): void {
  const names = new Map<string, string>();
  registry.set(db, {
    async execute<Row>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<Row>> {
      let name = names.get(sql);
      if (name === undefined) {
        name = `gh_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
        names.set(sql, name);
      }
      let result: pg.QueryResult;
      try {
        // pg-pool releases the client with the error, so a client whose connection died is
        // destroyed, not reused; a lost connection becomes DatabaseUnavailableError (503).
        result = await pool.query({ name, text: sql, values: [...parameters] });
      } catch (error) {
        throw classifyPostgresError(error);
      }
      // The same shape as Kysely's PostgresDriver.
      return {
        rows: (result.rows ?? []) as Row[],
        numAffectedRows: WRITES.has(result.command) ? BigInt(result.rowCount ?? 0) : undefined,
      };
    },
  });
}
