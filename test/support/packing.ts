/**
 * What the packing tests share: npm run as a user runs it (none of the variables an enclosing
 * `npm test` sets), and exact Node.js binaries for the lines a package claims in `engines`,
 * fetched once from the npm registry (`node-<platform>-<arch>@<version>`, the binary packages of
 * the `node` package) into node_modules/.cache/gatehouse-node/<version>/node.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT: string = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** The environment for npm and what it starts: ours without `npm_*` (except registry and cache), `path` first on PATH. */
export function npmEnv(options: { pathFirst?: string; env?: Record<string, string> } = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('gatehouse_')) continue;
    if (!lower.startsWith('npm_') || ['npm_config_registry', 'npm_config_cache'].includes(lower)) env[name] = value;
  }
  if (options.pathFirst !== undefined) env.PATH = `${options.pathFirst}:${process.env.PATH ?? ''}`;
  return { ...env, ...options.env };
}

/** Runs npm (or npx) with `args` in `cwd`; rejects with npm's output when it fails. */
export async function npm(command: 'npm' | 'npx', args: readonly string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, [...args], { cwd: options.cwd, env: options.env ?? npmEnv(), timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} (in ${options.cwd}) failed: ${String(error)}\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** `npm pack` of the package in `directory` into `destination`; returns the tarball's path. */
export async function pack(directory: string, destination: string): Promise<string> {
  const { stdout } = await npm('npm', ['pack', '--loglevel=error', '--pack-destination', destination], { cwd: directory, timeoutMs: 600_000 });
  const name = stdout.trim().split('\n').at(-1)!;
  assertFile(join(destination, name));
  return join(destination, name);
}

function assertFile(path: string): void {
  if (!existsSync(path)) throw new Error(`expected ${path} to exist`);
}

/** Whether an exact Node.js binary for this machine can be fetched (the registry has linux and darwin builds). */
export const CAN_FETCH_NODE: boolean = ['linux', 'darwin'].includes(process.platform) && ['x64', 'arm64'].includes(process.arch);

/**
 * The path of Node.js `version` (e.g. '22.16.0'), fetched once from the npm registry with
 * `npm pack node-<platform>-<arch>@<version>`, then cached. Safe against a concurrent fetch
 * (each fetch extracts into its own directory, then renames).
 */
export async function nodeBinary(version: string): Promise<string> {
  const cache = join(ROOT, 'node_modules', '.cache', 'gatehouse-node');
  const binary = join(cache, version, 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(cache, { recursive: true });
  const scratch = mkdtempSync(join(cache, `.fetch-${version}-`));
  try {
    const spec = `node-${process.platform}-${process.arch}@${version}`;
    await npm('npm', ['pack', '--loglevel=error', spec, '--pack-destination', scratch], { cwd: scratch, timeoutMs: 600_000 });
    const tarball = readdirSync(scratch).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${spec} wrote no tarball`);
    await run('tar', ['-xzf', join(scratch, tarball), '-C', scratch, 'package/bin/node'], { timeout: 120_000 });
    const extracted = join(scratch, 'package', 'bin', 'node');
    chmodSync(extracted, 0o755);
    const { stdout } = await run(extracted, ['--version'], { timeout: 30_000 });
    if (stdout.trim() !== `v${version}`) throw new Error(`${spec} is ${stdout.trim()}`);
    mkdirSync(dirname(binary), { recursive: true });
    if (!existsSync(binary)) renameSync(extracted, binary);
    return binary;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The version of the Node.js at `path` (e.g. '20.20.2'), or undefined when there is none. */
export async function nodeVersion(path: string): Promise<string | undefined> {
  try {
    return (await run(path, ['--version'], { timeout: 30_000 })).stdout.trim().replace(/^v/, '');
  } catch {
    return undefined;
  }
}
