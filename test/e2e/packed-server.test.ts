/**
 * The server as an operator gets it: `npm pack` of this repository (its `prepack` compiles the
 * server and CLI to dist/), `npm install` of the tarball into an empty directory with plain npm,
 * then `npx gatehouse …` there — on the lowest Node.js line `engines` claims (an exact binary
 * fetched once from the registry, see test/support/packing.ts) and on the pinned Node.js 24, and
 * refused in one line on an older Node.js. Every step is printed as a diagnostic.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CAN_FETCH_NODE, ROOT, nodeBinary, nodeVersion, npm, npmEnv, pack } from '../support/packing.ts';

/** The lowest release `engines` admits: node:sqlite unflagged with StatementSync#columns() (22.15 lacks it). */
const LOWEST = '22.16.0';
const CI = process.env.CI === 'true';
/** The system Node.js (20 here), below `engines`. */
const SYSTEM_NODE = '/usr/bin/node';

interface Line {
  name: string;
  /** Resolves the node binary to put first on PATH (undefined: not available here, skip). */
  binary: () => Promise<string | undefined>;
}
const lines: Line[] = [
  { name: `Node.js ${LOWEST} (lowest in engines)`, binary: async () => (CAN_FETCH_NODE || CI ? nodeBinary(LOWEST) : undefined) },
  { name: `Node.js ${process.versions.node} (pinned)`, binary: async () => process.execPath },
];

describe('the server package: npm pack → npm install in an empty directory → npx gatehouse', { timeout: 1_800_000 }, () => {
  let work: string;
  let project: string;
  let tarball: string;
  const binaries = new Map<string, string | undefined>();

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'gatehouse-packed-server-'));
    project = join(work, 'empty');
    mkdirSync(project);
    // The pack (tsc of the whole server) and the Node.js download run side by side.
    const [packed] = await Promise.all([pack(ROOT, work), ...lines.map(async (line) => binaries.set(line.name, await line.binary()))]);
    tarball = packed;
    await npm('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: project, timeoutMs: 900_000 });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the tarball holds the compiled server, the bin, README and LICENSE, and no TypeScript or test helpers', { timeout: 60_000 }, async (t) => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024, timeout: 50_000 });
    const files = listing.trim().split('\n').map((name) => name.replace(/^package\//, ''));
    t.diagnostic(`${files.length} files in ${tarball}`);
    for (const file of ['bin/gatehouse.mjs', 'dist/src/cli/main.js', 'dist/src/main.js', 'dist/src/app.js', 'dist/package.json', 'dist/packages/middleware/src/compact-jws.js', 'LICENSE', 'README.md', 'package.json']) {
      assert.ok(files.includes(file), `the tarball has ${file}`);
    }
    assert.deepEqual(files.filter((file) => /\.(c|m)?ts$/.test(file)), [], 'no TypeScript sources (nothing to strip under node_modules)');
    assert.deepEqual(files.filter((file) => /(^|\/)test(s)?\/|\.test\.|(^|\/)support\//.test(file)), [], 'no tests or test helpers');
    const license = readFileSync(join(project, 'node_modules', 'gatehouse', 'LICENSE'), 'utf8');
    assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
    assert.match(license, /END OF TERMS AND CONDITIONS/);
    assert.match(license, /Copyright 2026 The Gatehouse authors/);
  });

  it(`the installed package declares engines "^22.16.0 || >=24" and its bin`, () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'gatehouse', 'package.json'), 'utf8')) as { engines: { node: string }; bin: Record<string, string> };
    assert.equal(manifest.engines.node, '^22.16.0 || >=24');
    assert.equal(manifest.bin.gatehouse, 'bin/gatehouse.mjs');
    assert.ok(existsSync(join(project, 'node_modules', '.bin', 'gatehouse')), 'npm linked node_modules/.bin/gatehouse');
  });

  for (const line of lines) {
    describe(`on ${line.name}`, () => {
      const dataDir = (): string => join(work, `data-${line.name.replace(/\W+/g, '-')}`);
      /** `npx gatehouse …` with this Node.js first on PATH (npx and the bin's `#!/usr/bin/env node` both use it). */
      const gatehouse = async (args: string[], t: { diagnostic(message: string): void; skip(message: string): void }, input?: string) => {
        const binary = binaries.get(line.name);
        t.diagnostic(`PATH=${binary ? dirname(binary) : '?'}:$PATH npx gatehouse ${args.join(' ')}`);
        return runToExit(['npx', 'gatehouse', ...args], { cwd: project, env: npmEnv({ pathFirst: dirname(binary!), env: { GATEHOUSE_DATA_DIR: dataDir() } }), input });
      };
      const available = (t: { skip(message: string): void }): boolean => {
        if (binaries.get(line.name) !== undefined) return true;
        t.skip(`no ${line.name} binary for ${process.platform}-${process.arch}`);
        return false;
      };

      it('npx gatehouse --help exits 0 with the usage on stdout and nothing on stderr (no warnings)', { timeout: 120_000 }, async (t) => {
        if (!available(t)) return;
        const help = await gatehouse(['--help'], t);
        assert.equal(help.code, 0, help.stderr);
        assert.match(help.stdout, /^Usage: gatehouse <command>/);
        assert.equal(help.stderr, '');
        const version = await nodeVersion(binaries.get(line.name)!);
        t.diagnostic(`ran on v${version}`);
      });

      it('migrate, users create, clients create/list, keys list and doctor work against the embedded database', { timeout: 300_000 }, async (t) => {
        if (!available(t)) return;
        const migrate = await gatehouse(['migrate'], t);
        assert.equal(migrate.code, 0, migrate.stderr);
        const status = await gatehouse(['migrate', '--status'], t);
        assert.equal(status.code, 0, `nothing pending after migrate: ${status.stdout}${status.stderr}`);
        const user = await gatehouse(['users', 'create', '--email', 'packed@example.com', '--admin', '--password-stdin'], t, 'correct horse battery staple packed\n');
        assert.equal(user.code, 0, user.stderr);
        assert.match(user.stdout, /packed@example\.com/);
        const client = await gatehouse(['clients', 'create', '--name', 'Packed', '--type', 'confidential', '--client-id', 'packed', '--grant', 'client_credentials'], t);
        assert.equal(client.code, 0, client.stderr);
        const list = await gatehouse(['clients', 'list'], t);
        assert.equal(list.code, 0, list.stderr);
        assert.match(list.stdout, /packed/);
        const keys = await gatehouse(['keys', 'list', '--json'], t);
        assert.equal(keys.code, 0, keys.stderr);
        assert.ok(Array.isArray(JSON.parse(keys.stdout)), 'keys list --json prints a list');
        const doctor = await gatehouse(['doctor', '--json'], t);
        assert.ok(doctor.code === 0 || doctor.code === 1, `doctor ran its checks (exit ${doctor.code}): ${doctor.stderr}`);
        assert.doesNotThrow(() => JSON.parse(doctor.stdout), `doctor --json prints JSON: ${doctor.stdout}`);
      });

      it('npx gatehouse start serves /healthz and /readyz; SIGTERM stops it with exit 0', { timeout: 180_000 }, async (t) => {
        if (!available(t)) return;
        const binary = binaries.get(line.name)!;
        t.diagnostic(`PATH=${dirname(binary)}:$PATH npx gatehouse start (GATEHOUSE_PORT=0)`);
        // Its own process group (npx → sh → node), so that whatever is left can be killed at the end.
        const child = spawn('npx', ['gatehouse', 'start'], {
          cwd: project,
          env: npmEnv({ pathFirst: dirname(binary), env: { GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_PORT: '0', GATEHOUSE_HOST: '127.0.0.1' } }),
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
        const group = (signal: NodeJS.Signals): void => {
          try {
            process.kill(-child.pid!, signal);
          } catch {
            // Already gone.
          }
        };
        try {
          const deadline = Date.now() + 120_000;
          let url: string | undefined;
          while ((url = listeningUrl(stdout)) === undefined) {
            assert.ok(child.exitCode === null, `npx gatehouse start exited (${child.exitCode}) before logging "Gatehouse is ready at": ${stdout}${stderr}`);
            assert.ok(Date.now() < deadline, `no "Gatehouse is ready at" log line within 120 s: ${stdout}${stderr}`);
            await sleep(100);
          }
          t.diagnostic(`listening at ${url}`);
          const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
          assert.equal(health.status, 200, await health.clone().text());
          await health.body?.cancel();
          const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
          assert.equal(ready.status, 200, await ready.clone().text());
          await ready.body?.cancel();
          assert.doesNotMatch(stderr, /ExperimentalWarning|ERR_/, 'nothing alarming on stderr');
          // SIGTERM to the server itself (the pid in its log lines, a process of our group); npx
          // then exits with the server's exit code.
          const pid = Number(/"pid":(\d+)/.exec(stdout)?.[1]);
          assert.ok(pid > 0, 'the log lines carry the server pid');
          process.kill(pid, 'SIGTERM');
          const timer = setTimeout(() => group('SIGKILL'), 30_000);
          const code = await exited;
          clearTimeout(timer);
          assert.match(stdout, /"msg":"shutting down"/, 'the server got the signal and drained');
          assert.equal(code, 0, `exit code after SIGTERM: ${stderr}`);
        } finally {
          group('SIGKILL');
          await exited;
        }
      });
    });
  }

  it('on the system Node.js 20 (below engines) the bin refuses with exit 1 and one line of advice', { timeout: 120_000 }, async (t) => {
    const version = await nodeVersion(SYSTEM_NODE);
    const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
    const old = version !== undefined && (major < 22 || (major === 22 && minor < 16) || major === 23);
    const binary = old ? SYSTEM_NODE : CAN_FETCH_NODE || CI ? await nodeBinary('20.20.2') : undefined;
    if (binary === undefined) return t.skip(`no Node.js below ${LOWEST} here`);
    t.diagnostic(`PATH=${dirname(binary)}:$PATH npx gatehouse --help (Node.js ${await nodeVersion(binary)})`);
    const result = await runToExit(['npx', 'gatehouse', '--help'], { cwd: project, env: npmEnv({ pathFirst: dirname(binary) }) });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(result.stdout, '');
    const lines = result.stderr.split('\n').filter((text) => text !== '');
    assert.equal(lines.length, 1, `one line: ${result.stderr}`);
    assert.match(lines[0]!, /^gatehouse: Node\.js 22\.16 or later 22\.x, or 24 or newer, is required \(this is v\d+\.\d+\.\d+\); install one/);
    assert.doesNotMatch(lines[0]!, /npm run|inside the project/, 'advice for an installed package, not for the repository');
    t.diagnostic(lines[0]!);
  });
});

/** Runs `command` to completion (killed after 120 s) and returns its code and output. */
async function runToExit(command: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string | undefined }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: options.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (options.input !== undefined) child.stdin!.end(options.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (exit) => resolve(exit)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * Where the server listens, from its start-up log: `Gatehouse is ready at <url>` (the public URL,
 * with the port it bound); the test binds 127.0.0.1, so that address with the announced port.
 */
function listeningUrl(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const match = /^(?:Gatehouse is ready|Server listening) at (https?:\/\/\S+)$/.exec(String((JSON.parse(line) as { msg?: unknown }).msg));
      if (match) return `http://127.0.0.1:${new URL(match[1]!).port}`;
    } catch {
      // A partial line: wait for more output.
    }
  }
  return undefined;
}
