import { parseArgs } from 'node:util';
import { runServer } from '../main.ts';
import { CliError, CONFIG_OPTION } from './command.ts';

const HELP = `Usage: gatehouse start [--config FILE]

Runs the server. Without configuration it uses the embedded default: SQLite and a generated
master key under ./data (GATEHOUSE_DATA_DIR). Stop it with SIGTERM or Ctrl-C.
Settings: docs/configuration.md.
`;

export async function runStart(argv: string[]): Promise<number> {
  const { values } = parse(argv);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  await runServer({ configFile: values.config });
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: CONFIG_OPTION, strict: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${HELP}`, 2);
  }
}
