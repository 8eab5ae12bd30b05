/**
 * CPU profile of Gatehouse under one workload: starts the server (as `npm run bench` does) with
 * `--cpu-prof`, warms it up, drives the workload over loopback, stops the server (the profile is
 * written on exit) and prints, for the measured window only (start-up, warm-up and idle samples
 * left out), the functions with the most self time, the files with the most inclusive time, and
 * the samples grouped into buckets (HTTP, JWT signing, SQLite …), with the server's CPU per request.
 *
 *   node bench/profile.ts --workload W3 [--duration 8] [--warmup 2] [--connections 32] [--top 30]
 *                         [--backend embedded|scaled] [--rate R] [--no-profile]
 *
 * `--rate R`: R requests/s in all (paced per connection) instead of a closed loop, so that two
 * trees compare at the same load: the CPU per request of a server below saturation depends on how
 * many requests each turn of its event loop finds, i.e. on the load. `--no-profile`: the same
 * run without the profiler, for the CPU per request alone.
 *
 * The window: V8 stamps samples with the monotonic clock `process.hrtime` reads, so the load's
 * start and end here select the server's samples. The .cpuprofile stays in the printed directory
 * (open it in Chrome DevTools → Performance).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hasTaskset, ROOT, startGatehouse, startProcess } from './lib/gatehouse.ts';
import { runLoad } from './lib/load.ts';
import { workloads, type WorkloadId } from './workloads.ts';

const { values } = parseArgs({ options: { workload: { type: 'string', default: 'W3' }, duration: { type: 'string', default: '8' }, warmup: { type: 'string', default: '2' }, connections: { type: 'string', default: '32' }, top: { type: 'string', default: '30' }, backend: { type: 'string', default: 'embedded' }, rate: { type: 'string' }, 'no-profile': { type: 'boolean', default: false } } });
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-profile-'));
const profileDir = path.join(dataRoot, 'profiles');
const id = values.workload as WorkloadId;
const port = 4127;
// As `npm run bench`: the server on CPU 0, this process (the load) on CPU 1, so that the load
// does not preempt the server inside its socket writes (that wall time would show as `writev`).
if (hasTaskset()) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const profiling: Record<string, string> = values['no-profile'] ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` };
const gatehouse = await startGatehouse({ port, dataRoot, backend: values.backend === 'scaled' ? 'scaled' : 'embedded', cpus: '0', env: id === 'W6' ? {} : profiling });
const kit = id === 'W6'
  ? await startProcess({ argv: [path.join(ROOT, 'node_modules', '.bin', 'node'), '--disable-warning=ExperimentalWarning', path.join(ROOT, 'bench', 'kit-express.ts')], env: { PORT: String(port + 1), GATEHOUSE_URL: `http://localhost:${port}`, ...profiling }, port: port + 1, readyPath: '/healthz', cpus: '0', logFile: path.join(dataRoot, 'kit.log') })
  : undefined;
const profiled = kit ?? gatehouse;
const microseconds = (): number => Number(process.hrtime.bigint() / 1000n);
let window: { from: number; to: number };
try {
  const workload = (await workloads({ base: gatehouse.base, kitBase: kit?.base ?? '', connections: Number(values.connections), passwordConnections: 8 })).find((w) => w.id === id)!;
  const load = async (seconds: number) => runLoad({ base: profiled.base, spec: await workload.spec(), connections: workload.connections, durationMs: 1000 * seconds });
  if (Number(values.warmup) > 0) await load(Number(values.warmup));
  const spec = await workload.spec(); // fresh state (rotation pools), made before the window opens
  const cpuBefore = userAndSystem(profiled.pid);
  const ioBefore = io(profiled.pid);
  const from = microseconds();
  const result = await runLoad({ base: profiled.base, spec, connections: workload.connections, durationMs: 1000 * Number(values.duration), ...(values.rate ? { rate: Number(values.rate) } : {}) });
  window = { from, to: microseconds() };
  const cpuAfter = userAndSystem(profiled.pid);
  const ioAfter = io(profiled.pid);
  const user = cpuAfter.user - cpuBefore.user;
  const system = cpuAfter.system - cpuBefore.system;
  const cpu = user + system;
  const perRequest = (seconds: number): string => ((1000 * seconds) / result.requests).toFixed(3);
  console.log(`${id} (${values.backend}): ${result.requests} requests, ${(result.requests / result.seconds).toFixed(0)} req/s, ${result.failures + result.errors} wrong; server CPU ${(cpu / result.seconds).toFixed(2)} cores, ${perRequest(cpu)} ms per request (user ${perRequest(user)}, system ${perRequest(system)}; ${(result.requests / cpu).toFixed(0)} per CPU-s${values['no-profile'] ? '' : ', profiler on'})`);
  const ioPerRequest = (field: string): string => (((ioAfter[field] ?? 0) - (ioBefore[field] ?? 0)) / result.requests).toFixed(1);
  console.log(`per request: ${ioPerRequest('syscw')} write syscalls, ${ioPerRequest('wchar')} bytes written (sockets and files), ${ioPerRequest('syscr')} read syscalls, ${ioPerRequest('write_bytes')} bytes to storage`);
} finally {
  await kit?.stop();
  await gatehouse.stop();
}

/** utime and stime of `pid` in seconds (/proc/<pid>/stat fields 14 and 15, 100 ticks a second). */
function userAndSystem(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** /proc/<pid>/io: read/write syscalls and bytes (sockets and files), bytes that reached storage. */
function io(pid: number): Record<string, number> {
  return Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((line) => {
    const [name, value] = line.split(':');
    return [name!.trim(), Number(value)];
  }));
}

if (values['no-profile']) process.exit(0);

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children?: number[] }
interface Profile { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] }
// The largest profile is the server's (the CLI's user creation writes a small one too).
const files = readdirSync(profileDir).map((name) => path.join(profileDir, name));
const file = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0]!;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

// Hits of each node inside the window, idle left out.
const hits = new Map<number, number>();
let at = profile.startTime;
for (let index = 0; index < profile.samples.length; index++) {
  at += profile.timeDeltas[index]!;
  if (at < window.from || at > window.to) continue;
  const nodeId = profile.samples[index]!;
  if (byId.get(nodeId)!.callFrame.functionName === '(idle)') continue;
  hits.set(nodeId, (hits.get(nodeId) ?? 0) + 1);
}
const total = [...hits.values()].reduce((sum, count) => sum + count, 0);
const short = (url: string): string => url.replace(`file://${ROOT}/`, '').replace(/.*node_modules\//, '~');
const frameKey = (frame: Node['callFrame']): string => `${frame.functionName || '(anonymous)'} ${short(frame.url)}:${frame.lineNumber + 1}`;
function* stack(nodeId: number): Generator<Node> {
  for (let node: number | undefined = nodeId; node !== undefined; node = parent.get(node)) yield byId.get(node)!;
}
function tally(keysOf: (nodeId: number) => Iterable<string>): [string, number][] {
  const counts = new Map<string, number>();
  for (const [nodeId, count] of hits) for (const key of new Set(keysOf(nodeId))) counts.set(key, (counts.get(key) ?? 0) + count);
  return [...counts].sort((a, b) => b[1] - a[1]);
}
const self = tally((nodeId) => [frameKey(byId.get(nodeId)!.callFrame)]);
// Inclusive time per file/package and per function (each counted once per stack).
const inclusiveFiles = tally(function* (nodeId) {
  for (const node of stack(nodeId)) {
    const url = short(node.callFrame.url);
    yield url.startsWith('~') ? url.split('/').slice(0, url.startsWith('~@') ? 2 : 1).join('/') : url || '(native)';
  }
});
const inclusiveFunctions = tally(function* (nodeId) {
  for (const node of stack(nodeId)) if (node.callFrame.url.startsWith('file://')) yield frameKey(node.callFrame);
});

/**
 * Buckets: a sample goes to the first rule that matches a frame, walking from the leaf up (so
 * JSON.stringify inside the JWT signer counts as JSON, the signature itself as JWT signing).
 */
const BUCKETS: [string, (name: string, url: string) => boolean][] = [
  ['GC', (name) => name === '(garbage collector)'],
  ['JSON', (name, url) => (url === '' && (name === 'parse' || name === 'stringify')) || url.startsWith('~fast-json-stringify') || url.startsWith('~secure-json-parse')],
  ['JWT signing', (name, url) => url === 'src/keys/jwt.ts' || name === 'signOneShot'],
  ['sealing (AES-GCM)', (_name, url) => url === 'src/crypto/seal.ts' || url === 'node:internal/crypto/cipher'],
  ['token hashing / random', (_name, url) => url === 'src/crypto/random.ts' || url === 'node:internal/crypto/hash' || url === 'node:internal/crypto/random'],
  ['SQLite driver (node:sqlite, statements, commit)', (_name, url) => /^src\/storage\/sql\/(node-sqlite|sync-sqlite|prepared-query)\.ts$/.test(url) || url.startsWith('~kysely')],
  ['pg driver', (_name, url) => url.startsWith('~pg') || url === 'src/storage/sql/pg-direct.ts' || url === 'src/storage/sql/pg-faults.ts'],
  ['Redis client', (_name, url) => url.startsWith('~ioredis') || url.startsWith('~@ioredis')],
  ['logging', (_name, url) => url.startsWith('~pino') || url === 'src/http/log.ts' || url === 'src/http/redact.ts'],
  ['audit', (_name, url) => url.startsWith('src/features/audit/')],
  ['form parse', (_name, url) => url === 'src/features/oauth/params.ts' || url === 'node:querystring' || url === 'node:internal/querystring'],
  ['client auth', (_name, url) => url.startsWith('src/features/clients/')],
  ['metrics', (_name, url) => url === 'src/http/metrics.ts' || url.startsWith('~prom-client')],
  ['refresh logic (tokens/, token route)', (_name, url) => url.startsWith('src/features/tokens/') || url.startsWith('src/features/oauth/token/')],
  ['other src/', (_name, url) => url.startsWith('src/')],
  ['HTTP (Fastify, node:http, sockets)', (name, url) => url.startsWith('~fastify') || url.startsWith('~@fastify') || url.startsWith('~find-my-way') || url.startsWith('~avvio') || url.startsWith('~light-my-request') || /^node:(_http|net|internal\/(stream|http|streams))/.test(url) || name === 'writev' || name === 'writeUtf8String' || name === 'writeBuffer'],
];
function bucketOf(nodeId: number): string {
  for (const node of stack(nodeId)) {
    const url = short(node.callFrame.url);
    const rule = BUCKETS.find(([, matches]) => matches(node.callFrame.functionName, url));
    if (rule) return rule[0];
  }
  const leaf = byId.get(nodeId)!.callFrame.functionName;
  return leaf === '(program)' ? 'V8 / runtime (program)' : 'other (Node internals, microtasks)';
}
const buckets = tally((nodeId) => [bucketOf(nodeId)]);

const pct = (n: number, of = total): string => `${((100 * n) / of).toFixed(1).padStart(5)} %`;
const top = Number(values.top);
// The profiler samples wall time on the main thread: a socket write that wakes the peer on the
// server's core (PostgreSQL, the load) is charged with the time the server waits for the core.
// The second column leaves those samples out; /proc's system time above is the syscalls' real CPU.
const writes = [...hits].filter(([nodeId]) => byId.get(nodeId)!.callFrame.functionName === 'writev').reduce((sum, [, count]) => sum + count, 0);
const withoutWrites = new Map(tally((nodeId) => (byId.get(nodeId)!.callFrame.functionName === 'writev' ? [] : [bucketOf(nodeId)])));
console.log(`\nprofile: ${file}\n${total} samples in the measured window (idle left out), ${pct(writes)} of them in writev\n\nbuckets (first match from the leaf up; all samples | without writev):`);
for (const [key, count] of buckets) console.log(`${pct(count)} | ${pct(withoutWrites.get(key) ?? 0, total - writes)}  ${key}`);
console.log(`\nself time, top ${top}:`);
for (const [key, count] of self.slice(0, top)) console.log(`${pct(count)}  ${key}`);
console.log(`\ninclusive time by function (src/ and packages), top ${top}:`);
for (const [key, count] of inclusiveFunctions.slice(0, top)) console.log(`${pct(count)}  ${key}`);
console.log('\ninclusive time by file / package, top 25:');
for (const [key, count] of inclusiveFiles.slice(0, 25)) console.log(`${pct(count)}  ${key}`);
