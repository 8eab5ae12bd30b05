import type { Config } from '../../../config/schema.ts';
import { newId } from '../../../crypto/random.ts';
import { apiError } from '../../../errors/catalog.ts';
import { normalizeEmail } from '../../accounts/email-address.ts';
import type { OneTimeTokenStore, User, UserStore } from '../../accounts/store.ts';
import type { AuditLog, StoredAuditEvent } from '../../audit/audit-log.ts';
import { type HeldPermissions, requirePermissions } from '../privilege.ts';
import { passwordResetMail, verificationMail } from '../../email/templates.ts';
import { CHANGE_EMAIL, UNDO_EMAIL_CHANGE } from '../../accounts/self-service/store.ts';
import type { Mailer } from '../../email/mailer.ts';
import type { AuthorisedApplication } from '../../oauth/applications/routes.ts';
import type { SessionService } from '../../sessions/service.ts';
import type { Session } from '../../sessions/store.ts';
import type { Identity } from '../../social/store.ts';
import type { RevocationService } from '../../tokens/revocation.ts';
import { emailChangedByAdminMail } from './mails.ts';
import type { UserAdminStore, UserListQuery } from './store.ts';

/** Who performs an admin action (the audit's `actorId`): a user id, or `client:<client_id>`. */
export interface Actor {
  id: string;
  /**
   * What the actor holds (docs/admin.md, "No privilege escalation"): `all` (an admin session, the
   * CLI) or the permission strings and admin scopes it has. Without it, the actor may change no
   * roles and act only on accounts whose roles grant nothing.
   */
  permissions?: HeldPermissions;
}

export interface UserDetail {
  user: User;
  identities: Identity[];
  sessions: Session[];
  applications: AuthorisedApplication[];
  recentEvents: StoredAuditEvent[];
}

export interface CreateUserInput {
  email: string;
  name?: string | null;
  roles?: string[];
  emailVerified?: boolean;
  /** Mails a set-password link (the reset link of "forgot password"). */
  sendPasswordMail?: boolean;
}

export interface UpdateUserInput {
  name?: string | null;
  /** A new address: it starts unverified and gets a verification mail; the old one is told. */
  email?: string;
  emailVerified?: boolean;
  roles?: string[];
}

export const ROLE_NAME = /^[a-z][a-z0-9:_-]{0,63}$/;

/**
 * User administration, the one code path of the admin API and the CLI. Every change is audited
 * with the acting admin. Disabling and deleting end every session and revoke every token of the
 * user, published on the ephemeral store so every instance drops them (SEC-OAUTH-22, SEC-SESS-09).
 */
export function createUserAdmin(deps: {
  users: UserStore;
  store: UserAdminStore;
  sessions: SessionService;
  revocations: RevocationService;
  oneTimeTokens: OneTimeTokenStore;
  identities: { listForUser(userId: string): Promise<Identity[]> };
  applications: { list(userId: string): Promise<AuthorisedApplication[]>; revoke(userId: string, clientId: string): Promise<void> };
  /** Role names that may be assigned (the role catalog); undefined: any well-formed name. */
  knownRole?: (name: string) => Promise<boolean>;
  /** The permissions a role grants (the role catalog; `admin`: every admin scope). */
  permissionsOf: (roles: readonly string[]) => Promise<readonly string[]>;
  /** The operator MFA reset (MfaService.reset): audited `mfa-removed` with the actor, mailed. */
  mfa: { reset(userId: string, actorId: string): Promise<number> };
  mailer: Mailer;
  audit: AuditLog;
  config: Pick<Config, 'publicUrl' | 'passwordResetTtlSeconds' | 'emailVerificationTtlSeconds'>;
  now: () => number;
  onBackgroundError: (error: unknown, what: string) => void;
}) {
  const { users, store, sessions, revocations, audit, now } = deps;

  async function existing(userId: string): Promise<User> {
    const user = await users.findById(userId);
    if (!user) throw apiError('not_found', 'No such user.');
    return user;
  }

  async function checkRoles(roles: readonly string[]): Promise<string[]> {
    const unique = [...new Set(roles)];
    for (const role of unique) {
      if (!ROLE_NAME.test(role)) throw apiError('invalid_request', `roles: "${role.slice(0, 64)}" is not a role name (lower-case letters, digits, : _ -).`);
      if (deps.knownRole && !(await deps.knownRole(role))) throw apiError('invalid_request', `roles: no role "${role}" in the role catalog.`);
    }
    return unique;
  }

  /**
   * No privilege escalation: giving or taking a role needs every permission it grants — `admin`
   * grants every admin scope, so only an admin (or a caller holding all of them) may hand it out.
   */
  async function checkMayChange(actor: Actor, changed: readonly string[]): Promise<void> {
    if (changed.length === 0 || actor.permissions === 'all') return;
    for (const role of changed) requirePermissions(actor.permissions, await deps.permissionsOf([role]), 'role', `Giving or taking the role "${role}" needs every permission it grants`);
  }

  /**
   * No privilege escalation: acting on an account (its profile, address, second factors, password,
   * sessions, grants, roles, whether it exists) needs every permission the target's roles grant —
   * so an `admin:users` delegate cannot take over an admin, nor anyone holding more than it does.
   * Runs before anything else of the action, so a refusal changes nothing.
   */
  async function checkMayActOn(actor: Actor, target: User): Promise<void> {
    if (target.roles.length === 0 || actor.permissions === 'all') return;
    requirePermissions(actor.permissions, await deps.permissionsOf(target.roles), 'account', 'Acting on this account needs every permission its roles grant');
  }

  /** The target, once the actor may act on it. */
  async function target(userId: string, actor: Actor): Promise<User> {
    const user = await existing(userId);
    await checkMayActOn(actor, user);
    return user;
  }

  function mailInBackground(mail: Parameters<Mailer['send']>[0], what: string): void {
    deps.mailer.send(mail).catch((error: unknown) => deps.onBackgroundError(error, what));
  }

  /** The sign-up verification link (same token purpose, page and expiry as the accounts service's). */
  async function mailVerification(user: Pick<User, 'id' | 'email'>): Promise<void> {
    const ttlMs = deps.config.emailVerificationTtlSeconds * 1000;
    const token = await deps.oneTimeTokens.issue('verify-email', user.id, ttlMs, now());
    mailInBackground(verificationMail({ to: user.email, link: `${deps.config.publicUrl}/verify-email?token=${encodeURIComponent(token)}`, ttlMinutes: Math.round(ttlMs / 60_000) }), 'admin verification mail');
  }

  /** A new address, unverified; mailed a verification link, the old one told. Sessions and tokens stay. */
  async function changeEmail(user: User, raw: string, at: number): Promise<boolean> {
    const email = normalizeEmail(raw);
    if (email === undefined) throw apiError('invalid_request', 'email: not a valid email address.');
    if (email === user.email) return false;
    const outcome = await store.setEmail(user.id, user.email, email, at);
    if (outcome === 'taken') throw apiError('conflict', 'A user with this email address exists.');
    if (outcome === 'gone') throw apiError('conflict', 'The user changed meanwhile; load it again.');
    // Links mailed to the old address, and a self-service change or undo in flight, must not act any more.
    for (const purpose of ['reset-password', 'verify-email', CHANGE_EMAIL, UNDO_EMAIL_CHANGE] as const) await deps.oneTimeTokens.invalidate(user.id, purpose, at);
    await mailVerification({ id: user.id, email });
    mailInBackground(emailChangedByAdminMail({ to: user.email, newEmail: email }), 'admin email changed mail');
    return true;
  }

  async function mailPasswordLink(user: User): Promise<void> {
    // The reset link of "forgot password": one token type, one page, one expiry rule.
    const ttlMs = deps.config.passwordResetTtlSeconds * 1000;
    const token = await deps.oneTimeTokens.issue('reset-password', user.id, ttlMs, now());
    const link = `${deps.config.publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
    mailInBackground(passwordResetMail({ to: user.email, link, ttlMinutes: Math.round(ttlMs / 60_000) }), 'admin password mail');
  }

  /** Every session ended and every grant revoked, on every instance. */
  async function endEverything(userId: string, reason: string): Promise<number> {
    await sessions.userChanged(userId);
    const ended = await sessions.revokeAllForUser(userId);
    await revocations.revokeAllOfUser(userId, reason);
    return ended;
  }

  return {
    list: async (query: UserListQuery): Promise<{ users: User[]; total: number; nextCursor: string | null }> => {
      let page;
      try {
        page = await store.list(query);
      } catch (error) {
        if (error instanceof RangeError) throw apiError('invalid_request', 'cursor: not a cursor of this list.');
        throw error;
      }
      const found = await Promise.all(page.ids.map((id) => users.findById(id)));
      return { users: found.filter((user): user is User => user !== undefined), total: page.total, nextCursor: page.nextCursor };
    },

    get: async (userId: string): Promise<UserDetail> => {
      const user = await existing(userId);
      const [identities, list, applications, recentEvents] = await Promise.all([
        deps.identities.listForUser(userId),
        sessions.list(userId),
        deps.applications.list(userId),
        audit.query({ userId, limit: 20 }),
      ]);
      return { user, identities, sessions: list, applications, recentEvents };
    },

    create: async (input: CreateUserInput, actor: Actor): Promise<User> => {
      const email = normalizeEmail(input.email);
      if (email === undefined) throw apiError('invalid_request', 'email: not a valid email address.');
      const roles = await checkRoles(input.roles ?? []);
      await checkMayChange(actor, roles);
      const at = now();
      // No password: the user sets one from the mailed link (or signs in through a linked identity).
      const created = await users.create({ id: newId(at), email, name: input.name ?? null, emailVerifiedAt: input.emailVerified ? at : null, passwordHash: null, roles, createdAt: at, updatedAt: at, disabledAt: null });
      if (!created) throw apiError('conflict', 'A user with this email address exists.');
      await audit.record({ type: 'user-created', outcome: 'success', userId: created.id, actorId: actor.id, detail: { roles: roles.join(','), password_mail: input.sendPasswordMail === true } });
      if (input.sendPasswordMail) await mailPasswordLink(created);
      return created;
    },

    update: async (userId: string, input: UpdateUserInput, actor: Actor): Promise<User> => {
      const user = await target(userId, actor);
      // Every check before any write: a refused role change leaves the name and address as they were.
      const roles = input.roles === undefined ? undefined : await checkRoles(input.roles);
      if (roles !== undefined) await checkMayChange(actor, [...roles.filter((role) => !user.roles.includes(role)), ...user.roles.filter((role) => !roles.includes(role))]);
      const at = now();
      const fields: string[] = [];
      // The address first: a taken one (409) leaves everything else unchanged.
      const emailChanged = input.email !== undefined && (await changeEmail(user, input.email, at));
      if (emailChanged) fields.push('email');
      if (input.name !== undefined && input.name !== user.name) {
        await users.updateName(userId, input.name, at);
        fields.push('name');
      }
      // A new address is unverified whatever was asked: only its owner can verify it.
      if (!emailChanged && input.emailVerified !== undefined && input.emailVerified !== (user.emailVerifiedAt !== null)) {
        await store.setEmailVerified(userId, input.emailVerified ? at : null, at);
        fields.push('email_verified');
      }
      if (fields.length > 0) await audit.record({ type: 'profile-update', outcome: 'success', userId, actorId: actor.id, detail: { fields: fields.join(',') } });
      if (roles !== undefined && roles.join(',') !== user.roles.join(',')) {
        await users.setRoles(userId, roles, at);
        await audit.record({ type: 'role-change', outcome: 'success', userId, actorId: actor.id, detail: { from: user.roles.join(','), to: roles.join(',') } });
      }
      // Cached sessions carry the address, the roles and the verified flag: every instance reloads them (SEC-ASVS-06).
      await sessions.userChanged(userId);
      return existing(userId);
    },

    disable: async (userId: string, actor: Actor): Promise<User> => {
      const user = await target(userId, actor);
      if (user.disabledAt === null) await store.setDisabled(userId, now(), now());
      // Ended again even when already disabled: "disable" always leaves nothing alive.
      const ended = await endEverything(userId, 'account disabled');
      await audit.record({ type: 'user-disabled', outcome: 'success', userId, actorId: actor.id, detail: { sessions_ended: ended } });
      return existing(userId);
    },

    enable: async (userId: string, actor: Actor): Promise<User> => {
      const user = await target(userId, actor);
      if (user.disabledAt !== null) {
        await store.setDisabled(userId, null, now());
        await audit.record({ type: 'user-enabled', outcome: 'success', userId, actorId: actor.id });
      }
      return existing(userId);
    },

    /** Erases the person: the row and everything hanging off it. Audit rows keep the (now meaningless) id. */
    delete: async (userId: string, actor: Actor): Promise<void> => {
      await target(userId, actor);
      // Refuse new sign-ins first, then end what is alive, then erase.
      await store.setDisabled(userId, now(), now());
      await endEverything(userId, 'account deleted');
      await store.erase(userId);
      await sessions.userChanged(userId);
      await audit.record({ type: 'user-deleted', outcome: 'success', userId, actorId: actor.id });
    },

    sendPasswordReset: async (userId: string, actor: Actor): Promise<void> => {
      const user = await target(userId, actor);
      if (user.disabledAt !== null) throw apiError('conflict', 'The account is disabled; enable it first.');
      await mailPasswordLink(user);
      await audit.record({ type: 'password-reset-request', outcome: 'success', userId, actorId: actor.id, detail: { by: 'admin' } });
    },

    /** Every second factor and recovery code of the user (MfaService.reset), audited with the actor. */
    resetMfa: async (userId: string, actor: Actor): Promise<number> => {
      await target(userId, actor);
      return deps.mfa.reset(userId, actor.id);
    },

    sessions: async (userId: string): Promise<Session[]> => {
      await existing(userId);
      return sessions.list(userId);
    },

    /** One session of the user; another user's session id answers like an unknown one (SEC-ASVS-02). */
    revokeSession: async (userId: string, sessionId: string, actor: Actor): Promise<void> => {
      await target(userId, actor);
      if (!(await sessions.revoke(sessionId, userId))) throw apiError('not_found', 'No such session.');
      await audit.record({ type: 'session-revoked', outcome: 'success', userId, actorId: actor.id, detail: { session_id: sessionId } });
    },

    /** "Sign out everywhere": every session and every token of the user (SEC-SESS-11, SEC-OAUTH-22). */
    signOutEverywhere: async (userId: string, actor: Actor): Promise<number> => {
      await target(userId, actor);
      const ended = await endEverything(userId, 'signed out everywhere by an admin');
      await audit.record({ type: 'session-revoked', outcome: 'success', userId, actorId: actor.id, detail: { all: true, sessions_ended: ended } });
      return ended;
    },

    applications: async (userId: string): Promise<AuthorisedApplication[]> => {
      await existing(userId);
      return deps.applications.list(userId);
    },

    revokeApplication: async (userId: string, clientId: string, actor: Actor): Promise<void> => {
      await target(userId, actor);
      if (!(await deps.applications.list(userId)).some((item) => item.client_id === clientId)) throw apiError('not_found', 'No such grant.');
      await deps.applications.revoke(userId, clientId);
      await audit.record({ type: 'consent-revoked', outcome: 'success', userId, actorId: actor.id, clientId, detail: { by: 'admin' } });
    },
  };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
