
import { runStart } from './start.ts';
import { runMigrate } from './migrate.ts';
import { runDoctor } from './doctor.ts';
import { runUsers } from './users.ts';
import { runKeys } from './keys.ts';
import { runClients } from './clients.ts';
import { runRoles } from './roles.ts';
import { runAudit } from './audit.ts';
import { runWebhooks } from './webhooks.ts';
import { CliError, type Command } from './command.ts';

/**
 * `gatehouse <command>`: every command parses its own flags with node:util parseArgs and has
 * `--help`. Exit codes: 0 ok, 1 failure, 2 usage or configuration error.
 */
const commands: Record<string, Command> = {
  start: runStart,
  migrate: runMigrate,
  doctor: runDoctor,
  users: runUsers,
  keys: runKeys,
  clients: runClients,
  roles: runRoles,
  audit: runAudit,
  webhooks: runWebhooks,
};

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start      run the server (embedded SQLite by default)
  migrate    apply pending database migrations
  doctor     print the effective configuration (secrets redacted) and check every dependency
  users      create a user (users create --email … [--admin]) or import hashed users (users import FILE)
  keys       list, rotate or retire signing keys (keys list|rotate|retire)
  clients    manage OAuth clients (clients create|list|show|rotate-secret|delete)
  roles      manage the role catalog (roles list|create|update|delete)
  audit      tail/export (as the admin API), verify, seal, export checkpoints of or prune the tamper-evident audit log
  webhooks   list endpoints, their deliveries, and replay dead ones (webhooks list|deliveries|replay)

Global options:
  --config FILE   JSON config file (or GATEHOUSE_CONFIG)
  --help          help for a command: gatehouse <command> --help
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`gatehouse: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`gatehouse ${name}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}


if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // `start` keeps running until a signal; other commands end here.
  if (code !== 0 || process.argv[2] !== 'start') process.exitCode = code;
}
