/**
 * Sign-in under a 10× overload (issue 14 item 8): p99 of sign-in (W5) and of session checks (W4)
 * while sign-ins arrive at ten times the rate the server can hash them, with the password-hash
 * queue unbounded ("before": bound and wait set to their maximum) and with the default bounds
 * (32 waiting per slot, 5 s wait). Server pinned to one CPU (as in the peer harness), so it hashes
 * one at a time.
 *
 * W5 alone on 2 connections against the first server measures the hash capacity; then, on each
 * server in turn (`--rounds` times, alternating, one offered rate for all), for `--duration`
 * seconds: W4 on a few connections and W5 paced at 10× that capacity on `--connections`
 * connections (each waits for its answer, so a 503 is followed by the next paced request, not a
 * tight retry loop). The sign-ins rotate over `--accounts` accounts made by sign-up: a 503 comes
 * after the lockout has reserved its attempt, so one account under overload would soon be locked
 * (429) and the figures would measure the lockout instead of the queue. Loopback only, bounded:
 * about rounds × 2 × (5 + duration) s plus draining.
 *
 *   node bench/overload.ts [--duration 10] [--rounds 1] [--connections 200] [--factor 10] [--accounts 50] [--server-cpus 0]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startGatehouse } from './lib/gatehouse.ts';
import { runLoad, type LoadResult, type RequestSpec } from './lib/load.ts';
import { workloads } from './workloads.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '200' },
    factor: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    accounts: { type: 'string', default: '50' },
    'w4-connections': { type: 'string', default: '4' },
    'server-cpus': { type: 'string', default: '0' },
    port: { type: 'string', default: '4137' },
  },
});
const durationMs = Number(values.duration) * 1000;
const connections = Number(values.connections);
const factor = Number(values.factor);
const w4Connections = Number(values['w4-connections']);
if (values['server-cpus']) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });

const VARIANTS: { name: string; env: Record<string, string> }[] = [
  { name: 'before: queue unbounded', env: { GATEHOUSE_PASSWORD_HASH_QUEUE_MAX: '100000', GATEHOUSE_PASSWORD_HASH_QUEUE_WAIT_MS: '600000' } },
  { name: 'after: default bounds', env: {} },
];

const OVERLOAD_PASSWORD = 'overload bench passphrase, seven tulips';

/** `count` accounts made through sign-up, and the W5 request rotating over them. */
async function signInSpec(base: string, count: number): Promise<RequestSpec> {
  const origin = base.replace('127.0.0.1', 'localhost');
  const emails: string[] = [];
  for (let i = 0; i < count; i++) {
    const email = `overload-${i}@example.com`;
    const response = await fetch(`${base}/api/auth/sign-up`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ email, password: OVERLOAD_PASSWORD }) });
    if (response.status !== 202) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
    emails.push(email);
  }
  return { method: 'POST', path: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ email: '{{POOL}}', password: OVERLOAD_PASSWORD }), pool: { mode: 'rr', values: emails }, expectBody: '"user"' };
}

const statuses = (r: LoadResult): string => Object.entries(r.statuses).map(([status, count]) => `${status}×${count}`).join(' ');
const line = (what: string, r: LoadResult): string =>
  `${what}: ${(r.requests / r.seconds).toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(0)} ms, ${statuses(r)}${r.errors ? `, errors ${r.errors} (${r.firstFailure})` : ''}`;

console.log(`server ${values['server-cpus'] ? `pinned to CPU ${values['server-cpus']}` : 'on every CPU'}; W5 at ${factor}× capacity on ${connections} connections, W4 on ${w4Connections}, ${values.duration} s`);
let offered: number | undefined;
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [index, variant] of VARIANTS.entries()) {
    const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-overload-'));
    const gatehouse = await startGatehouse({ port: Number(values.port) + index, dataRoot, env: variant.env, ...(values['server-cpus'] ? { cpus: values['server-cpus'] } : {}) });
    try {
      const all = await workloads({ base: gatehouse.base, kitBase: '', connections: w4Connections, passwordConnections: 2 });
      const w4 = all.find((w) => w.id === 'W4')!;
      const w5 = await signInSpec(gatehouse.base, Number(values.accounts));
      if (offered === undefined) {
        const capacity = await runLoad({ base: gatehouse.base, spec: w5, connections: 2, durationMs: 3000 });
        offered = (factor * capacity.requests) / capacity.seconds;
        console.log(line('W5 capacity (2 connections)', capacity));
      }
      const alone = await runLoad({ base: gatehouse.base, spec: await w4.spec(), connections: w4Connections, durationMs: 2000 });
      const [sessions, signIns] = await Promise.all([
        runLoad({ base: gatehouse.base, spec: await w4.spec(), connections: w4Connections, durationMs }),
        runLoad({ base: gatehouse.base, spec: w5, connections, durationMs, rate: offered, timeoutMs: 120_000 }),
      ]);
      console.log(`\n${variant.name} (round ${round + 1})`);
      console.log(line('  W4 alone                ', alone));
      console.log(line(`  W5 offered ${offered.toFixed(0)}/s        `, signIns));
      console.log(line('  W4 during the overload  ', sessions));
    } finally {
      await gatehouse.stop();
      rmSync(dataRoot, { recursive: true, force: true });
    }
  }
}
