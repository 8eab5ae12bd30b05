/**
 * Prometheus' own checker, `promtool` (Debian package `prometheus`). Tests that need it skip on
 * a developer machine without it, and fail in CI, where it must be installed.
 */
import { spawnSync } from 'node:child_process';
import { inCI } from './backends.ts';

export interface PromtoolResult {
  status: number | null;
  output: string;
}

function available(): boolean {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0;
}

const present = available();

/** For `it(…, { skip: promtoolSkip() })`: a reason to skip, or false (always false in CI). */
export function promtoolSkip(): string | false {
  if (present || inCI) return false;
  return 'promtool is not installed (apt-get install prometheus)';
}

/** Runs `promtool …args` with `input` on stdin; stdout and stderr together. */
export function promtool(args: readonly string[], input = ''): PromtoolResult {
  const result = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw new Error(`promtool could not run (${result.error.message}); install it: apt-get install -y prometheus`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
