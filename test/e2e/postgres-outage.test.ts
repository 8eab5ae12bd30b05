/**
 * SEC-REL-07, SEC-ASVS-05 against the real server process (src/main.ts) on PostgreSQL: when
 * PostgreSQL terminates the connections of a running server — one inside a transaction, or
 * every one of them while requests run — the process lives, the requests in flight get 503
 * `temporarily_unavailable` with Retry-After, the pool reconnects, requests succeed again at
 * once, and no write is lost, half-made or doubled.
 *
 * Only backends of this test's own scratch database are ever terminated; the shared server is
 * never restarted.
 */
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';
import { clientsEnv } from '../support/oauth.ts';

const postgres = await probePostgres();
const PASSWORD = 'postgres outage passphrase';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

/** A POST; a request the server never answered (it died, or hung for a minute) is status 0. */
async function post(base: string, path: string, body: unknown): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    return { status: 0, body: { text: String((error as Error).cause ?? error) }, retryAfter: null };
  }
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, retryAfter: response.headers.get('retry-after') };
}

/** What a lost connection must look like on the wire: fast 503, retryable, no internals. */
function assertUnavailable(answer: Answer, what: string): void {
  assert.equal(answer.status, 503, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, 'temporarily_unavailable', what);
  assert.match(String(answer.retryAfter), /^\d+$/, `${what}: Retry-After`);
  assert.doesNotMatch(JSON.stringify(answer.body), /57P01|terminat|postgres|pg_|select|insert/i, `${what}: no internals`);
}

function gidOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { gid?: unknown };
  return String(payload.gid);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('PostgreSQL drops the connections of a running server', { skip: skipUnless(postgres) }, () => {
  let server: SpawnedServer;
  let scratch: { url: string; drop: () => Promise<void> };
  let dir: string;
  /** The test's own connections to the scratch database: one holds locks, one looks and terminates. */
  let control: pg.Client;
  let controlPid: number;
  // Not `control`: inside its transaction pg_stat_activity would show one frozen snapshot.
  let observer: pg.Client;

  before(async () => {
    scratch = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'gh-pg-outage-'));
    control = new pg.Client({ connectionString: scratch.url });
    control.on('error', () => {});
    await control.connect();
    observer = new pg.Client({ connectionString: scratch.url });
    observer.on('error', () => {});
    await observer.connect();
    controlPid = (await control.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  });

  // A server of its own for each test: one that died in the first must not fail the second.
  beforeEach(async () => {
    server = await spawnServer({
      cwd: dir,
      env: {
        GATEHOUSE_DATABASE_URL: scratch.url,
        GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 5).toString('base64'),
        GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '100000',
        GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000',
        ...clientsEnv(),
      },
    });
  });

  afterEach(async () => {
    await server?.stop();
  });

  after(async () => {
    await control?.end().catch(() => {});
    await observer?.end().catch(() => {});
    await scratch?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function assertAlive(what: string): void {
    assert.equal(server.process.exitCode, null, `${what}: the server exited\n${server.stdout().slice(-3000)}\n${server.stderr().slice(-3000)}`);
    assert.equal(server.process.signalCode, null, `${what}: the server was killed`);
  }

  const signUp = (email: string): Promise<Answer> => post(server.url, '/api/auth/sign-up', { email, password: PASSWORD });
  const nativeSignIn = (email: string): Promise<Answer> => post(server.url, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' });

  /** Server backends blocked on a lock inside a transaction (ours excluded). */
  async function lockWaiters(): Promise<number[]> {
    const { rows } = await observer.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = current_database() and pid not in (pg_backend_pid(), $1) and wait_event_type = 'Lock' and xact_start is not null",
      [controlPid],
    );
    return rows.map((row) => row.pid);
  }

  /** Terminates every backend of the scratch database but ours; returns how many. */
  async function terminateAll(): Promise<number> {
    const { rows } = await observer.query<{ terminated: boolean }>(
      'select pg_terminate_backend(pid) as terminated from pg_stat_activity where datname = current_database() and pid not in (pg_backend_pid(), $1)',
      [controlPid],
    );
    return rows.filter((row) => row.terminated).length;
  }

  /** Grants without their refresh token: a transaction that was half applied. */
  async function halfWrittenGrants(): Promise<number> {
    const { rows } = await control.query<{ n: number }>('select count(*)::int as n from grants g where not exists (select 1 from refresh_tokens r where r.grant_id = g.id)');
    return rows[0]!.n;
  }

  it('SEC-REL-07: a connection terminated inside a transaction → 503, the process lives, the next request succeeds', async () => {
    const email = 'in-transaction@example.com';
    assert.equal((await signUp(email)).status, 202);
    assert.equal((await nativeSignIn(email)).status, 200, 'warm-up sign-in');

    // Native sign-in stores its grant and refresh token in one transaction. Holding a lock on
    // refresh_tokens parks that transaction after its first INSERT, its connection checked out.
    await control.query('begin');
    await control.query('lock table refresh_tokens in exclusive mode');
    const pending = nativeSignIn(email);
    let answer: Answer;
    try {
      const [pid] = await waitFor('the sign-in transaction to wait on the lock', async () => {
        const pids = await lockWaiters();
        return pids.length > 0 ? pids : undefined;
      });
      const { rows } = await observer.query<{ terminated: boolean }>('select pg_terminate_backend($1) as terminated', [pid]);
      assert.equal(rows[0]!.terminated, true);
      answer = await pending;
    } finally {
      await control.query('rollback');
    }
    assertUnavailable(answer, 'the sign-in whose connection was terminated');

    // The process is alive, and the pool gave the next requests a working connection.
    assertAlive('after the terminated transaction');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const next = await nativeSignIn(email);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    assert.equal(await halfWrittenGrants(), 0, 'the terminated transaction was rolled back whole');
    assertAlive('at the end');
    assert.match(server.stdout(), /PostgreSQL connection lost/, 'the lost connection was logged');
  });

  it('SEC-REL-07: every backend terminated, repeatedly, under load → only 503s meanwhile, then full service; no lost or doubled write', async () => {
    const ROUNDS = 3;
    const WORKERS = 3;
    const outcomes: { email: string; signUp: Answer; signIn?: Answer }[] = [];
    const unexpected: string[] = [];
    let successes = 0;
    let stopping = false;
    let next = 0;
    /** Progress: a sign-in succeeded since `count`; fails at once if the server died. */
    const succeededSince = (count: number) => async (): Promise<true | undefined> => {
      assertAlive('while waiting for progress');
      assert.deepEqual(unexpected, [], 'only 503 temporarily_unavailable while connections are dropped');
      return successes > count ? true : undefined;
    };

    const worker = async (): Promise<void> => {
      while (!stopping) {
        const email = `load-${next++}@example.com`;
        const outcome: { email: string; signUp: Answer; signIn?: Answer } = { email, signUp: await signUp(email) };
        outcomes.push(outcome);
        if (outcome.signUp.status === 202) {
          outcome.signIn = await nativeSignIn(email);
          if (outcome.signIn.status === 200) successes++;
        }
        for (const [what, answer] of [['sign-up', outcome.signUp], ['sign-in', outcome.signIn]] as const) {
          if (answer === undefined || answer.status === 202 || answer.status === 200) continue;
          if (answer.status === 0) stopping = true; // no answer: the server is gone, stop the load
          try {
            assertUnavailable(answer, `${what} of ${email}`);
          } catch (error) {
            unexpected.push((error as Error).message);
          }
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, () => worker());

    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // Park at least one sign-in transaction mid-flight, so that the termination hits a
        // checked-out connection (idle ones the pool always survived), then drop every backend.
        const before = successes;
        await waitFor(`a successful sign-in before round ${round}`, succeededSince(before), 60_000);
        await control.query('begin');
        await control.query('lock table refresh_tokens in exclusive mode');
        try {
          await waitFor(`a sign-in transaction waiting on the lock in round ${round}`, async () => {
            assertAlive(`round ${round}`);
            return (await lockWaiters()).length > 0 ? true : undefined;
          }, 60_000);
          const terminated = await terminateAll();
          assert.ok(terminated > 0, `round ${round} terminated the server's connections`);
        } finally {
          await control.query('rollback');
        }
        assertAlive(`round ${round}`);
      }
      const last = successes;
      await waitFor('a successful sign-in after the last round', succeededSince(last), 60_000);
    } finally {
      stopping = true;
      await Promise.all(workers);
    }
    assertAlive('after the load');
    assert.deepEqual(unexpected, [], 'only 503 temporarily_unavailable while connections were being dropped');
    const failed = outcomes.filter((outcome) => outcome.signUp.status === 503 || outcome.signIn?.status === 503);
    assert.ok(failed.length >= ROUNDS, `each round failed at least the parked sign-in (${failed.length} failures)`);

    // Afterwards: full service, at once.
    for (let i = 0; i < 3; i++) {
      const email = `after-${i}@example.com`;
      assert.equal((await signUp(email)).status, 202, `sign-up ${email} after the outage`);
      assert.equal((await nativeSignIn(email)).status, 200, `sign-in ${email} after the outage`);
    }

    // No lost or doubled write. Every acknowledged sign-up is one account; a sign-up that got
    // 503 made at most one, and retrying it yields exactly one.
    const count = async (email: string): Promise<number> =>
      (await control.query<{ n: number }>('select count(*)::int as n from users where email = $1', [email])).rows[0]!.n;
    for (const outcome of outcomes) {
      const accounts = await count(outcome.email);
      if (outcome.signUp.status === 202) assert.equal(accounts, 1, `${outcome.email}: acknowledged sign-up stored once`);
      else {
        assert.ok(accounts <= 1, `${outcome.email}: a failed sign-up stored at most once`);
        assert.equal((await signUp(outcome.email)).status, 202, `${outcome.email}: retried sign-up`);
        assert.equal(await count(outcome.email), 1, `${outcome.email}: retried sign-up stored once`);
      }
    }
    // Every token delivered belongs to a committed grant with exactly one refresh token; a
    // failed sign-in left no half-made grant behind.
    for (const outcome of outcomes) {
      if (outcome.signIn?.status !== 200) continue;
      const gid = gidOf(String(outcome.signIn.body.access_token));
      const { rows } = await control.query<{ n: number }>('select count(*)::int as n from refresh_tokens r join grants g on g.id = r.grant_id where g.id = $1', [gid]);
      assert.equal(rows[0]!.n, 1, `${outcome.email}: the delivered refresh token's grant is committed`);
    }
    assert.equal(await halfWrittenGrants(), 0, 'no grant without its refresh token');
    assertAlive('at the end');
  });
});
