import { ConfigProblems } from './config/load.ts';
import { ConfigError } from './config/types.ts';

/**
 * Prints a start-up problem and sets a non-zero exit code: a configuration error as one line
 * per problem (every problem the loader found, so one attempt shows them all), anything else as
 * one line. Never a stack trace.
 */
export function reportStartupError(error: unknown): void {
  if (error instanceof ConfigError) {
    const problems = error instanceof ConfigProblems ? error.problems : [error];
    for (const problem of problems) process.stderr.write(`gatehouse: configuration error: ${problem.message.split('\n')[0]}\n`);
    process.exitCode = 2;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gatehouse: cannot start: ${message.split('\n')[0]}\n`);
  process.exitCode = 1;
}
