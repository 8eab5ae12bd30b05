/**
 * `npm run bench` — Gatehouse alone, W1–W6 over loopback HTTP, one table of req/s, p50/p99,
 * server CPU and requests per server CPU-second. `npm run bench:smoke` — every workload for
 * about a second with every response checked (status and body), no figure asserted: exits 1 on
 * any wrong response (CI). Figures for docs/benchmarks.md come from the side-by-side run with
 * the peers (bench/README.md); this one is for working on Gatehouse between those runs.
 *
 *   node bench/run.ts [--smoke] [--workloads W1,W3] [--duration 10] [--warmup 2] [--reps 1]
 *                     [--connections 32] [--password-connections 8] [--server-cpus 0] [--load-cpus 1]
 *                     [--backend embedded|scaled]
 *
 * Gatehouse is started through bench/peers/start-gatehouse.sh (as the harness does) in a fresh
 * temporary data dir; W6 runs the kit behind Express (bench/kit-express.ts) against it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hasTaskset, ROOT, startGatehouse, startProcess, type StartedProcess } from './lib/gatehouse.ts';
import { runLoad } from './lib/load.ts';
import { cpuSeconds, machineBusySeconds, rssMiB } from './lib/proc.ts';
import { workloads, type WorkloadId } from './workloads.ts';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    workloads: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    reps: { type: 'string', default: '1' },
    connections: { type: 'string' },
    'password-connections': { type: 'string' },
    'server-cpus': { type: 'string', default: '0' },
    'load-cpus': { type: 'string', default: '1' },
    backend: { type: 'string', default: 'embedded' },
    port: { type: 'string', default: '4117' },
  },
});
const smoke = values.smoke === true;
const durationMs = 1000 * Number(values.duration ?? (smoke ? 1 : 10));
const warmupMs = 1000 * Number(values.warmup ?? (smoke ? 0 : 2));
const reps = Number(values.reps);
const connections = Number(values.connections ?? (smoke ? 4 : 32));
const passwordConnections = Number(values['password-connections'] ?? (smoke ? 2 : 8));
const wanted = values.workloads ? new Set(values.workloads.split(',')) : undefined;
const port = Number(values.port);
const backend = values.backend === 'scaled' ? 'scaled' : 'embedded';
const pin = hasTaskset() && values['server-cpus'] !== '';

if (pin && values['load-cpus']) spawnSync('taskset', ['-cp', values['load-cpus'], String(process.pid)], { stdio: 'ignore' });
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-'));
const started: StartedProcess[] = [];
let failed = false;

interface Row { id: WorkloadId; name: string; rps: number; p50: number; p99: number; cores: number; perCpu: number; failures: number; rss: number; other: number }
const rows: Row[] = [];

try {
  const gatehouse = await startGatehouse({ port, dataRoot, backend, ...(pin ? { cpus: values['server-cpus'] } : {}) });
  started.push(gatehouse);
  const needsKit = !wanted || wanted.has('W6');
  const kit = needsKit
    ? await startProcess({
        argv: [path.join(ROOT, 'node_modules', '.bin', 'node'), '--disable-warning=ExperimentalWarning', path.join(ROOT, 'bench', 'kit-express.ts')],
        env: { PORT: String(port + 1), HOST: '127.0.0.1', GATEHOUSE_URL: `http://localhost:${port}`, NODE_ENV: 'production' },
        port: port + 1,
        readyPath: '/healthz',
        ...(pin ? { cpus: values['server-cpus'] } : {}),
        logFile: path.join(dataRoot, 'kit-express.log'),
      })
    : undefined;
  if (kit) started.push(kit);
  const needsArgon2 = !wanted || wanted.has('W5');
  const argon2 = needsArgon2
    ? await startProcess({
        argv: [path.join(ROOT, 'node_modules', '.bin', 'node'), '--disable-warning=ExperimentalWarning', path.join(ROOT, 'bench', 'argon2-server.ts')],
        env: { PORT: String(port + 2), HOST: '127.0.0.1', NODE_ENV: 'production' },
        port: port + 2,
        readyPath: '/healthz',
        ...(pin ? { cpus: values['server-cpus'] } : {}),
        logFile: path.join(dataRoot, 'argon2-server.log'),
      })
    : undefined;
  if (argon2) started.push(argon2);
  const all = await workloads({ base: gatehouse.base, kitBase: kit?.base ?? '', connections, passwordConnections });
  const selected = all.filter((workload) => !wanted || wanted.has(workload.id) || (workload.id === 'W5 floor' && wanted.has('W5')));

  for (const workload of selected) {
    const server = workload.server === 'kit' ? kit! : workload.server === 'argon2' ? argon2! : gatehouse;
    if (warmupMs > 0) await runLoad({ base: server.base, spec: await workload.spec(), connections: workload.connections, durationMs: warmupMs });
    const samples: Row[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const spec = await workload.spec();
      const cpu0 = cpuSeconds(server.pid);
      const busy0 = machineBusySeconds();
      const result = await runLoad({ base: server.base, spec, connections: workload.connections, durationMs });
      const cpu = cpuSeconds(server.pid) - cpu0;
      const busy = machineBusySeconds() - busy0;
      const wrong = result.failures + result.errors;
      if (smoke) {
        const ok = result.requests > 0 && wrong === 0;
        console.log(`${ok ? 'ok  ' : 'FAIL'} ${workload.id} ${workload.name}: ${result.requests} responses checked${result.firstFailure ? `, first failure: ${result.firstFailure}` : ''}`);
        if (!ok) failed = true;
      }
      samples.push({
        id: workload.id, name: workload.name, rps: result.requests / result.seconds, p50: result.p50, p99: result.p99,
        cores: cpu / result.seconds, perCpu: result.requests / cpu, failures: wrong, rss: rssMiB(server.pid),
        // Busy cores of the rest of the machine besides this server (includes this load generator).
        other: (busy - cpu) / result.seconds,
      });
    }
    const median = (pick: (row: Row) => number): number => samples.map(pick).sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
    rows.push({ id: workload.id, name: workload.name, rps: median((r) => r.rps), p50: median((r) => r.p50), p99: median((r) => r.p99), cores: median((r) => r.cores), perCpu: median((r) => r.perCpu), failures: samples.reduce((sum, r) => sum + r.failures, 0), rss: Math.max(...samples.map((r) => r.rss)), other: median((r) => r.other) });
  }

  if (!smoke) {
    console.log(`\nGatehouse ${backend}, ${durationMs / 1000} s × ${reps} (median), warm-up ${warmupMs / 1000} s, ${connections} connections (W5: ${passwordConnections}), server ${pin ? `pinned to CPU ${values['server-cpus']}` : 'unpinned'}, load generator ${pin ? `on CPU ${values['load-cpus']}` : 'unpinned'}; W5 floor: one argon2id verify per request on a bare node:http server (issue 8: W5 ≥ 90 % of it); W6 is the kit behind Express\n`);
    console.log('| W | workload | req/s | p50 ms | p99 ms | server CPU (cores) | req per server CPU-s | non-2xx / wrong | server RSS MiB | rest of machine (cores) |');
    console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const row of rows) {
      console.log(`| ${row.id} | ${row.name} | ${row.rps.toFixed(0)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.cores.toFixed(2)} | ${row.perCpu.toFixed(0)} | ${row.failures} | ${row.rss.toFixed(0)} | ${row.other.toFixed(2)} |`);
    }
  }
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  for (const process of started.reverse()) await process.stop();
  rmSync(dataRoot, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
