import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import { newId, randomToken } from '../crypto/random.ts';
import { createPasswordHasher, isRecognisedHash } from '../crypto/passwords/hasher.ts';
import { accountContext, passwordProblem } from '../features/accounts/password-policy.ts';
import { normalizeEmail } from '../features/accounts/email-address.ts';
import { createSqlUserStore, type User } from '../features/accounts/store.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { createAuditLog } from '../features/audit/audit-log.ts';
import { AUDIT_MAC_PURPOSE } from '../features/audit/wiring.ts';
import { createSmtpMailer } from '../features/email/mailer.ts';
import { resetAllFactors } from '../features/mfa/reset.ts';
import { createSqlMfaStore } from '../features/mfa/store.ts';
import { openStorage } from '../storage/open.ts';
import { CliError, loadCliConfig, parseSubcommand } from './command.ts';
import { ADMIN_SUBCOMMANDS, runUserAdmin, type AdminSubcommand } from './users-admin.ts';

const HELP = `Usage: gatehouse users <create|import|reset-mfa|list|show|update|set-roles|disable|enable|delete|sign-out> [options]

  users create --email EMAIL [--name NAME] [--admin] [--role ROLE ...] [--password-stdin]
      Creates a verified user. The password is read from standard input with --password-stdin
      (one line); otherwise a random one is generated and printed once.
  users import FILE
      Imports users from JSON lines: {"email", "hash", "verified", "roles", "name"}.
      "hash" may be argon2id/argon2i, bcrypt ($2a/$2b/$2y), scrypt ($scrypt$ln=…) or
      PBKDF2-SHA256 ($pbkdf2-sha256$… or pbkdf2_sha256$…); it is upgraded to argon2id at the
      user's next sign-in. Every line is checked first; nothing is imported if any line is bad,
      and bad lines are reported by number.
  users reset-mfa EMAIL
      Removes every second factor (authenticator apps, passkeys) and recovery code of the user,
      for one who lost them all. Audited (mfa-removed, reset, actor "cli") and mailed to the user
      when SMTP is configured. Confirm who is asking before you run it.

  The rest go through the admin API's user service (same rules, revocation and audit events,
  with actor "cli"; docs/admin.md). USER is a user id or an email address.
  users list [--search TEXT] [--status active|disabled] [--role ROLE] [--verified true|false]
             [--has-mfa true|false] [--sort created_at|-created_at|email|-email] [--limit N] [--cursor CURSOR]
      One line per user (ID, EMAIL, STATUS, VERIFIED, ROLES, NAME), then the total.
  users show USER
      Profile, roles, number of sessions, authorised applications, linked identities.
  users update USER [--name NAME | --no-name] [--email ADDRESS] [--email-verified true|false]
      A new address starts unverified: a verification link goes to it, a notice to the old one
      (mail needs SMTP); sessions are kept. An address another user has is refused (exit 1).
  users set-roles USER [--role ROLE ...]
      Replaces the roles (none given: no roles). Sessions pick the change up at their next check.
  users disable USER
      Sign-in refused; every session ended and every token revoked.
  users enable USER
  users delete USER
      Erases the user (personal data, credentials, sessions, grants); tokens revoked.
  users sign-out USER
      Ends every session and revokes every token of the user.
  disable, delete and sign-out also queue back-channel logout for the relying parties of the
  ended sessions; a running server delivers it.

Options: --json (machine-readable output for the commands above), --config FILE, --help
`;

export async function runUsers(argv: string[]): Promise<number> {
  const parsed = parseSubcommand(argv, HELP, {
    email: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' }, role: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' },
    // users list|show|update|… (users-admin.ts)
    json: { type: 'boolean' }, search: { type: 'string' }, status: { type: 'string' }, verified: { type: 'string' }, sort: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' },
    'no-name': { type: 'boolean' }, 'email-verified': { type: 'string' }, 'has-mfa': { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { sub, values, positionals } = parsed;
  const config = loadCliConfig(values.config);
  if (!config) return 2;
  if (sub === 'create') {
    if (!values.email) throw new CliError('--email is required', 2);
    const roles = [...new Set([...(values.role ?? []), ...(values.admin ? ['admin'] : [])])];
    return createUser(config, { email: values.email, name: values.name, roles, passwordFromStdin: values['password-stdin'] === true });
  }
  if (sub === 'import') {
    const file = positionals[0];
    if (!file) throw new CliError('users import needs a FILE', 2);
    return importUsers(config, file);
  }
  if (sub === 'reset-mfa') {
    const email = positionals[0] ?? values.email;
    if (!email) throw new CliError('users reset-mfa needs an EMAIL', 2);
    return resetMfa(config, email);
  }
  if ((ADMIN_SUBCOMMANDS as readonly string[]).includes(sub)) {
    return runUserAdmin(config, sub as AdminSubcommand, positionals, {
      json: values.json === true, search: values.search, status: values.status, role: values.role, verified: values.verified, sort: values.sort, limit: values.limit, cursor: values.cursor,
      name: values.name, noName: values['no-name'] === true, emailVerified: values['email-verified'], email: values.email, hasMfa: values['has-mfa'],
    });
  }
  throw new CliError(`unknown subcommand "${sub}"\n\n${HELP}`, 2);
}

async function resetMfa(config: Config, input: string): Promise<number> {
  const email = normalizeEmail(input);
  if (!email) throw new CliError(`"${input}" is not a valid email address`, 2);
  const masterKey = resolveMasterKey(config);
  const storage = await openStorage(config);
  try {
    const db = storage.database.db;
    const user = await createSqlUserStore(db).findByEmail(email);
    if (!user) throw new CliError(`no user with email ${email}`, 1);
    const audit = createAuditLog(db, { macKey: masterKey.derive(AUDIT_MAC_PURPOSE) });
    const mailer = config.smtpUrl ? createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom }) : undefined;
    const { removed, mail } = await resetAllFactors({ store: createSqlMfaStore(db), audit, mailer }, user, 'cli');
    process.stdout.write(`reset two-step verification of ${user.id} <${email}>: ${removed} factor${removed === 1 ? '' : 's'} and every recovery code removed\n`);
    try {
      await mail;
      if (!mailer) process.stdout.write('no SMTP configured: tell the user yourself\n');
    } catch {
      process.stderr.write('the notification mail could not be sent: tell the user yourself\n');
    } finally {
      await mailer?.close();
    }
    return 0;
  } finally {
    await storage.close();
  }
}

async function createUser(config: Config, input: { email: string; name: string | undefined; roles: string[]; passwordFromStdin: boolean }): Promise<number> {
  const email = normalizeEmail(input.email);
  if (!email) throw new CliError(`"${input.email}" is not a valid email address`, 2);
  for (const role of input.roles) if (!/^[a-z][a-z0-9:_-]{0,63}$/.test(role)) throw new CliError(`invalid role "${role}" (lower-case letters, digits, : _ -)`, 2);
  const generated = !input.passwordFromStdin;
  const password = generated ? randomToken(18) : await readLine();
  const problem = passwordProblem(password, config, accountContext({ email, name: input.name ?? null }));
  if (problem !== undefined) throw new CliError(problem, 2);
  const hasher = createPasswordHasher({ memoryKiB: config.argon2MemoryKiB, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism });
  const storage = await openStorage(config);
  try {
    const at = Date.now();
    const user: User = { id: newId(at), email, name: input.name ?? null, emailVerifiedAt: at, passwordHash: await hasher.hash(password), roles: input.roles, createdAt: at, updatedAt: at, disabledAt: null };
    const created = await createSqlUserStore(storage.database.db).create(user);
    if (!created) throw new CliError(`a user with email ${email} already exists`, 1);
    process.stdout.write(`created user ${created.id} <${email}>${input.roles.length ? ` roles: ${input.roles.join(', ')}` : ''}\n`);
    if (generated) process.stdout.write(`password (shown once): ${password}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}

interface ImportLine {
  email: string;
  hash: string;
  verified: boolean;
  roles: string[];
  name: string | null;
}

export function parseImportLine(text: string): ImportLine | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !['email', 'hash', 'verified', 'roles', 'name'].includes(key));
  if (unknown.length > 0) return `unknown field(s): ${unknown.join(', ')}`;
  const email = typeof record.email === 'string' ? normalizeEmail(record.email) : undefined;
  if (!email) return 'missing or invalid "email"';
  if (typeof record.hash !== 'string' || !isRecognisedHash(record.hash)) return '"hash" is missing or not a supported format (argon2, bcrypt, scrypt, pbkdf2-sha256)';
  if (record.verified !== undefined && typeof record.verified !== 'boolean') return '"verified" must be true or false';
  const roles = record.roles ?? [];
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string' && /^[a-z][a-z0-9:_-]{0,63}$/.test(role))) return '"roles" must be a list of role names';
  if (record.name !== undefined && record.name !== null && typeof record.name !== 'string') return '"name" must be a string';
  return { email, hash: record.hash, verified: record.verified === true, roles: roles as string[], name: (record.name as string | null | undefined) ?? null };
}

async function importUsers(config: Config, file: string): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 1);
  }
  const good: ImportLine[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const result = parseImportLine(line);
    if (typeof result === 'string') problems.push(`line ${index + 1}: ${result}`);
    else if (seen.has(result.email)) problems.push(`line ${index + 1}: duplicate email ${result.email}`);
    else {
      seen.add(result.email);
      good.push(result);
    }
  });
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\nnothing imported: fix the lines above and run again\n`);
    return 1;
  }
  const storage = await openStorage(config);
  try {
    // One transaction: either every user is imported or none (no half-imported file).
    const skipped = await storage.database.db.transaction().execute(async (trx) => {
      const users = createSqlUserStore(trx);
      const existing: string[] = [];
      for (const line of good) {
        const at = Date.now();
        const created = await users.create({ id: newId(at), email: line.email, name: line.name, emailVerifiedAt: line.verified ? at : null, passwordHash: line.hash, roles: line.roles, createdAt: at, updatedAt: at, disabledAt: null });
        if (!created) existing.push(line.email);
      }
      return existing;
    });
    process.stdout.write(`imported ${good.length - skipped.length} user(s)${skipped.length ? `; skipped ${skipped.length} already registered: ${skipped.join(', ')}` : ''}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}

async function readLine(): Promise<string> {
  const reader = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of reader) return line;
  } finally {
    reader.close();
  }
  throw new CliError('--password-stdin: no password on standard input', 2);
}
