import type { Config } from '../config/schema.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { ApiError } from '../errors/catalog.ts';
import { normalizeEmail } from '../features/accounts/email-address.ts';
import { createSqlOneTimeTokenStore, createSqlUserStore, type User } from '../features/accounts/store.ts';
import { createAuditLog } from '../features/audit/audit-log.ts';
import { AUDIT_MAC_PURPOSE } from '../features/audit/wiring.ts';
import { createClientStore } from '../features/clients/store.ts';
import { createDevOutbox, createSmtpMailer } from '../features/email/mailer.ts';
import { buildUserAdmin } from '../features/admin/wiring.ts';
import { sessionView, userView } from '../features/admin/users-routes.ts';
import { USER_SORTS, type UserSort } from '../features/admin/users/store.ts';
import type { UserAdmin } from '../features/admin/users/service.ts';
import { createParticipantStore } from '../features/oauth/backchannel-logout/participants.ts';
import { createBackchannelLogout } from '../features/oauth/backchannel-logout/service.ts';
import { createConsentStore } from '../features/oauth/consents/store.ts';
import { createOutbox } from '../features/webhooks/outbox.ts';
import { createSessionService } from '../features/sessions/service.ts';
import { createSqlSessionStore } from '../features/sessions/store.ts';
import { createRevocationService } from '../features/tokens/revocation.ts';
import { createSqlTokenStore } from '../features/tokens/store.ts';
import { openStorage } from '../storage/open.ts';
import { CliError } from './command.ts';

/** The actor of CLI changes in the audit log: whoever holds the server's configuration (and so every permission). */
export const CLI_ACTOR = { id: 'cli', permissions: 'all' } as const;

export const ADMIN_SUBCOMMANDS = ['list', 'show', 'update', 'set-roles', 'disable', 'enable', 'delete', 'sign-out'] as const;
export type AdminSubcommand = (typeof ADMIN_SUBCOMMANDS)[number];

export interface AdminFlags {
  json: boolean;
  search?: string | undefined;
  status?: string | undefined;
  role?: string[] | undefined;
  verified?: string | undefined;
  /** `list --has-mfa true|false`. */
  hasMfa?: string | undefined;
  sort?: string | undefined;
  limit?: string | undefined;
  cursor?: string | undefined;
  name?: string | undefined;
  noName: boolean;
  /** `update --email-verified true|false`. */
  emailVerified?: string | undefined;
  /** `update --email ADDRESS`. */
  email?: string | undefined;
}

/**
 * `gatehouse users list|show|update|set-roles|disable|enable|delete|sign-out`: the admin API's
 * user service (buildUserAdmin), so the CLI and HTTP share every rule, revocation and audit event
 * (actor `cli`). Ended sessions and revoked tokens are announced on the ephemeral store, so
 * running servers sharing Redis drop them at once; relying parties get back-channel logout as
 * when the server ends a session (cliSessions).
 */
export async function runUserAdmin(config: Config, sub: AdminSubcommand, positionals: string[], flags: AdminFlags): Promise<number> {
  const usage = sub === 'list' ? undefined : onePositional(sub, positionals);
  const storage = await openStorage(config);
  const mailer = config.smtpUrl ? createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom }) : createDevOutbox({});
  try {
    const db = storage.database.db;
    const now = Date.now;
    const audit = createAuditLog(db, { macKey: resolveMasterKey(config).derive(AUDIT_MAC_PURPOSE) });
    const tokenStore = createSqlTokenStore(db);
    const revocations = createRevocationService({ store: tokenStore, ephemeral: storage.ephemeral, audit, accessTokenMaxTtlSeconds: config.accessTokenMaxTtlSeconds, now });
    const clients = createClientStore(db);
    const sessions = cliSessions(config, storage, { revocations, clients, now });
    const users = createSqlUserStore(db);
    const admin = buildUserAdmin({
      db, users, oneTimeTokens: createSqlOneTimeTokenStore(db), sessions, revocations, tokenStore, consents: createConsentStore(db), clients, mailer, audit, config, now,
      onBackgroundError: (_error, what) => process.stderr.write(`${what} failed\n`),
    });
    const userId = usage === undefined ? undefined : await resolveUser(users, usage);
    return await run(admin, sub, userId, flags);
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) throw new CliError(error.description, error.status === 400 ? 2 : 1);
    throw error;
  } finally {
    await mailer.close();
    await storage.close();
  }
}

/**
 * The session service as the server wires it (src/features/accounts/wiring.ts): ended sessions
 * revoke their tokens, then queue back-channel logout for the relying parties that got an ID
 * token for them. The outbox is durable and its worker is not started here: a running server
 * signs and delivers the logout tokens (src/features/oauth/backchannel-logout/service.ts).
 */
function cliSessions(config: Config, storage: Awaited<ReturnType<typeof openStorage>>, deps: { revocations: ReturnType<typeof createRevocationService>; clients: ReturnType<typeof createClientStore>; now: () => number }) {
  const db = storage.database.db;
  const outbox = createOutbox({ database: storage.database, config, sealKey: resolveMasterKey(config).derive('webhook-secrets'), now: deps.now, onError: () => {} });
  const backchannel = createBackchannelLogout({
    outbox, participants: createParticipantStore(db), clients: deps.clients, issuer: config.publicUrl, now: deps.now,
    // Only the delivery signs, and deliveries run in the server's worker, never in this process.
    signer: { sign: () => Promise.reject(new Error('the CLI queues logout tokens; a running server signs and delivers them')) },
  });
  return createSessionService({
    store: createSqlSessionStore(db), ephemeral: storage.ephemeral, config, now: deps.now,
    onEnded: async (ids, userId) => {
      await deps.revocations.sessionsEnded(ids, userId);
      await backchannel.sessionsEnded(ids);
    },
  });
}

async function run(admin: UserAdmin, sub: AdminSubcommand, userId: string | undefined, flags: AdminFlags): Promise<number> {
  const { json } = flags;
  const id = userId!;
  switch (sub) {
    case 'list': {
      const page = await admin.list(listQuery(flags));
      print(json, { users: page.users.map(userView), total: page.total, next_cursor: page.nextCursor }, () =>
        `${page.users.length === 0 ? 'no users\n' : `ID\tEMAIL\tSTATUS\tVERIFIED\tROLES\tNAME\n${page.users.map(line).join('')}`}${page.users.length} of ${page.total}${page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : ''}\n`);
      return 0;
    }
    case 'show': {
      const detail = await admin.get(id);
      print(json, { ...userView(detail.user), identities: detail.identities.map((item) => ({ provider_id: item.providerId, subject: item.subject, email: item.email })), sessions: detail.sessions.map(sessionView), applications: detail.applications }, () =>
        `${details(detail.user)}sessions: ${detail.sessions.length}\napplications: ${detail.applications.map((item) => item.client_id).join(' ') || '-'}\nidentities: ${detail.identities.map((item) => item.providerId).join(' ') || '-'}\n`);
      return 0;
    }
    case 'update': {
      const input = {
        ...(flags.noName ? { name: null } : flags.name === undefined ? {} : { name: flags.name }),
        ...(flags.email === undefined ? {} : { email: flags.email }),
        ...(flags.emailVerified === undefined ? {} : { emailVerified: trueOrFalse('--email-verified', flags.emailVerified) }),
      };
      if (flags.noName && flags.name !== undefined) throw new CliError('give --name or --no-name, not both', 2);
      if (Object.keys(input).length === 0) throw new CliError('users update needs --name NAME, --no-name, --email ADDRESS or --email-verified true|false (roles: users set-roles)', 2);
      const user = await admin.update(id, input, CLI_ACTOR);
      print(json, userView(user), () => `updated ${user.id} <${user.email}>\n${details(user)}`);
      return 0;
    }
    case 'set-roles': {
      const user = await admin.update(id, { roles: flags.role ?? [] }, CLI_ACTOR);
      print(json, userView(user), () => `roles of ${user.id} <${user.email}>: ${user.roles.join(', ') || '(none)'}\n`);
      return 0;
    }
    case 'disable': {
      const user = await admin.disable(id, CLI_ACTOR);
      print(json, userView(user), () => `disabled ${user.id} <${user.email}>: every session ended, every token revoked\n`);
      return 0;
    }
    case 'enable': {
      const user = await admin.enable(id, CLI_ACTOR);
      print(json, userView(user), () => `enabled ${user.id} <${user.email}>\n`);
      return 0;
    }
    case 'delete': {
      await admin.delete(id, CLI_ACTOR);
      print(json, { deleted: id }, () => `deleted ${id}: personal data, credentials, sessions and grants erased\n`);
      return 0;
    }
    default: {
      const ended = await admin.signOutEverywhere(id, CLI_ACTOR);
      print(json, { revoked: ended }, () => `signed ${id} out everywhere: ${ended} session${ended === 1 ? '' : 's'} ended, every token revoked\n`);
      return 0;
    }
  }
}

function listQuery(flags: AdminFlags) {
  if (flags.status !== undefined && flags.status !== 'active' && flags.status !== 'disabled') throw new CliError('--status must be active or disabled', 2);
  if (flags.sort !== undefined && !(USER_SORTS as readonly string[]).includes(flags.sort)) throw new CliError(`--sort must be one of ${USER_SORTS.join(', ')}`, 2);
  if (flags.limit !== undefined && !/^[1-9][0-9]{0,2}$/.test(flags.limit)) throw new CliError('--limit must be 1 to 200', 2);
  if ((flags.role?.length ?? 0) > 1) throw new CliError('users list takes one --role', 2);
  return {
    ...(flags.search === undefined ? {} : { search: flags.search }),
    ...(flags.status === undefined ? {} : { status: flags.status as 'active' | 'disabled' }),
    ...(flags.role?.[0] === undefined ? {} : { role: flags.role[0] }),
    ...(flags.verified === undefined ? {} : { verified: trueOrFalse('--verified', flags.verified) }),
    ...(flags.hasMfa === undefined ? {} : { hasMfa: trueOrFalse('--has-mfa', flags.hasMfa) }),
    ...(flags.sort === undefined ? {} : { sort: flags.sort as UserSort }),
    ...(flags.limit === undefined ? {} : { limit: Math.min(200, Number(flags.limit)) }),
    ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }),
  };
}

/** A user id, or an email address (looked up). */
async function resolveUser(users: ReturnType<typeof createSqlUserStore>, given: string): Promise<string> {
  if (given.includes('@')) {
    const email = normalizeEmail(given);
    const user = email === undefined ? undefined : await users.findByEmail(email);
    if (!user) throw new CliError(`no user with email ${given}`, 1);
    return user.id;
  }
  return given;
}

function trueOrFalse(flag: string, text: string): boolean {
  if (text !== 'true' && text !== 'false') throw new CliError(`${flag} must be true or false`, 2);
  return text === 'true';
}

function onePositional(sub: string, positionals: string[]): string {
  if (positionals.length !== 1 || positionals[0] === '') throw new CliError(`users ${sub} needs exactly one USER (id or email)`, 2);
  return positionals[0]!;
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}

function line(user: User): string {
  return `${user.id}\t${user.email}\t${user.disabledAt === null ? 'active' : 'disabled'}\t${user.emailVerifiedAt !== null}\t${user.roles.join(',') || '-'}\t${user.name ?? ''}\n`;
}

function details(user: User): string {
  const rows: [string, string][] = [
    ['id', user.id],
    ['email', user.email],
    ['name', user.name ?? '-'],
    ['email_verified', String(user.emailVerifiedAt !== null)],
    ['roles', user.roles.join(' ') || '-'],
    ['status', user.disabledAt === null ? 'active' : 'disabled'],
    ['has_password', String(user.passwordHash !== null)],
    ['created_at', new Date(user.createdAt).toISOString()],
  ];
  return rows.map(([name, value]) => `${name}: ${value}\n`).join('');
}
