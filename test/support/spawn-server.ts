/**
 * Runs the real server (src/main.ts) and the `gatehouse` CLI (src/cli/main.ts) as child
 * processes, for black-box end-to-end tests.
 *
 * Children get a clean environment: only PATH/HOME/locale-type variables are inherited, never
 * the developer's `GATEHOUSE_*` settings, `CI` or the test runner's own variables; tests pass
 * every setting explicitly. Every child still running when the test process exits is killed,
 * so a failed assertion cannot leave a server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Absolute paths of the entry points, derived from this file (never from the cwd). */
export const SERVER_ENTRY: string = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
export const CLI_ENTRY: string = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** Inherited from the parent so that node, redis-server and temp dirs work; nothing else. */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT'] as const;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export type ChildEnv = Readonly<Record<string, string | undefined>>;

/** The environment for a child: the few inherited variables plus `env` (undefined = unset). */
export function childEnv(env: ChildEnv = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) out[name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

export interface SpawnServerOptions {
  /** Settings for the server, e.g. `{ GATEHOUSE_DATABASE_URL: … }`. `GATEHOUSE_PORT` defaults to 0. */
  env?: ChildEnv;
  /** Working directory; the default `./data` is created here. Use a fresh temp dir. */
  cwd: string;
  /** Extra arguments after the entry point, e.g. `['--config', file]`. */
  args?: readonly string[];
  /** The script to run (default `SERVER_ENTRY`); e.g. `[CLI_ENTRY]` with `args: ['start']`. */
  entry?: string;
  /**
   * How long to wait for the "Gatehouse is ready at" log line (default and minimum 90 s). A ceiling for a
   * broken start, not a speed expectation: on a loaded CI machine a start can take many seconds
   * (issue 14 item 10), so tests never pass less than the default.
   */
  readyTimeoutMs?: number;
}

export interface SpawnedServer {
  /** The URL the server printed, e.g. `http://localhost:41234` (its public URL; with port 0, the port it bound). */
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /**
   * Sends `signal` (default SIGTERM) and resolves with the exit code once the process ended
   * (null when it died of a signal). After `timeoutMs` (default 60 s) it is SIGKILLed.
   * Safe to call more than once or after the process exited.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** Resolves when the process has exited, with its code and signal. */
  readonly exited: Promise<ExitStatus>;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServerStartError extends Error {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitStatus: ExitStatus | undefined;
  constructor(message: string, details: { stdout: string; stderr: string; exitStatus?: ExitStatus | undefined }) {
    super(`${message}\n--- stdout ---\n${details.stdout}\n--- stderr ---\n${details.stderr}`);
    this.name = 'ServerStartError';
    this.stdout = details.stdout;
    this.stderr = details.stderr;
    this.exitStatus = details.exitStatus;
  }
}

/**
 * Starts `src/main.ts` and resolves once it logged `Gatehouse is ready at <url>` (so the log
 * level must be info or lower). Rejects with a `ServerStartError` carrying both outputs when
 * the process exits first or does not listen in time; the child is killed in that case.
 */
/** The readiness ceiling of every spawned server (see `readyTimeoutMs`). */
export const READY_TIMEOUT_MS = 90_000;

export async function spawnServer(options: SpawnServerOptions): Promise<SpawnedServer> {
  const child = startChild([options.entry ?? SERVER_ENTRY, ...(options.args ?? [])], {
    env: { GATEHOUSE_PORT: '0', ...options.env },
    cwd: options.cwd,
  });
  const readyTimeoutMs = Math.max(options.readyTimeoutMs ?? 0, READY_TIMEOUT_MS);

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not log "Gatehouse is ready at <url>" within ${readyTimeoutMs / 1000} s (still running: starved of CPU, or stuck before listening — see its output)`)),
        readyTimeoutMs,
      );
      const onData = (): void => {
        const found = listeningUrl(child.stdout());
        if (found !== undefined) {
          clearTimeout(timer);
          child.process.stdout?.off('data', onData);
          resolve(found);
        }
      };
      child.process.stdout?.on('data', onData);
      void child.exited.then((status) => {
        clearTimeout(timer);
        reject(new Error(`server exited before listening (code ${status.code}, signal ${status.signal})`));
      });
    });
  } catch (error) {
    await child.stop('SIGKILL', 5000);
    const exitStatus = await child.exited;
    throw new ServerStartError((error as Error).message, { stdout: child.stdout(), stderr: child.stderr(), exitStatus });
  }
  return { ...child, url, port: Number(new URL(url).port) };
}

/** Finds the `Gatehouse is ready at …` line among JSON log lines (src/main.ts `announcedUrl`). */
function listeningUrl(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown };
      const match = typeof entry.msg === 'string' ? /^Gatehouse is ready at (https?:\/\/\S+)$/.exec(entry.msg) : null;
      if (match) return match[1];
    } catch {
      // A partial line: wait for more output.
    }
  }
  return undefined;
}

export interface RunOptions {
  env?: ChildEnv;
  cwd: string;
  /** SIGKILL after this long (default 30 s); the result then has `timedOut: true`. */
  timeoutMs?: number;
  /** Written to the child's standard input, which is then closed. */
  input?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `gatehouse <args>` (src/cli/main.ts) to completion. */
export function runCli(args: readonly string[], options: RunOptions): Promise<RunResult> {
  return runNode([CLI_ENTRY, ...args], options);
}

/**
 * Runs `src/main.ts` to completion: for start-ups that must fail. A server that does start
 * is killed after `timeoutMs` (default 60 s: a ceiling, not a speed expectation) and reported with `timedOut: true`.
 */
export function runServerToExit(options: RunOptions & { args?: readonly string[] }): Promise<RunResult> {
  return runNode([SERVER_ENTRY, ...(options.args ?? [])], {
    ...options,
    env: { GATEHOUSE_PORT: '0', ...options.env },
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}

async function runNode(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const child = startChild(args, options);
  const timedOut = !(await within(child.exited, options.timeoutMs ?? 90_000));
  if (timedOut) await child.stop('SIGKILL', 5000);
  const status = await child.exited;
  return { ...status, stdout: child.stdout(), stderr: child.stderr(), timedOut };
}

interface StartedChild {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<ExitStatus>;
}

function startChild(args: readonly string[], options: { env?: ChildEnv | undefined; cwd: string; input?: string | undefined }): StartedChild {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  live.add(child);
  // A child nobody waits for must not keep the test process alive (a test that failed before
  // stopping its server would otherwise hang); the 'exit' hook above then kills it. Whoever
  // awaits the child holds a timer of its own (`within`), which keeps the process running.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close' (not 'exit'): all output has been read by then.
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });

  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: async (signal = 'SIGTERM', timeoutMs = 60_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        if (!(await within(exited, timeoutMs))) child.kill('SIGKILL');
      }
      return (await exited).code;
    },
  };
}

/** Resolves true when `promise` settles within `timeoutMs`, false otherwise; the timer keeps the process alive meanwhile. */
async function within(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `url` until it answers `status` (or the deadline passes) and returns the last response
 * with its body parsed as JSON when possible. Each request is bounded by 2 s.
 */
export async function waitForStatus(
  url: string,
  status: number,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<{ status: number; body: unknown; elapsedMs: number }> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 10_000);
  let last: { status: number; body: unknown } = { status: 0, body: undefined };
  for (;;) {
    try {
      last = await getJSON(url);
      if (last.status === status) return { ...last, elapsedMs: Date.now() - started };
    } catch (error) {
      last = { status: 0, body: (error as Error).message };
    }
    if (Date.now() >= deadline) {
      throw new Error(`${url} did not answer ${status} within ${deadline - started} ms; last: ${last.status} ${JSON.stringify(last.body)}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** GET with a 2 s limit; the body is parsed as JSON when it is JSON, else returned as text. */
export async function getJSON(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}
