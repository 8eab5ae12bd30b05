/**
 * Time from process start to the first 200 of `/readyz`, embedded backend (SQLite + in-process
 * store), server pinned to CPU 0 like the other benchmarks. Two cases, alternating:
 * - first start: a fresh data dir (master key generated, every migration, the first signing key);
 * - restart: the same data dir again (nothing to migrate or create).
 * Polls `/readyz` every 5 ms; the figure includes Node's own start-up and module loading.
 *
 *   node bench/startup.ts [--runs 5]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hasTaskset, ROOT } from './lib/gatehouse.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, port: { type: 'string', default: '4131' } } });
const port = Number(values.port);
const node = path.join(ROOT, 'node_modules', '.bin', 'node');

async function timeToReady(dataDir: string): Promise<number> {
  const argv = [node, '--disable-warning=ExperimentalWarning', path.join(ROOT, 'src', 'main.ts')];
  const [command, ...args] = hasTaskset() ? ['taskset', '-c', '0', ...argv] : argv;
  const started = performance.now();
  const child = spawn(command!, args, {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, NODE_ENV: 'production', GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: String(port), GATEHOUSE_HOST: '127.0.0.1', GATEHOUSE_PUBLIC_URL: `http://localhost:${port}`, GATEHOUSE_LOG_LEVEL: 'warn' },
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    for (;;) {
      if (exited) throw new Error('the server exited before it was ready');
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 60_000) throw new Error('not ready within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (exited ? resolve(undefined) : child.once('exit', resolve)));
  }
}

const first: number[] = [];
const restart: number[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-startup-'));
  try {
    first.push(await timeToReady(dataDir));
    restart.push(await timeToReady(dataDir));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const show = (values: number[]): string => `median ${median(values).toFixed(0)} ms (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)})`;
console.log(`start → /readyz 200, embedded, ${values.runs} runs each`);
console.log(`  first start (fresh data dir): ${show(first)}`);
console.log(`  restart (existing data dir):  ${show(restart)}`);
