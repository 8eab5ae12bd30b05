/**
 * Which external backends (PostgreSQL, Redis) the tests can reach.
 *
 * On a developer laptop without them, tests that need one are skipped with a printed reason.
 * When `CI` is set, a test that cannot reach its backend runs anyway and fails: in CI a skipped
 * backend test is a failure (`.ci/run` also checks the output for skips).
 *
 * URLs: `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
 * `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). Each test run gets its own database /
 * key prefix, so test files may run in parallel.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

export interface Backend {
  readonly name: 'PostgreSQL' | 'Redis';
  readonly url: string;
  readonly available: boolean;
  readonly reason: string;
}

export const inCI = Boolean(process.env.CI) && process.env.CI !== 'false';

const postgresBase = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisBase = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let postgresProbe: Promise<Backend> | undefined;
let redisProbe: Promise<Backend> | undefined;

export function probePostgres(): Promise<Backend> {
  postgresProbe ??= (async () => {
    const client = new pg.Client({ connectionString: postgresBase, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return { name: 'PostgreSQL', url: postgresBase, available: true, reason: '' } as const;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return {
        name: 'PostgreSQL',
        url: postgresBase,
        available: false,
        reason: `PostgreSQL not reachable at ${redactUrl(postgresBase)} (${why}); set TEST_POSTGRES_URL`,
      } as const;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresProbe;
}

export function probeRedis(): Promise<Backend> {
  redisProbe ??= (async () => {
    const client = new Redis(redisBase, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return { name: 'Redis', url: redisBase, available: true, reason: '' } as const;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return {
        name: 'Redis',
        url: redisBase,
        available: false,
        reason: `Redis not reachable at ${redactUrl(redisBase)} (${why}); set TEST_REDIS_URL`,
      } as const;
    } finally {
      client.disconnect();
    }
  })();
  return redisProbe;
}

/**
 * The `skip` option for a test that needs `backend`: the reason when it is unreachable on a
 * laptop, `false` when it is reachable — and `false` in CI even when unreachable, so that the
 * test runs and fails loudly instead of being skipped.
 */
export function skipUnless(backend: Backend): string | false {
  if (backend.available || inCI) return false;
  return backend.reason;
}

/** Creates a fresh, empty PostgreSQL database for one test; `drop()` removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresBase, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresBase);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresBase, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A Redis URL plus a key prefix unique to one test, so parallel test files never collide. */
export function testRedisPrefix(): string {
  return `gh_test_${randomBytes(6).toString('hex')}:`;
}

export function redisUrl(): string {
  return redisBase;
}

function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable url>';
  }
}
