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
