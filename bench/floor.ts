/**
 * The HTTP floor: requests per server CPU-second of the cheapest Gatehouse route (`GET /healthz`,
 * every global hook included) against a bare Fastify app and a bare `node:http` handler answering
 * the same JSON, same pinning and load generator. What Fastify, and then Gatehouse's global hooks
 * and headers, cost before any feature runs.
 *
 *   node bench/floor.ts [--duration 5] [--reps 2]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ROOT, hasTaskset, startGatehouse, startProcess } from './lib/gatehouse.ts';
import { runLoad } from './lib/load.ts';
import { cpuSeconds } from './lib/proc.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, reps: { type: 'string', default: '2' } } });
const pin = hasTaskset();
if (pin) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-floor-'));
const bareSource = "require('node:http').createServer((q, s) => { s.setHeader('content-type', 'application/json; charset=utf-8'); s.end('{\"status\":\"ok\"}'); }).listen(Number(process.env.PORT), '127.0.0.1')";
const fastifySource = "const app = require('fastify')({ logger: false }); app.get('/healthz', async () => ({ status: 'ok' })); app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })";
const gatehouse = await startGatehouse({ port: 4135, dataRoot, ...(pin ? { cpus: '0' } : {}) });
const bare = await startProcess({ argv: [path.join(ROOT, 'node_modules', '.bin', 'node'), '-e', bareSource], env: { PORT: '4136' }, port: 4136, readyPath: '/', ...(pin ? { cpus: '0' } : {}), logFile: path.join(dataRoot, 'bare.log') });
const fastify = await startProcess({ argv: [path.join(ROOT, 'node_modules', '.bin', 'node'), '-e', fastifySource], cwd: ROOT, env: { PORT: '4137' }, port: 4137, readyPath: '/healthz', ...(pin ? { cpus: '0' } : {}), logFile: path.join(dataRoot, 'fastify.log') });
try {
  // Warm-up (JIT, connection set-up), not measured.
  for (const server of [gatehouse, fastify, bare]) await runLoad({ base: server.base, spec: { method: 'GET', path: '/healthz' }, connections: 32, durationMs: 2000 });
  for (let rep = 1; rep <= Number(values.reps); rep++) {
    for (const [name, server] of [['gatehouse GET /healthz', gatehouse], ['bare fastify', fastify], ['bare node:http', bare]] as const) {
      const before = cpuSeconds(server.pid);
      const result = await runLoad({ base: server.base, spec: { method: 'GET', path: '/healthz', expectBody: 'ok' }, connections: 32, durationMs: 1000 * Number(values.duration) });
      const cpu = cpuSeconds(server.pid) - before;
      console.log(`rep ${rep} ${name.padEnd(24)} ${Math.round(result.requests / result.seconds)} req/s, ${Math.round(result.requests / cpu)} req per server CPU-s, wrong ${result.failures + result.errors}`);
    }
  }
} finally {
  await bare.stop();
  await fastify.stop();
  await gatehouse.stop();
}
