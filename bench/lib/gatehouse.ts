/**
 * Starts Gatehouse for a benchmark exactly as the peer harness does — through
 * `bench/peers/start-gatehouse.sh` (fresh data dir, the bench user and clients, then `exec` of
 * the server, so the child's pid is the server's) — optionally pinned with `taskset`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface StartedProcess {
  pid: number;
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function hasTaskset(): boolean {
  return spawnSync('taskset', ['-V']).status === 0;
}

/** Spawns `argv` (pinned to `cpus` when given) and waits until `readyPath` answers 200. */
export async function startProcess(options: { argv: string[]; cwd?: string; env: Record<string, string>; port: number; readyPath: string; cpus?: string; logFile: string; timeoutMs?: number }): Promise<StartedProcess> {
  const base = `http://127.0.0.1:${options.port}`;
  const log = openSync(options.logFile, 'a');
  const [command, ...args] = options.cpus && hasTaskset() ? ['taskset', '-c', options.cpus, ...options.argv] : options.argv;
  const child = spawn(command!, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', log, log] });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`${options.argv.join(' ')} exited before it was ready (log: ${options.logFile})`);
    try {
      const response = await fetch(base + options.readyPath, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${base}${options.readyPath} not ready in time (log: ${options.logFile})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    pid: child.pid!,
    base,
    child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** Gatehouse through start-gatehouse.sh; `dataRoot` receives `gatehouse-<port>/` and the log. */
export function startGatehouse(options: { port: number; dataRoot: string; backend?: 'embedded' | 'scaled'; cpus?: string; env?: Record<string, string> }): Promise<StartedProcess> {
  return startProcess({
    argv: ['bash', path.join(ROOT, 'bench', 'peers', 'start-gatehouse.sh')],
    env: { PORT: String(options.port), HOST: '127.0.0.1', PEERS_DIR: options.dataRoot, NODE_ENV: 'production', GH_BENCH_BACKEND: options.backend ?? 'embedded', ...options.env },
    port: options.port,
    readyPath: '/readyz',
    ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
    logFile: path.join(options.dataRoot, `gatehouse-${options.port}.log`),
  });
}
