import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
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

/**
 * `gatehouse <command> <sub> [options]`: the help and usage handling every command with
 * subcommands shares. Returns the exit code when help was asked for (or no subcommand given),
 * else the subcommand with its parsed flags (`--config` and `--help` always included).
 */
export function parseSubcommand<const O extends ParseArgsOptionsConfig>(argv: readonly string[], help: string, options: O) {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(help);
    return sub === undefined ? 2 : 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { ...CONFIG_OPTION, ...options } });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${help}`, 2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(help);
    return 0;
  }
  return { sub, values: parsed.values, positionals: parsed.positionals };
}
