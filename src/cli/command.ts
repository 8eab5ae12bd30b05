import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { reportStartupError } from '../startup-error.ts';

/** A CLI command: parses its arguments, does its work, returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export const CONFIG_OPTION = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** The configuration for a command, or undefined after printing the one-line problem (exit 2). */
export function loadCliConfig(configFile: string | undefined): Config | undefined {
  try {
    return loadConfig({ env: process.env, configFile });
  } catch (error) {
    reportStartupError(error);
    return undefined;
  }
}
