import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import { newId, randomToken } from '../crypto/random.ts';
import { createPasswordHasher, isRecognisedHash } from '../crypto/passwords/hasher.ts';
import { accountContext, passwordProblem } from '../features/accounts/password-policy.ts';
import { normalizeEmail } from '../features/accounts/email-address.ts';
import { createSqlUserStore, type User } from '../features/accounts/store.ts';
import { openStorage } from '../storage/open.ts';
import { CliError, loadCliConfig, parseSubcommand } from './command.ts';

const HELP = `Usage: gatehouse users <create|import> [options]

  users create --email EMAIL [--name NAME] [--admin] [--role ROLE ...] [--password-stdin]
      Creates a verified user. The password is read from standard input with --password-stdin
      (one line); otherwise a random one is generated and printed once.
  users import FILE
      Imports users from JSON lines: {"email", "hash", "verified", "roles", "name"}.
      "hash" may be argon2id/argon2i, bcrypt ($2a/$2b/$2y), scrypt ($scrypt$ln=…) or
      PBKDF2-SHA256 ($pbkdf2-sha256$… or pbkdf2_sha256$…); it is upgraded to argon2id at the
      user's next sign-in. Every line is checked first; nothing is imported if any line is bad,
      and bad lines are reported by number.

Options: --config FILE, --help
`;

export async function runUsers(argv: string[]): Promise<number> {
  const parsed = parseSubcommand(argv, HELP, { email: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' }, role: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' } });
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
  throw new CliError(`unknown subcommand "${sub}"\n\n${HELP}`, 2);
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
