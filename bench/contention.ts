/**
 * W4 (session check) latency while W5 (argon2id sign-ins) saturates password hashing, against
 * W4 alone in the same run. Closed loop: W5 on 8 connections (hashing never idles), W4 on a few
 * connections so that its latency is the server's, not the queue's. Server pinned to one CPU (as
 * in the peer harness) or, with --server-cpus '', on every CPU.
 *
 *   node bench/contention.ts [--duration 10] [--w4-connections 4] [--server-cpus 0]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startGatehouse } from './lib/gatehouse.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { workloads } from './workloads.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, 'w4-connections': { type: 'string', default: '4' }, 'server-cpus': { type: 'string', default: '0' }, port: { type: 'string', default: '4135' } } });
const durationMs = Number(values.duration) * 1000;
const w4Connections = Number(values['w4-connections']);
if (values['server-cpus']) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-contention-'));
const gatehouse = await startGatehouse({ port: Number(values.port), dataRoot, ...(values['server-cpus'] ? { cpus: values['server-cpus'] } : {}) });
const line = (what: string, r: LoadResult): string => `${what}: ${(r.requests / r.seconds).toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms, wrong ${r.failures + r.errors}`;
try {
  const all = await workloads({ base: gatehouse.base, kitBase: '', connections: w4Connections, passwordConnections: 8 });
  const w4 = all.find((w) => w.id === 'W4')!;
  const w5 = all.find((w) => w.id === 'W5')!;
  await runLoad({ base: gatehouse.base, spec: await w4.spec(), connections: w4Connections, durationMs: 2000 });
  const alone = await runLoad({ base: gatehouse.base, spec: await w4.spec(), connections: w4Connections, durationMs });
  const [under, hashing] = await Promise.all([
    runLoad({ base: gatehouse.base, spec: await w4.spec(), connections: w4Connections, durationMs }),
    runLoad({ base: gatehouse.base, spec: await w5.spec(), connections: 8, durationMs }),
  ]);
  const after = await runLoad({ base: gatehouse.base, spec: await w4.spec(), connections: w4Connections, durationMs });
  console.log(`server ${values['server-cpus'] ? `pinned to CPU ${values['server-cpus']}` : 'on every CPU'}, W4 on ${w4Connections} connections, ${values.duration} s each`);
  console.log(line('W4 alone             ', alone));
  console.log(line('W4 while W5 hashes   ', under));
  console.log(line('W5 at the same time  ', hashing));
  console.log(line('W4 alone again       ', after));
} finally {
  await gatehouse.stop();
  rmSync(dataRoot, { recursive: true, force: true });
}
