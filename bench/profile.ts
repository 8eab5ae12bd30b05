/**
 * CPU profile of Gatehouse under one workload: starts the server (as `npm run bench` does) with
 * `--cpu-prof`, drives the workload over loopback, stops the server (the profile is written on
 * exit) and prints the functions with the most self time and the files with the most total.
 *
 *   node bench/profile.ts --workload W3 [--duration 8] [--connections 32] [--top 30]
 *
 * The .cpuprofile stays in the printed directory (open it in Chrome DevTools → Performance).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startGatehouse, startProcess } from './lib/gatehouse.ts';
import { runLoad } from './lib/load.ts';
import { workloads, type WorkloadId } from './workloads.ts';

const { values } = parseArgs({ options: { workload: { type: 'string', default: 'W3' }, duration: { type: 'string', default: '8' }, connections: { type: 'string', default: '32' }, top: { type: 'string', default: '30' }, backend: { type: 'string', default: 'embedded' } } });
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-profile-'));
const profileDir = path.join(dataRoot, 'profiles');
const id = values.workload as WorkloadId;
const port = 4127;
const profiling = { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` };
const gatehouse = await startGatehouse({ port, dataRoot, backend: values.backend === 'scaled' ? 'scaled' : 'embedded', cpus: '0', env: id === 'W6' ? {} : profiling });
const kit = id === 'W6'
  ? await startProcess({ argv: [path.join(ROOT, 'node_modules', '.bin', 'node'), '--disable-warning=ExperimentalWarning', path.join(ROOT, 'bench', 'kit-express.ts')], env: { PORT: String(port + 1), GATEHOUSE_URL: `http://localhost:${port}`, ...profiling }, port: port + 1, readyPath: '/healthz', cpus: '0', logFile: path.join(dataRoot, 'kit.log') })
  : undefined;
try {
  const workload = (await workloads({ base: gatehouse.base, kitBase: kit?.base ?? '', connections: Number(values.connections), passwordConnections: 8 })).find((w) => w.id === id)!;
  const result = await runLoad({ base: (kit ?? gatehouse).base, spec: await workload.spec(), connections: workload.connections, durationMs: 1000 * Number(values.duration) });
  console.log(`${id}: ${result.requests} requests, ${(result.requests / result.seconds).toFixed(0)} req/s, ${result.failures + result.errors} wrong`);
} finally {
  await kit?.stop();
  await gatehouse.stop();
}

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children?: number[] }
// The largest profile is the server's (the CLI's user creation writes a small one too).
const files = readdirSync(profileDir).map((name) => path.join(profileDir, name));
const file = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0]!;
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[] };
const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
const short = (url: string): string => url.replace(`file://${ROOT}/`, '').replace(/.*node_modules\//, '~');
const self = new Map<string, number>();
for (const node of profile.nodes) {
  const key = `${node.callFrame.functionName || '(anonymous)'} ${short(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + node.hitCount);
}
// Inclusive time per file/package: a node counts once per distinct file on its stack.
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const inclusive = new Map<string, number>();
for (const node of profile.nodes) {
  if (node.hitCount === 0) continue;
  const seen = new Set<string>();
  for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
    const url = short(byId.get(at)!.callFrame.url);
    const group = url.startsWith('~') ? url.split('/').slice(0, url.startsWith('~@') ? 2 : 1).join('/') : url || '(native)';
    seen.add(group);
  }
  for (const group of seen) inclusive.set(group, (inclusive.get(group) ?? 0) + node.hitCount);
}
// Inclusive time per function (each counted once per stack), for the project's own code and packages.
const inclusiveFunctions = new Map<string, number>();
for (const node of profile.nodes) {
  if (node.hitCount === 0) continue;
  const seen = new Set<string>();
  for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)!.callFrame;
    if (!frame.url.startsWith('file://')) continue;
    seen.add(`${frame.functionName || '(anonymous)'} ${short(frame.url)}:${frame.lineNumber + 1}`);
  }
  for (const key of seen) inclusiveFunctions.set(key, (inclusiveFunctions.get(key) ?? 0) + node.hitCount);
}
const pct = (n: number): string => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
console.log(`\nprofile: ${file}\n\nself time, top ${values.top}:`);
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${pct(hits)}  ${key}`);
console.log(`\ninclusive time by function (src/ and packages), top ${values.top}:`);
for (const [key, hits] of [...inclusiveFunctions].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${pct(hits)}  ${key}`);
console.log('\ninclusive time by file / package, top 25:');
for (const [key, hits] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(hits)}  ${key}`);
