import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { syncSqliteOf } from './sync-sqlite.ts';
import { directPostgresOf } from './pg-direct.ts';

const MARKER = '\u0000gatehouse-parameter-';

/**
 * One query shape on a hot path, compiled by Kysely once and then run with new values: Kysely's
 * builder and compiler cost more CPU per request than SQLite running the statement (a third of a
 * refresh rotation's CPU, docs/benchmarks.md). `build` receives one marker per parameter and
 * returns the query; the compiled SQL text is reused with the values put where the markers were
 * (any other parameter Kysely made stays as compiled). Same SQL text every time, so the SQLite
 * driver's statement cache and PostgreSQL's planner see one statement.
 *
 * The text depends only on the dialect, so the returned function also runs inside a transaction
 * of the same database (`executor`). On the embedded database, outside a transaction, the
 * statement runs directly on `node:sqlite` (sync-sqlite.ts), without Kysely's connection hops;
 * on PostgreSQL, outside a transaction, as a named prepared statement on the pool (pg-direct.ts).
 * `statement(values)` gives the SQL text and bound values, for a caller's own sync transaction.
 */
export interface PreparedQuery<Row, Values extends unknown[]> {
  (values: Values, executor?: Kysely<DatabaseSchema>): Promise<QueryResult<Row>>;
  statement(values: Values): { sql: string; parameters: unknown[] };
}

export function preparedQuery<Row, Values extends unknown[]>(db: Kysely<DatabaseSchema>, arity: Values['length'], build: (...markers: string[]) => Compilable<Row>): PreparedQuery<Row, Values> {
  let template: { sql: string; parameters: ({ index: number } | { value: unknown })[] } | undefined;
  const sync = syncSqliteOf(db);
  const direct = directPostgresOf(db);
  const statement = (values: Values): { sql: string; parameters: unknown[] } => {
    if (template === undefined) {
      const markers = Array.from({ length: arity as number }, (_, index) => `${MARKER}${index}`);
      const compiled = build(...markers).compile();
      const parameters = compiled.parameters.map((value) => (typeof value === 'string' && value.startsWith(MARKER) ? { index: Number(value.slice(MARKER.length)) } : { value }));
      if (new Set(parameters.flatMap((parameter) => ('index' in parameter ? [parameter.index] : []))).size !== arity) throw new Error(`prepared query: expected ${String(arity)} parameters in ${compiled.sql}`);
      template = { sql: compiled.sql, parameters };
    }
    return { sql: template.sql, parameters: template.parameters.map((parameter) => ('index' in parameter ? values[parameter.index] : parameter.value)) };
  };
  const run = (values: Values, executor: Kysely<DatabaseSchema> = db): Promise<QueryResult<Row>> => {
    const { sql, parameters } = statement(values);
    if (sync && executor === db) {
      try {
        const result = sync.execute<Row>(sql, parameters);
        if (result) return Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    if (direct && executor === db) return direct.execute<Row>(sql, parameters);
    return executor.executeQuery(CompiledQuery.raw(sql, parameters) as CompiledQuery<Row>);
  };
  return Object.assign(run, { statement });
}
