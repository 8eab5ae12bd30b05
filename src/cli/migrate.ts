import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { openDatabase } from '../storage/sql/database.ts';
import { migrateToLatest, pendingMigrations } from '../storage/sql/migrate.ts';
import { CliError, CONFIG_OPTION } from './command.ts';
import { reportStartupError } from '../startup-error.ts';

const HELP = `Usage: gatehouse migrate [--config FILE] [--status]

Applies every pending database migration to GATEHOUSE_DATABASE_URL (default: the embedded
SQLite file). Safe to run repeatedly and from several instances at once (migrations take a lock).
  --status   list pending migrations without applying them (exit 3 when some are pending)
`;

export async function runMigrate(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...CONFIG_OPTION, status: { type: 'boolean' } }, strict: true }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${HELP}`, 2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let config;
  try {
    config = loadConfig({ env: process.env, configFile: values.config });
  } catch (error) {
    reportStartupError(error);
    return 2;
  }
  const database = openDatabase({ url: config.databaseUrl, poolSize: 2 });
  try {
    if (values.status) {
      const pending = await pendingMigrations(database);
      process.stdout.write(pending.length === 0 ? 'up to date\n' : `pending: ${pending.join(', ')}\n`);
      return pending.length === 0 ? 0 : 3;
    }
    const { applied } = await migrateToLatest(database);
    process.stdout.write(applied.length === 0 ? 'up to date, nothing to apply\n' : `applied: ${applied.join(', ')}\n`);
    return 0;
  } catch (error) {
    throw new CliError((error as Error).message.split('\n')[0] ?? 'migration failed', 1);
  } finally {
    await database.close();
  }
}
