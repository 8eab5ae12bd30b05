/**
 * Black-box start-up tests: the real server (`src/main.ts`) and CLI (`src/cli/main.ts`) run as
 * child processes with a clean environment in a fresh temporary directory, and are observed
 * only through HTTP, exit codes, their output and the files they leave behind.
 *
 * PostgreSQL/Redis cases are skipped with a printed reason on a laptop without them and fail
 * in CI (test/support/backends.ts). The Redis outage case runs its own private redis-server
 * on a free port; the machine's shared Redis is never stopped.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { migrationNames } from '../../src/storage/sql/migrate.ts';
import { createTestDatabase, inCI, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { runCli, runServerToExit, spawnServer, waitForStatus, type RunResult, type SpawnedServer } from '../support/spawn-server.ts';

const TEST_TIMEOUT_MS = 240_000;
/** What production requires besides the setting under test. */
const PRODUCTION = {
  GATEHOUSE_ENV: 'production',
  GATEHOUSE_PUBLIC_URL: 'https://auth.example.com',
  GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:2525',
};

const temporaryDirectories: string[] = [];
const running = new Set<{ stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<unknown> }>();

/** A fresh, empty working directory, removed after the file's tests. */
function freshDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  temporaryDirectories.push(directory);
  return directory;
}

/** spawnServer, remembered so that `after` kills it even when an assertion failed first. */
async function startServer(options: Parameters<typeof spawnServer>[0]): Promise<SpawnedServer> {
  const server = await spawnServer(options);
  running.add(server);
  return server;
}

after(async () => {
  await Promise.allSettled([...running].map((child) => child.stop('SIGKILL', 5000)));
  for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
});

/** A start-up failure is one line on stderr, with no stack trace and no server started. */
function assertOneLineFailure(result: RunResult, mustName: string | RegExp): string {
  assert.equal(result.timedOut, false, `the process did not exit; stdout: ${result.stdout}`);
  assert.notEqual(result.code, 0, 'exit code must be non-zero');
  assert.notEqual(result.code, null, `killed by ${String(result.signal)}`);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `stderr must be exactly one line, got:\n${result.stderr}`);
  const line = lines[0]!;
  if (typeof mustName === 'string') assert.ok(line.includes(mustName), `"${line}" does not name ${mustName}`);
  else assert.match(line, mustName);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(result.stdout, /Server listening|is ready at/, 'no server may have started');
  return line;
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('zero-config start in an empty directory', () => {
  it('serves /healthz and /readyz, creates ./data with a 0600 master key, stops on SIGTERM and reuses its data', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const dataDir = join(cwd, 'data');
    const keyPath = join(dataDir, 'master.key');

    // How fast it starts is a benchmark (bench/startup.ts), not an assertion: the waits are ceilings.
    const first = await startServer({ cwd });
    await waitForStatus(`${first.url}/healthz`, 200, { timeoutMs: 60_000 });
    const ready = await waitForStatus(`${first.url}/readyz`, 200, { timeoutMs: 60_000 });
    assert.equal((ready.body as { status?: unknown }).status, 'ready');

    assert.ok(existsSync(join(dataDir, 'gatehouse.db')), 'the embedded SQLite database is created in ./data');
    assert.equal(mode(keyPath), 0o600, 'master.key is readable by its owner only');
    assert.equal(mode(dataDir) & 0o077, 0, 'the data directory is not open to group or others');
    const key = readFileSync(keyPath, 'utf8');
    assert.ok(Buffer.from(key.trim(), 'base64url').length >= 32, 'the generated key has at least 32 bytes');
    // Style rule 14: a secret is never logged.
    assert.ok(!first.stdout().includes(key.trim()) && !first.stderr().includes(key.trim()), 'the master key must not be logged');

    assert.equal(await first.stop('SIGTERM'), 0, `SIGTERM → exit 0; stderr: ${first.stderr()}`);
    running.delete(first);

    const second = await startServer({ cwd });
    await waitForStatus(`${second.url}/readyz`, 200, { timeoutMs: 60_000 });
    assert.equal(readFileSync(keyPath, 'utf8'), key, 'the second start reuses the master key');
    assert.doesNotMatch(second.stdout(), /generated a development master key|database migrated/, 'nothing is re-created');
    assert.equal(await second.stop('SIGTERM'), 0);
    running.delete(second);
  });
});

describe('start-up refuses a bad configuration with one line', () => {
  it('production without a master key: exits non-zero naming GATEHOUSE_MASTER_KEY', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const result = await runServerToExit({ cwd, env: PRODUCTION });
    assertOneLineFailure(result, 'GATEHOUSE_MASTER_KEY');
    assert.ok(!existsSync(join(cwd, 'data', 'master.key')), 'production never generates a master key');
  });

  it('production with a short master key: exits non-zero without echoing the key', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const short = randomBytes(16).toString('base64');
    const result = await runServerToExit({ cwd, env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: short } });
    assertOneLineFailure(result, 'GATEHOUSE_MASTER_KEY');
    assert.ok(!result.stderr.includes(short) && !result.stdout.includes(short), 'the key value must not be printed');
  });

  it('production with an http:// public URL: exits non-zero naming GATEHOUSE_PUBLIC_URL', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const result = await runServerToExit({
      cwd,
      env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: randomBytes(32).toString('base64'), GATEHOUSE_PUBLIC_URL: 'http://auth.example.com' },
    });
    assertOneLineFailure(result, 'GATEHOUSE_PUBLIC_URL');
  });

  it('production with nothing set: every missing setting at once, one line each, exit 2', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const result = await runServerToExit({ cwd, env: { GATEHOUSE_ENV: 'production', GATEHOUSE_PUBLIC_URL: 'http://auth.example.com' } });
    assert.equal(result.timedOut, false, `the process did not exit; stdout: ${result.stdout}`);
    assert.equal(result.code, 2, result.stderr);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.deepEqual(lines.map((line) => /^gatehouse: configuration error: (GATEHOUSE_[A-Z_]+): /.exec(line)?.[1]), ['GATEHOUSE_MASTER_KEY', 'GATEHOUSE_SMTP_URL', 'GATEHOUSE_PUBLIC_URL'], result.stderr);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(result.stdout, /is ready at/, 'no server may have started');
    assert.ok(!existsSync(join(cwd, 'data', 'master.key')), 'production never generates a master key');
  });

  it('an unknown GATEHOUSE_ variable: exit 2, naming it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const result = await runServerToExit({ cwd, env: { GATEHOUSE_PROT: '1' } });
    const line = assertOneLineFailure(result, 'GATEHOUSE_PROT');
    assert.equal(result.code, 2);
    assert.match(line, /did you mean GATEHOUSE_PORT/);
  });
});

const postgres = await probePostgres();
const redis = await probeRedis();
const redisServerSkip = skipUnlessRedisServerBinary();

describe('PostgreSQL and Redis', () => {
  it('is ready with PostgreSQL and Redis, and /readyz names redis', { skip: skipUnless(postgres) || skipUnless(redis), timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const database = await createTestDatabase();
    try {
      const server = await startServer({
        cwd,
        env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix() },
      });
      const ready = await waitForStatus(`${server.url}/readyz`, 200, { timeoutMs: 60_000 });
      assert.deepEqual((ready.body as { checks?: unknown }).checks, { database: 'ok', redis: 'ok' });
      assert.ok(!existsSync(join(cwd, 'data', 'gatehouse.db')), 'no SQLite file when PostgreSQL is configured');
      assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
      running.delete(server);
    } finally {
      await database.drop();
    }
  });

  // SEC-REL-06: Redis down → fail closed within 3 s; back → full service within 30 s, no restart.
  it('reports not-ready when its Redis dies (SEC-REL-06), and recovers without a restart', { skip: redisServerSkip, timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const port = await freePort();
    let privateRedis = await startPrivateRedis(port, cwd);
    try {
      const server = await startServer({
        cwd,
        env: { GATEHOUSE_REDIS_URL: `redis://127.0.0.1:${port}`, GATEHOUSE_REDIS_PREFIX: testRedisPrefix() },
      });
      await waitForStatus(`${server.url}/readyz`, 200, { timeoutMs: 60_000 });

      await privateRedis.stop();
      // Fail-closed within 3 s is the readiness ping's own 2 s timeout (features/health/routes.ts);
      // how long it took here depends on the machine, so the wait is a generous ceiling.
      const down = await waitForStatus(`${server.url}/readyz`, 503, { timeoutMs: 30_000, intervalMs: 50 });
      const body = down.body as { error?: unknown; error_description?: unknown; checks?: Record<string, unknown> };
      assert.equal(body.error, 'not_ready');
      assert.match(String(body.error_description), /redis/);
      assert.equal(body.checks?.database, 'ok', 'the database is still fine');
      assert.notEqual(body.checks?.redis, 'ok');
      await waitForStatus(`${server.url}/healthz`, 200, { timeoutMs: 30_000 });

      privateRedis = await startPrivateRedis(port, cwd);
      const back = await waitForStatus(`${server.url}/readyz`, 200, { timeoutMs: 90_000, intervalMs: 200 });
      assert.deepEqual((back.body as { checks?: unknown }).checks, { database: 'ok', redis: 'ok' });
      assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
      running.delete(server);
    } finally {
      await privateRedis.stop();
    }
  });
});

describe('gatehouse CLI', () => {
  it('migrate applies every migration once, then reports up to date; --status exits 0 / 3', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const first = await runCli(['migrate'], { cwd });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `applied: ${migrationNames.join(', ')}\n`);

    const second = await runCli(['migrate'], { cwd });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);

    const status = await runCli(['migrate', '--status'], { cwd });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /up to date/);

    const pending = await runCli(['migrate', '--status'], { cwd: freshDirectory() });
    assert.equal(pending.code, 3, 'pending migrations → exit 3');
    assert.match(pending.stdout, new RegExp(`pending: ${migrationNames[0]}`));
  });

  it('with GATEHOUSE_AUTO_MIGRATE=false the server refuses a fresh database, and starts after `gatehouse migrate`', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cwd = freshDirectory();
    const env = { GATEHOUSE_AUTO_MIGRATE: 'false' };
    const refused = await runServerToExit({ cwd, env });
    assertOneLineFailure(refused, /run: gatehouse migrate/);

    const migrated = await runCli(['migrate'], { cwd, env });
    assert.equal(migrated.code, 0, migrated.stderr);
    const server = await startServer({ cwd, env });
    await waitForStatus(`${server.url}/readyz`, 200, { timeoutMs: 60_000 });
    assert.equal(await server.stop('SIGTERM'), 0);
    running.delete(server);
  });

  it('doctor passes on a fresh development directory and never prints the master key', { timeout: TEST_TIMEOUT_MS }, async () => {
    const masterKey = randomBytes(32).toString('base64');
    const result = await runCli(['doctor'], { cwd: freshDirectory(), env: { GATEHOUSE_MASTER_KEY: masterKey } });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /secrets redacted/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(masterKey), 'doctor printed the master key');

    const json = await runCli(['doctor', '--json'], { cwd: freshDirectory(), env: { GATEHOUSE_MASTER_KEY: masterKey } });
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { ok: boolean; config: Record<string, unknown> };
    assert.equal(report.ok, true);
    assert.equal(report.config.masterKey, '[redacted]');
    assert.ok(!json.stdout.includes(masterKey));
    // Unset settings, secrets among them, are shown as null rather than left out.
    for (const name of ['redisUrl', 'smtpUrl']) assert.ok(Object.hasOwn(report.config, name) && report.config[name] === null, `${name} is null, not omitted`);
  });

  it('doctor never prints a database or Redis password, even when the checks fail', { timeout: TEST_TIMEOUT_MS }, async () => {
    const databasePassword = `dbpw-${randomBytes(6).toString('hex')}`;
    const redisPassword = `rpw-${randomBytes(6).toString('hex')}`;
    const closed = await freePort(); // nothing listens there: both checks fail fast
    const result = await runCli(['doctor'], {
      cwd: freshDirectory(),
      env: {
        GATEHOUSE_DATABASE_URL: `postgres://gatehouse:${databasePassword}@127.0.0.1:${closed}/gatehouse`,
        GATEHOUSE_REDIS_URL: `redis://:${redisPassword}@127.0.0.1:${closed}`,
      },
    });
    assert.equal(result.code, 1, 'failing checks → exit 1');
    assert.match(result.stdout, /FAIL\s+database/);
    assert.match(result.stdout, /FAIL\s+redis/);
    const output = `${result.stdout}${result.stderr}`;
    assert.ok(!output.includes(databasePassword), 'doctor printed the database password');
    assert.ok(!output.includes(redisPassword), 'doctor printed the Redis password');
  });

  it('doctor only reads: it creates neither ./data nor the database file', async () => {
    const cwd = freshDirectory();
    const result = await runCli(['doctor'], { cwd });
    assert.equal(result.code, 0);
    assert.ok(!existsSync(join(cwd, 'data')), 'doctor created ./data');
  });

  for (const command of ['start', 'migrate', 'doctor']) {
    it(`${command} --help prints usage and exits 0`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const cwd = freshDirectory();
      const result = await runCli([command, '--help'], { cwd, timeoutMs: 60_000 });
      assert.equal(result.timedOut, false, `${command} --help did not exit`);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: gatehouse ${command}`));
      assert.ok(!existsSync(join(cwd, 'data')), '--help has no side effects');
    });
  }

  it('--help alone lists the commands and exits 0', { timeout: TEST_TIMEOUT_MS }, async () => {
    const result = await runCli(['--help'], { cwd: freshDirectory() });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: gatehouse <command>/);
    assert.match(result.stdout, /migrate/);
  });
});

/** A TCP port that was free a moment ago (the kernel picks it). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function skipUnlessRedisServerBinary(): string | false {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (probe.status === 0 || inCI) return false;
  return 'redis-server is not installed (needed to simulate a Redis outage with a private instance)';
}

interface PrivateRedis {
  /** SIGKILLs the server (a crash, not a clean shutdown) and waits until it is gone. */
  stop(): Promise<void>;
}

/** Starts a throwaway redis-server on `port` (no persistence) and waits until it accepts PING. */
async function startPrivateRedis(port: number, cwd: string): Promise<PrivateRedis> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', cwd],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  running.add({ stop });
  process.once('exit', () => child.kill('SIGKILL'));

  const deadline = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`private redis-server on port ${port} did not start:\n${output}`);
    }
    await sleep(50);
  }
  return { stop };
}

/** One raw RESP PING over TCP, bounded by 500 ms. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
