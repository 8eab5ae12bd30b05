/**
 * PostgreSQL faults: telling "the connection or the server is gone" (answered 503, retry) from
 * "this statement is wrong" (a constraint violation from hostile input stays what it is), and a
 * pool wrapper that keeps a lost connection from crashing the process or wedging the pool.
 *
 * SEC-REL-07 / SEC-ASVS-05: a PostgreSQL restart or a terminated backend fails the requests in
 * flight with 503 `temporarily_unavailable`; the pool replaces the connection and the next
 * request succeeds as soon as PostgreSQL answers again.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** The subset of a pino / Fastify logger that connection faults are reported to. */
export interface DatabaseFaultLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

/**
 * SQLSTATEs of a lost or refused connection: class 08 (connection exception), 57P01
 * admin_shutdown (pg_terminate_backend, `pg_ctl stop -m fast`), 57P02 crash_shutdown, 57P03
 * cannot_connect_now (starting up / shutting down), 57P05 idle_session_timeout, 53300
 * too_many_connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300']);

/** Socket and DNS failures on the way to the server. */
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * pg, pg-pool and Kysely report these without any code, so their messages are the only signal
 * (style rule 4 prefers codes; there are none to switch on).
 */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // pg: the socket closed (…unexpectedly, …due to connection timeout)
  /is not queryable$/, // pg: "Client has encountered a connection error and is not queryable"
  /^timeout exceeded when trying to connect$/, // pg-pool: connectionTimeoutMillis
  /^Query read timeout$/, // pg: query_timeout
  /^Postgres connection has been discarded$/, // Kysely: a connection whose rollback failed
  /^Cannot use a pool after calling end on the pool$/, // pg-pool: shutting down
];

/** True when `error` means the database could not be reached or dropped the connection. */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    // Class 08 is "connection exception" — except 08P01 protocol_violation, which is a malformed
    // statement (e.g. more bind parameters than the protocol allows) on a healthy connection.
    if (code.startsWith('08') && code.length === 5 && code !== '08P01') return true;
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  // Node's happy-eyeballs connect rejects with an AggregateError of one error per address.
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isConnectionLoss);
  return false;
}

/**
 * A short, secret-free reason: the SQLSTATE or errno and pg's message. Never the error object
 * itself — pg-pool hangs the client (whose options hold the password) on it as `error.client`.
 */
export function faultReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message.split('\n')[0]!.slice(0, 120) : 'error';
  return typeof code === 'string' && /^[A-Z0-9_]{2,16}$/.test(code) ? `${code}: ${text}` : text;
}

/** `error` as a DatabaseUnavailableError when it is a connection loss; otherwise unchanged. */
export function classifyPostgresError(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError || !isConnectionLoss(error)) return error;
  return new DatabaseUnavailableError(`PostgreSQL connection lost (${faultReason(error)})`, { cause: error });
}

/**
 * Every client the pool opens gets an `error` listener. pg-pool listens only while a client is
 * idle; a client checked out (inside a transaction, between two statements) whose backend is
 * terminated emits `error` with no listener — an uncaught exception that ends the process.
 */
export function guardPoolClients(pool: pg.Pool, report: (error: unknown) => void): void {
  pool.on('connect', (client) => {
    client.on('error', report);
  });
  // pg-pool re-emits an idle client's error on the pool (already reported by the listener
  // above); without a listener here that, too, would be an uncaught 'error' event.
  pool.on('error', () => {});
}

/**
 * The pool as Kysely sees it: connection-loss errors (from connect and from every query,
 * BEGIN/COMMIT/ROLLBACK included) become DatabaseUnavailableError, and a client that lost its
 * connection is destroyed on release instead of going back to the pool. Kysely marks a client
 * for discard only when its ROLLBACK fails; a client whose COMMIT or last statement died would
 * otherwise be handed to the next request.
 */
export function guardedPool(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    // Kysely opens a separate control client of this class to cancel a query (pg's typings omit it).
    Client: (pool as unknown as { Client?: PostgresPool['Client'] }).Client,
    options: pool.options,
    end: () => pool.end(),
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw classifyPostgresError(error);
      }
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = wrapClient(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
  };
}

function wrapClient(client: pg.PoolClient): PostgresPoolClient {
  let broken = false;
  client.on('error', () => {
    broken = true;
  });
  const query = (first: unknown, parameters?: readonly unknown[]): unknown => {
    // A cursor (streaming) is returned as is; Kysely reads it and sees its errors itself.
    if (typeof first !== 'string') return client.query(first as pg.Submittable);
    return client.query(first, parameters === undefined ? undefined : [...parameters]).catch((error: unknown) => {
      if (isConnectionLoss(error)) broken = true;
      throw classifyPostgresError(error);
    });
  };
  return {
    get processID() {
      return (client as unknown as { processID?: number }).processID;
    },
    query: query as PostgresPoolClient['query'],
    // `client.release` is replaced by pg-pool on every checkout: look it up at release time.
    // A truthy argument makes pg-pool destroy the client rather than keep it idle.
    release: (destroy?: boolean) => client.release(destroy === true || broken ? true : undefined),
  };
}
