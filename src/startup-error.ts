import { ConfigError } from './config/types.ts';

/** Prints a start-up problem as one line (no stack trace) and sets a non-zero exit code. */
export function reportStartupError(error: unknown): void {
  if (error instanceof ConfigError) {
    process.stderr.write(`gatehouse: configuration error: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gatehouse: cannot start: ${message.split('\n')[0]}\n`);
  process.exitCode = 1;
}
