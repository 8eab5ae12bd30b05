/**
 * Bounded soak (issue 8): W1 (client_credentials) and W4 (session check) together on one embedded
 * Gatehouse — first 10 s flat out to find the peak of the mix, then `--minutes` (default 10) at
 * `--load` (default 0.7) of that rate, paced, loopback only. Every response is checked; RSS is
 * sampled every 10 s. Passes when nothing failed and the RSS at the end is within `--growth`
 * (default 10 %) of the RSS after the warm-up minute. Prints one line per minute and a verdict.
 *
 *   node bench/soak.ts [--minutes 10] [--load 0.7] [--server-cpus 0]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startGatehouse } from './lib/gatehouse.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { cpuSeconds, rssMiB } from './lib/proc.ts';
import { workloads } from './workloads.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, load: { type: 'string', default: '0.7' }, growth: { type: 'string', default: '0.1' }, 'server-cpus': { type: 'string', default: '0' }, port: { type: 'string', default: '4137' } } });
const minutes = Math.min(Number(values.minutes), 60);
if (values['server-cpus']) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-soak-'));
const gatehouse = await startGatehouse({ port: Number(values.port), dataRoot, ...(values['server-cpus'] ? { cpus: values['server-cpus'] } : {}) });
let failed = false;
try {
  const all = await workloads({ base: gatehouse.base, kitBase: '', connections: 16, passwordConnections: 1 });
  const w1 = all.find((w) => w.id === 'W1')!;
  const w4 = all.find((w) => w.id === 'W4')!;
  const both = (durationMs: number, rates?: [number, number]): Promise<[LoadResult, LoadResult]> =>
    Promise.all([
      w1.spec().then((spec) => runLoad({ base: gatehouse.base, spec, connections: 16, durationMs, ...(rates ? { rate: rates[0] } : {}) })),
      w4.spec().then((spec) => runLoad({ base: gatehouse.base, spec, connections: 16, durationMs, ...(rates ? { rate: rates[1] } : {}) })),
    ]);
  await both(3000);
  const [peak1, peak4] = await both(10_000);
  const rates: [number, number] = [(Number(values.load) * peak1.requests) / peak1.seconds, (Number(values.load) * peak4.requests) / peak4.seconds];
  console.log(`peak of the mix: W1 ${(peak1.requests / peak1.seconds).toFixed(0)} + W4 ${(peak4.requests / peak4.seconds).toFixed(0)} req/s; soak at ${values.load} of it: ${rates[0].toFixed(0)} + ${rates[1].toFixed(0)} req/s for ${minutes} min`);
  const rss: number[] = [];
  let warmRss = NaN;
  let errors = 0;
  let requests = 0;
  for (let minute = 1; minute <= minutes; minute++) {
    const cpu0 = cpuSeconds(gatehouse.pid);
    const sampler = setInterval(() => rss.push(rssMiB(gatehouse.pid)), 10_000);
    const [r1, r4] = await both(60_000, rates);
    clearInterval(sampler);
    rss.push(rssMiB(gatehouse.pid));
    if (minute === 1) warmRss = rss.at(-1)!;
    const wrong = r1.failures + r1.errors + r4.failures + r4.errors;
    errors += wrong;
    requests += r1.requests + r4.requests;
    console.log(`min ${String(minute).padStart(2)}: W1 ${(r1.requests / r1.seconds).toFixed(0)} req/s p99 ${r1.p99.toFixed(1)} ms, W4 ${(r4.requests / r4.seconds).toFixed(0)} req/s p99 ${r4.p99.toFixed(1)} ms, wrong ${wrong}${wrong ? ` (${r1.firstFailure ?? r4.firstFailure})` : ''}, server CPU ${((cpuSeconds(gatehouse.pid) - cpu0) / 60).toFixed(2)} cores, RSS ${rss.at(-1)!.toFixed(0)} MiB`);
  }
  const endRss = rss.at(-1)!;
  const grown = (endRss - warmRss) / warmRss;
  failed = errors > 0 || grown > Number(values.growth);
  console.log(`${failed ? 'FAIL' : 'ok'}: ${requests} requests, ${errors} wrong; RSS after warm-up ${warmRss.toFixed(0)} MiB, at the end ${endRss.toFixed(0)} MiB (${(100 * grown).toFixed(1)} %), max ${Math.max(...rss).toFixed(0)} MiB`);
} finally {
  await gatehouse.stop();
  rmSync(dataRoot, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
