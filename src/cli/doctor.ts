import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { redactedConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { MASTER_KEY_FILE } from '../crypto/master-key.ts';
import { openDatabase } from '../storage/sql/database.ts';
import { pendingMigrations } from '../storage/sql/migrate.ts';
import { openEphemeralStore } from '../storage/ephemeral/open.ts';
import { CliError, CONFIG_OPTION, loadCliConfig } from './command.ts';

const HELP = `Usage: gatehouse doctor [--config FILE] [--json]

Prints the effective configuration with every secret redacted, then checks the database
(reachable, migrations applied), Redis (when configured), the master key and the public URL.
Exit code 0 when every check passes, 1 otherwise.
  --json   machine-readable output
`;

interface CheckResult {
  name: string;
  ok: boolean;
  message: string;
}

export async function runDoctor(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...CONFIG_OPTION, json: { type: 'boolean' } }, strict: true }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${HELP}`, 2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = loadCliConfig(values.config);
  if (!config) return 2;
  const checks = await runChecks(config);
  const ok = checks.every((check) => check.ok);
  if (values.json) {
    // Unset keys as null: JSON.stringify would drop them, and a missing key reads as "not a setting".
    const shown = Object.fromEntries(Object.entries(redactedConfig(config)).map(([name, value]) => [name, value === undefined ? null : value]));
    process.stdout.write(`${JSON.stringify({ ok, config: shown, checks }, null, 2)}\n`);
  } else {
    process.stdout.write('Effective configuration (secrets redacted):\n');
    for (const [name, value] of Object.entries(redactedConfig(config))) {
      process.stdout.write(`  ${name.padEnd(20)} ${value === undefined ? '(unset)' : JSON.stringify(value)}\n`);
    }
    process.stdout.write('\nChecks:\n');
    for (const check of checks) process.stdout.write(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name.padEnd(12)} ${check.message}\n`);
  }
  return ok ? 0 : 1;
}

async function runChecks(config: Config): Promise<CheckResult[]> {
  const results: CheckResult[] = [];

  const sqlitePath = config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl.slice('sqlite:'.length) : undefined;
  if (sqlitePath !== undefined && sqlitePath !== ':memory:' && !existsSync(sqlitePath)) {
    // doctor only reads: it never creates the data directory or the database file.
    results.push({ name: 'database', ok: true, message: `sqlite file ${sqlitePath} does not exist yet; it is created and migrated at first start` });
  } else {
    await checkDatabase(config, results);
  }


  if (config.redisUrl === undefined) {
    results.push({ name: 'redis', ok: true, message: 'not configured: ephemeral state is in-process (single instance only)' });
  } else {
    const store = await openEphemeralStore({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix });
    try {
      await waitForPing(store.ping.bind(store), 3000);
      results.push({ name: 'redis', ok: true, message: 'reachable' });
    } catch (error) {
      results.push({ name: 'redis', ok: false, message: `unreachable: ${firstLine(error)}` });
    } finally {
      await store.close().catch(() => {});
    }
  }

  if (config.masterKey !== undefined) {
    results.push({ name: 'master key', ok: true, message: 'supplied by configuration' });
  } else {
    const path = join(config.dataDir, MASTER_KEY_FILE);
    results.push({
      name: 'master key',
      ok: true,
      message: existsSync(path) ? `development key file ${path}` : `will be generated at ${path} on first start (development only)`,
    });
  }

  const url = new URL(config.publicUrl);
  results.push(
    url.protocol === 'https:'
      ? { name: 'public URL', ok: true, message: config.publicUrl }
      : { name: 'public URL', ok: config.env !== 'production', message: `${config.publicUrl} is plain http — fine for local development, use https in production` },
  );
  return results;
}

async function checkDatabase(config: Config, results: CheckResult[]): Promise<void> {
  const database = openDatabase({ url: config.databaseUrl, poolSize: 1 });
  try {
    await database.ping(3000);
    const pending = await pendingMigrations(database);
    results.push(
      pending.length === 0
        ? { name: 'database', ok: true, message: `${database.dialect} reachable, schema up to date` }
        : { name: 'database', ok: config.autoMigrate, message: `${database.dialect} reachable, ${pending.length} migration(s) pending${config.autoMigrate ? ' (applied at start)' : ' — run: gatehouse migrate'}` },
    );
  } catch (error) {
    results.push({ name: 'database', ok: false, message: `unreachable: ${firstLine(error)}` });
  } finally {
    await database.close().catch(() => {});
  }
}

/** A freshly opened Redis client may still be connecting: retry the ping briefly. */
async function waitForPing(ping: () => Promise<void>, totalMs: number): Promise<void> {
  const deadline = Date.now() + totalMs;
  for (;;) {
    try {
      await ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'error';
}
