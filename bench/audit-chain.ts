/**
 * The cost of the audit chain and the webhook outbox on the hot paths (docs/audit.md, issue 19):
 * W5-like password sign-ins and W2 refresh rotations against TWO Gatehouse instances sharing one
 * PostgreSQL database and one Redis. "on": the sealer runs (GATEHOUSE_AUDIT_CHAIN=true, the
 * default) and a webhook endpoint subscribed to every event type receives deliveries (a loopback
 * receiver in this process answering 204, so each sign-in event also writes an outbox row in its
 * transaction and is delivered). "off": no sealer and no endpoint. (Each record's MAC is computed
 * either way: it is not switchable.) Rounds go on/off, off/on, … (ABBA) so that neither mode
 * always runs first; each run starts a fresh database and a fresh pair. Load goes to both
 * instances at once; the figure is the sum, with CPU milliseconds per request of the servers and
 * of PostgreSQL's backends for that database.
 *
 *   node bench/audit-chain.ts [--rounds 3] [--seconds 10] [--pg postgres://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379]
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { ROOT, startProcess, type StartedProcess } from './lib/gatehouse.ts';
import { cpuSeconds } from './lib/proc.ts';
import { runLoad, type LoadResult, type RequestSpec } from './lib/load.ts';
import { EMAIL, PASSWORD, refreshToken } from './workloads.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '10' }, pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' }, redis: { type: 'string', default: 'redis://127.0.0.1:6379' }, 'password-connections': { type: 'string', default: '4' }, connections: { type: 'string', default: '16' } } });
const rounds = Number(values.rounds);
const durationMs = Number(values.seconds) * 1000;
const NODE = path.join(ROOT, 'node_modules', '.bin', 'node');
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gh-audit-bench-'));
const masterKey = Buffer.alloc(32, 9).toString('base64');
const WEBHOOK_EVENTS = ['user.created', 'user.updated', 'user.locked-out', 'sign-in.succeeded', 'sign-in.failed', 'session.ended', 'refresh-token.reuse-detected'];
let delivered = 0;
// An https receiver (production allows only https): a throwaway self-signed certificate for
// 127.0.0.1 that the servers trust through NODE_EXTRA_CA_CERTS.
const certFile = path.join(dataRoot, 'receiver-cert.pem');
const keyFile = path.join(dataRoot, 'receiver-key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
const receiver = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (request, response) => {
  request.resume();
  request.on('end', () => {
    delivered += 1;
    response.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

function env(port: number, database: string, chain: boolean): Record<string, string> {
  return {
    GATEHOUSE_MASTER_KEY: masterKey, GATEHOUSE_PORT: String(port), GATEHOUSE_HOST: '127.0.0.1',
    GATEHOUSE_PUBLIC_URL: `http://localhost:${port}`, GATEHOUSE_ADMIN_PORT: 'off', GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_DATA_DIR: path.join(dataRoot, String(port)),
    GATEHOUSE_DATABASE_URL: `${values.pg.replace(/\/[^/]*$/, '')}/${database}`, GATEHOUSE_REDIS_URL: values.redis, GATEHOUSE_REDIS_PREFIX: `${database}:`,
    GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000', GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '100000', GATEHOUSE_LOCKOUT_THRESHOLD: '100',
    GATEHOUSE_AUDIT_CHAIN: String(chain),
    ...(chain ? {
      GATEHOUSE_WEBHOOKS: JSON.stringify([{ id: 'bench', url: receiverUrl, events: WEBHOOK_EVENTS, secret_env: 'BENCH_WEBHOOK_SECRET' }]),
      BENCH_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
      NODE_EXTRA_CA_CERTS: certFile,
    } : {}),
    GATEHOUSE_CLIENTS: JSON.stringify([{ client_id: 'rt-client', name: 'Bench mobile', type: 'public', token_endpoint_auth_method: 'none', grant_types: ['refresh_token'], scopes: ['openid'], audiences: ['urn:peer:api'], first_party: true }]),
    NODE_ENV: 'production',
  };
}

const databaseOf = (round: number) => `gh_audit_bench_${process.pid}_${round}`;

async function startPair(round: number, chain: boolean): Promise<StartedProcess[]> {
  const database = databaseOf(round);
  execFileSync('psql', [values.pg, '-qc', `drop database if exists ${database} with (force)`, '-c', `create database ${database}`]);
  const first = env(4601, database, chain);
  execFileSync(NODE, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'migrate'], { cwd: ROOT, env: { ...process.env, ...first } });
  execFileSync(NODE, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'users', 'create', '--email', EMAIL, '--password-stdin'], { cwd: ROOT, env: { ...process.env, ...first }, input: `${PASSWORD}\n` });
  const started = await Promise.allSettled([4601, 4602].map((port) => startProcess({
    argv: [NODE, '--disable-warning=ExperimentalWarning', 'src/main.ts'], env: env(port, database, chain), port, readyPath: '/readyz', logFile: path.join(dataRoot, `gh-${port}.log`),
  })));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // Stop the one that did start: a server left running would hold its port for the next run.
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
    throw failed.reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<StartedProcess>).value);
}

/** CPU seconds of the PostgreSQL backends serving `database` (both instances' pools), read from /proc. */
function backendCpu(database: string): number {
  const pids = execFileSync('psql', [values.pg, '-Atqc', `select pid from pg_stat_activity where datname = '${database}'`], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  return pids.reduce((sum, pid) => { try { return sum + cpuSeconds(pid); } catch { return sum; } }, 0);
}

interface Measured { rps: number; p99: number; failures: number; serverCpuPerRequestMs: number; pgCpuPerRequestMs: number }

/**
 * Load both instances at once. Besides throughput it reports CPU milliseconds per request of the
 * two server processes and of PostgreSQL's backends for this database: on a shared machine the
 * work done per request moves far less than the requests per second do.
 */
async function both(pair: StartedProcess[], database: string, spec: (base: string) => Promise<RequestSpec>, connections: number): Promise<Measured> {
  const specs = await Promise.all(pair.map((server) => spec(server.base)));
  const serverBefore = pair.reduce((sum, server) => sum + cpuSeconds(server.pid), 0);
  const pgBefore = backendCpu(database);
  const results: LoadResult[] = await Promise.all(pair.map((server, index) => runLoad({ base: server.base, spec: specs[index]!, connections, durationMs })));
  const serverCpu = pair.reduce((sum, server) => sum + cpuSeconds(server.pid), 0) - serverBefore;
  const pgCpu = backendCpu(database) - pgBefore;
  const requests = results.reduce((sum, result) => sum + result.requests, 0);
  return {
    rps: results.reduce((sum, result) => sum + result.requests / result.seconds, 0), p99: Math.max(...results.map((result) => result.p99)), failures: results.reduce((sum, result) => sum + result.failures, 0),
    serverCpuPerRequestMs: (serverCpu * 1000) / requests, pgCpuPerRequestMs: (pgCpu * 1000) / requests,
  };
}

const signIn = async (base: string): Promise<RequestSpec> => ({ method: 'POST', path: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin: base.replace('127.0.0.1', 'localhost') }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }), expectBody: '"user"' });
const rotate = (connections: number) => async (base: string): Promise<RequestSpec> => {
  const tokens: string[] = [];
  for (let i = 0; i < connections + 2; i++) tokens.push(await refreshToken(base));
  return { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&client_id=rt-client&refresh_token={{POOL}}', pool: { mode: 'rotate', values: tokens, extractJsonField: 'refresh_token' }, expectBody: '"refresh_token"' };
};

const rows: string[] = [];
const totals = { W5: { on: [] as Measured[], off: [] as Measured[] }, W2: { on: [] as Measured[], off: [] as Measured[] } };
try {
  for (let round = 0; round < rounds * 2; round++) {
    const chain = [true, false, false, true][round % 4]!;
    const pair = await startPair(round, chain);
    try {
      const w5 = await both(pair, databaseOf(round), signIn, Number(values['password-connections']));
      const w2 = await both(pair, databaseOf(round), rotate(Number(values.connections)), Number(values.connections));
      const mode = chain ? 'on' : 'off';
      totals.W5[mode].push(w5);
      totals.W2[mode].push(w2);
      const ms = (value: number) => value.toFixed(3);
      rows.push(`| ${Math.floor(round / 2) + 1} | ${mode} | ${w5.rps.toFixed(1)} | ${w5.p99.toFixed(0)} | ${ms(w5.serverCpuPerRequestMs)} | ${ms(w5.pgCpuPerRequestMs)} | ${w2.rps.toFixed(0)} | ${w2.p99.toFixed(0)} | ${ms(w2.serverCpuPerRequestMs)} | ${ms(w2.pgCpuPerRequestMs)} | ${w5.failures + w2.failures} |`);
      console.error(rows.at(-1));
    } finally {
      await Promise.all(pair.map((server) => server.stop()));
      execFileSync('psql', [values.pg, '-qc', `drop database if exists ${databaseOf(round)} with (force)`]);
    }
  }
} finally {
  if (!process.env.BENCH_KEEP) rmSync(dataRoot, { recursive: true, force: true });
  receiver.close();
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
console.log('| round | chain | W5 sign-ins/s | W5 p99 ms | W5 server CPU ms/req | W5 PG CPU ms/req | W2 rotations/s | W2 p99 ms | W2 server CPU ms/req | W2 PG CPU ms/req | failures |\n|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
console.log(rows.join('\n'));
console.log(`\nwebhook deliveries received (on runs): ${delivered}`);
for (const id of ['W5', 'W2'] as const) {
  const pick = (mode: 'on' | 'off', field: keyof Measured) => median(totals[id][mode].map((measured) => measured[field]));
  const rps = [pick('on', 'rps'), pick('off', 'rps')];
  const server = [pick('on', 'serverCpuPerRequestMs'), pick('off', 'serverCpuPerRequestMs')];
  const total = [pick('on', 'serverCpuPerRequestMs') + pick('on', 'pgCpuPerRequestMs'), pick('off', 'serverCpuPerRequestMs') + pick('off', 'pgCpuPerRequestMs')];
  console.log(`\n${id}: median on ${rps[0]!.toFixed(1)}/s, off ${rps[1]!.toFixed(1)}/s, on/off ${(rps[0]! / rps[1]!).toFixed(3)}; server CPU ms/req on ${server[0]!.toFixed(3)}, off ${server[1]!.toFixed(3)} (on/off ${(server[0]! / server[1]!).toFixed(3)}); server + PostgreSQL CPU ms/req on ${total[0]!.toFixed(3)}, off ${total[1]!.toFixed(3)} (on/off ${(total[0]! / total[1]!).toFixed(3)})`);
}
