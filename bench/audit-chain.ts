/**
 * The audit chain's cost on the hot paths (docs/audit.md): W5-like password sign-ins and W2
 * refresh rotations against TWO Gatehouse instances sharing one PostgreSQL database and one
 * Redis, with the sealer on (GATEHOUSE_AUDIT_CHAIN=true, the default) and off, alternating
 * on/off/on/off… in one run so that drifting machine load hits both alike. Each round starts a
 * fresh database and a fresh pair. Load goes to both instances at once; the figure is the sum.
 *
 *   node bench/audit-chain.ts [--rounds 3] [--seconds 10] [--pg postgres://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { ROOT, startProcess, type StartedProcess } from './lib/gatehouse.ts';
import { runLoad, type LoadResult, type RequestSpec } from './lib/load.ts';
import { EMAIL, PASSWORD, refreshToken } from './workloads.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '10' }, pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' }, redis: { type: 'string', default: 'redis://127.0.0.1:6379' }, 'password-connections': { type: 'string', default: '4' }, connections: { type: 'string', default: '16' } } });
const rounds = Number(values.rounds);
const durationMs = Number(values.seconds) * 1000;
const NODE = path.join(ROOT, 'node_modules', '.bin', 'node');
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gh-audit-bench-'));
const masterKey = Buffer.alloc(32, 9).toString('base64');

function env(port: number, database: string, chain: boolean): Record<string, string> {
  return {
    GATEHOUSE_MASTER_KEY: masterKey, GATEHOUSE_PORT: String(port), GATEHOUSE_HOST: '127.0.0.1',
    GATEHOUSE_PUBLIC_URL: `http://localhost:${port}`, GATEHOUSE_ADMIN_PORT: 'off', GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_DATA_DIR: path.join(dataRoot, String(port)),
    GATEHOUSE_DATABASE_URL: `${values.pg.replace(/\/[^/]*$/, '')}/${database}`, GATEHOUSE_REDIS_URL: values.redis, GATEHOUSE_REDIS_PREFIX: `${database}:`,
    GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000', GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '100000', GATEHOUSE_LOCKOUT_THRESHOLD: '100',
    GATEHOUSE_AUDIT_CHAIN: String(chain),
    GATEHOUSE_CLIENTS: JSON.stringify([{ client_id: 'rt-client', name: 'Bench mobile', type: 'public', token_endpoint_auth_method: 'none', grant_types: ['refresh_token'], scopes: ['openid'], audiences: ['urn:peer:api'], first_party: true }]),
    NODE_ENV: 'production',
  };
}

async function startPair(round: number, chain: boolean): Promise<StartedProcess[]> {
  const database = `gh_audit_bench_${process.pid}_${round}`;
  execFileSync('psql', [values.pg, '-qc', `drop database if exists ${database} with (force)`, '-c', `create database ${database}`]);
  const first = env(4601, database, chain);
  execFileSync(NODE, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'migrate'], { cwd: ROOT, env: { ...process.env, ...first } });
  execFileSync(NODE, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'users', 'create', '--email', EMAIL, '--password-stdin'], { cwd: ROOT, env: { ...process.env, ...first }, input: `${PASSWORD}\n` });
  return Promise.all([4601, 4602].map((port) => startProcess({
    argv: [NODE, '--disable-warning=ExperimentalWarning', 'src/main.ts'], env: env(port, database, chain), port, readyPath: '/readyz', logFile: path.join(dataRoot, `gh-${port}.log`),
  })));
}

async function both(pair: StartedProcess[], spec: (base: string) => Promise<RequestSpec>, connections: number): Promise<{ rps: number; p99: number; failures: number }> {
  const specs = await Promise.all(pair.map((server) => spec(server.base)));
  const results: LoadResult[] = await Promise.all(pair.map((server, index) => runLoad({ base: server.base, spec: specs[index]!, connections, durationMs })));
  return { rps: results.reduce((sum, result) => sum + result.requests / result.seconds, 0), p99: Math.max(...results.map((result) => result.p99)), failures: results.reduce((sum, result) => sum + result.failures, 0) };
}

const signIn = async (base: string): Promise<RequestSpec> => ({ method: 'POST', path: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin: base.replace('127.0.0.1', 'localhost') }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }), expectBody: '"user"' });
const rotate = (connections: number) => async (base: string): Promise<RequestSpec> => {
  const tokens: string[] = [];
  for (let i = 0; i < connections + 2; i++) tokens.push(await refreshToken(base));
  return { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&client_id=rt-client&refresh_token={{POOL}}', pool: { mode: 'rotate', values: tokens, extractJsonField: 'refresh_token' }, expectBody: '"refresh_token"' };
};

const rows: string[] = [];
const totals = { W5: { on: [] as number[], off: [] as number[] }, W2: { on: [] as number[], off: [] as number[] } };
try {
  for (let round = 0; round < rounds * 2; round++) {
    const chain = round % 2 === 0;
    const pair = await startPair(round, chain);
    try {
      const w5 = await both(pair, signIn, Number(values['password-connections']));
      const w2 = await both(pair, rotate(Number(values.connections)), Number(values.connections));
      const mode = chain ? 'on' : 'off';
      totals.W5[mode].push(w5.rps);
      totals.W2[mode].push(w2.rps);
      rows.push(`| ${Math.floor(round / 2) + 1} | ${mode} | ${w5.rps.toFixed(1)} | ${w5.p99.toFixed(0)} | ${w2.rps.toFixed(0)} | ${w2.p99.toFixed(0)} | ${w5.failures + w2.failures} |`);
      console.error(rows.at(-1));
    } finally {
      await Promise.all(pair.map((server) => server.stop()));
    }
  }
} finally {
  rmSync(dataRoot, { recursive: true, force: true });
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
console.log('| round | chain | W5 sign-ins/s | W5 p99 ms | W2 rotations/s | W2 p99 ms | failures |\n|--:|---|--:|--:|--:|--:|--:|');
console.log(rows.join('\n'));
for (const id of ['W5', 'W2'] as const) {
  const on = median(totals[id].on);
  const off = median(totals[id].off);
  console.log(`\n${id}: median on ${on.toFixed(1)}/s, off ${off.toFixed(1)}/s, on/off ${(on / off).toFixed(3)}`);
}
