import { resolveMasterKey } from '../crypto/master-key.ts';
import { ApiError } from '../errors/catalog.ts';
import { roleView } from '../features/admin/roles-routes.ts';
import { buildRoleCatalog } from '../features/admin/wiring.ts';
import { createAuditLog } from '../features/audit/audit-log.ts';
import { AUDIT_MAC_PURPOSE } from '../features/audit/wiring.ts';
import type { RoleActor, RoleCatalog, RoleView } from '../features/roles/catalog.ts';
import { openStorage } from '../storage/open.ts';
import { CliError, loadCliConfig, parseSubcommand } from './command.ts';

const HELP = `Usage: gatehouse roles <list|create|update|delete> [options]

The role catalog (docs/admin.md#roles), through the admin API's catalog (same rules and audit
events, actor "cli"). The built-in role admin is listed but cannot be changed.

  roles list
      One line per role: NAME, PERMISSIONS, DESCRIPTION.
  roles create NAME [--description TEXT] [--permission PERMISSION ...]
  roles update NAME [--description TEXT | --no-description] [--permission PERMISSION ... | --no-permissions]
      --permission replaces the list; holders get the change at their next refresh or session check.
  roles delete NAME
      Refused while users hold the role (gatehouse users set-roles first).

Options: --json (machine-readable output), --config FILE, --help
`;

/** Whoever holds the server's configuration holds every permission (as `gatehouse users`). */
const CLI_ACTOR: RoleActor = { id: 'cli', permissions: 'all' };

export async function runRoles(argv: string[]): Promise<number> {
  const parsed = parseSubcommand(argv, HELP, {
    json: { type: 'boolean' }, description: { type: 'string' }, 'no-description': { type: 'boolean' },
    permission: { type: 'string', multiple: true }, 'no-permissions': { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const { sub, values, positionals } = parsed;
  if (!['list', 'create', 'update', 'delete'].includes(sub)) throw new CliError(`unknown subcommand "${sub}"\n\n${HELP}`, 2);
  const name = positionals[0];
  if (sub !== 'list' && (name === undefined || positionals.length !== 1)) throw new CliError(`roles ${sub} needs one NAME`, 2);
  if (sub === 'list' && positionals.length > 0) throw new CliError('roles list takes no arguments', 2);
  const config = loadCliConfig(values.config);
  if (!config) return 2;
  const storage = await openStorage(config);
  const print = (role: RoleView) => (values.json ? JSON.stringify(roleView(role)) : line(role));
  try {
    const db = storage.database.db;
    const audit = createAuditLog(db, { macKey: resolveMasterKey(config).derive(AUDIT_MAC_PURPOSE) });
    const catalog: RoleCatalog = buildRoleCatalog({ db, audit, now: Date.now });
    if (sub === 'list') {
      const roles = await catalog.list();
      process.stdout.write(values.json ? `${JSON.stringify({ roles: roles.map(roleView) })}\n` : `NAME\tPERMISSIONS\tDESCRIPTION\n${roles.map(line).join('\n')}\n`);
    } else if (sub === 'create') {
      process.stdout.write(`${print(await catalog.create({ name: name!, description: values.description ?? null, permissions: values.permission ?? [] }, CLI_ACTOR))}\n`);
    } else if (sub === 'update') {
      const description = values['no-description'] ? null : values.description;
      const permissions = values['no-permissions'] ? [] : values.permission;
      if (description === undefined && permissions === undefined) throw new CliError('roles update needs --description, --no-description, --permission or --no-permissions', 2);
      process.stdout.write(`${print(await catalog.update(name!, { ...(description === undefined ? {} : { description }), ...(permissions === undefined ? {} : { permissions }) }, CLI_ACTOR))}\n`);
    } else {
      await catalog.delete(name!, CLI_ACTOR);
      process.stdout.write(values.json ? `${JSON.stringify({ deleted: name })}\n` : `deleted ${name}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) throw new CliError(error.description, error.status === 400 ? 2 : 1);
    throw error;
  } finally {
    await storage.close();
  }
}

function line(role: RoleView): string {
  return `${role.name}${role.builtIn ? ' (built in)' : ''}\t${role.permissions.join(' ') || '-'}\t${role.description ?? ''}`;
}
