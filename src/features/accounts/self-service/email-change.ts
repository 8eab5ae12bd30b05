import type { Config } from '../../../config/schema.ts';
import { hashSecret } from '../../../crypto/random.ts';
import { ApiError, apiError } from '../../../errors/catalog.ts';
import type { EphemeralStore } from '../../../storage/ephemeral/types.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import { createCappedMailer } from '../../email/recipient-caps.ts';
import type { Mailer } from '../../email/mailer.ts';
import { emailChangeConfirmMail, emailChangedMail } from '../../email/templates.ts';
import { tooManyRequests, type RateLimiter } from '../../rate-limit/limiter.ts';
import type { Lockout } from '../../rate-limit/lockout.ts';
import type { SessionService } from '../../sessions/service.ts';
import type { SessionRecord } from '../../sessions/store.ts';
import type { RevocationService } from '../../tokens/revocation.ts';
import type { ClientInfo } from '../context.ts';
import { normalizeEmail } from '../email-address.ts';
import type { OneTimeTokenStore, UserStore } from '../store.ts';
import { requireRecentAuthentication, type RecentAuthDeps } from './recent-auth.ts';
import { CHANGE_EMAIL, UNDO_EMAIL_CHANGE, type SelfServiceStore } from './store.ts';

const HOUR = 3_600_000;
/** How long the old address can undo a change: long enough to notice a hijack on holiday. */
export const UNDO_TTL_MS = 7 * 24 * HOUR;
const REQUESTS_PER_HOUR = { name: 'email-change:user', limit: 5, windowMs: HOUR } as const;

export interface EmailChangeDeps {
  config: Pick<Config, 'publicUrl' | 'emailVerificationTtlSeconds'>;
  users: UserStore;
  store: SelfServiceStore;
  oneTimeTokens: OneTimeTokenStore;
  /** What the links stand for: the one-time token (durable, consumed atomically) names the user, this holds the addresses. */
  ephemeral: EphemeralStore;
  sessions: SessionService;
  revocations: RevocationService;
  mailer: Mailer;
  limiter: RateLimiter;
  audit: AuditLog;
  now: () => number;
  onBackgroundError: (error: unknown, what: string) => void;
  recentAuth: RecentAuthDeps;
  /** After an undo: the sign-in lockout of the restored address is cleared (as a password reset does). */
  lockout: Pick<Lockout, 'clear'>;
  /** After an undo: a password-reset link to the restored address (the accounts service's forgot-password path). */
  sendPasswordReset: (email: string, client: ClientInfo) => Promise<void>;
}

interface Pending { userId: string; newEmail: string }
/** `confirmedAt`: when the change took effect (absent on links made before it was recorded). */
interface Undo { userId: string; oldEmail: string; newEmail: string; confirmedAt?: number }

const pendingKey = (token: string): string => `self-service:email-change:${hashSecret(token)}`;
const pendingOfUser = (userId: string): string => `self-service:email-change-pending:${userId}`;
const undoKey = (token: string): string => `self-service:email-undo:${hashSecret(token)}`;

function invalidLink() {
  return apiError('invalid_link', 'This link is invalid, expired or already used.');
}

/**
 * While the previous address can still undo a change, no further self-service change: issuing a
 * new undo link would void the previous address's one (OneTimeTokenStore.issue), so a hijacker
 * could otherwise silence the owner with a second change.
 */
function recentlyChanged() {
  return apiError('conflict', 'Your address was changed recently; it can be changed again once the previous address can no longer undo it.', { detail: 'undo window open' });
}

/**
 * Changing the address (docs/accounts-and-sessions.md, "Changing the email address"): the new
 * address proves itself before it replaces the old one; the old one is told and can undo.
 * Sessions and tokens survive a change (the `email` claim follows: userinfo and ID tokens read
 * the user row); an undo ends them all, because it means the account was taken over.
 */
export function createEmailChange(deps: EmailChangeDeps) {
  const { config, users, store, oneTimeTokens, ephemeral, sessions, audit, now } = deps;
  const capped = createCappedMailer({ mailer: deps.mailer, limiter: deps.limiter, onError: deps.onBackgroundError });
  const link = (path: string, token: string) => `${config.publicUrl}${path}?token=${encodeURIComponent(token)}`;

  /** Best effort: the undo has happened; a capped or failed mail leaves /forgot-password. */
  async function sendResetLink(email: string, client: ClientInfo): Promise<void> {
    try {
      await deps.sendPasswordReset(email, client);
    } catch (error) {
      if (!(error instanceof ApiError)) deps.onBackgroundError(error, 'password reset after undo');
    }
  }

  async function readJson<T>(key: string, consume: boolean): Promise<T | undefined> {
    const raw = consume ? await ephemeral.consume(key) : await ephemeral.get(key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  return {
    /** The address waiting for confirmation, for the account page. */
    async pendingEmail(userId: string): Promise<string | null> {
      return ephemeral.get(pendingOfUser(userId));
    },

    /**
     * Answers the same whether or not the address is free (no enumeration): a taken address
     * gets no link, and the requester learns nothing until a confirmation that cannot happen.
     */
    async request(record: SessionRecord, input: { newEmail: string; password?: string | undefined }, client: ClientInfo): Promise<void> {
      const newEmail = normalizeEmail(input.newEmail);
      if (newEmail === undefined) throw apiError('invalid_request', 'Enter a valid email address.');
      if (newEmail === record.user.email) throw apiError('invalid_request', 'That is already your email address.');
      // Before any password guess is spent: the answer does not depend on the password.
      if (await store.undoWindowEndsAt(record.user.id, now()) !== null) throw recentlyChanged();
      await requireRecentAuthentication(deps.recentAuth, record, input.password, client, 'email-change');
      const decision = await deps.limiter.hit(REQUESTS_PER_HOUR, record.user.id);
      if (!decision.allowed) throw tooManyRequests(decision);
      const ttlMs = config.emailVerificationTtlSeconds * 1000;
      // A new request voids the previous link (issue invalidates earlier tokens of the purpose).
      const token = await oneTimeTokens.issue(CHANGE_EMAIL, record.user.id, ttlMs, now());
      await ephemeral.set(pendingKey(token), JSON.stringify({ userId: record.user.id, newEmail } satisfies Pending), ttlMs);
      await ephemeral.set(pendingOfUser(record.user.id), newEmail, ttlMs);
      await audit.record({ type: 'email-change', outcome: 'success', userId: record.user.id, ip: client.ip, userAgent: client.userAgent, detail: { step: 'requested' } });
      if (await users.findByEmail(newEmail)) return;
      await capped.send('change-email', emailChangeConfirmMail({ to: newEmail, link: link('/account/email/confirm', token), ttlMinutes: Math.round(ttlMs / 60_000) }), 'email change mail');
    },

    /** The link from the new address: the change happens here, if the address is still free. */
    async confirm(token: string, client: ClientInfo): Promise<{ userId: string; email: string }> {
      const userId = await oneTimeTokens.consume(token, CHANGE_EMAIL, now());
      const pending = await readJson<Pending>(pendingKey(token), true);
      if (userId === undefined || !pending || pending.userId !== userId) throw invalidLink();
      const user = await users.findById(userId);
      if (!user || user.disabledAt !== null) throw invalidLink();
      await ephemeral.delete(pendingOfUser(userId));
      // The same rule as at the request, for a link that was asked for before the window opened.
      if (await store.undoWindowEndsAt(userId, now()) !== null) throw recentlyChanged();
      const outcome = await store.changeEmail(userId, user.email, pending.newEmail, now());
      if (outcome !== 'changed') {
        await audit.record({ type: 'email-change', outcome: 'failure', userId, ip: client.ip, userAgent: client.userAgent, detail: { step: 'confirmed', reason: outcome === 'taken' ? 'address taken meanwhile' : 'account changed meanwhile' } });
        if (outcome === 'taken') throw apiError('conflict', 'That address now belongs to another account. Your address was not changed.');
        throw invalidLink();
      }
      // Links mailed to the old address must not act on the account any more.
      await oneTimeTokens.invalidate(userId, 'reset-password', now());
      await oneTimeTokens.invalidate(userId, 'verify-email', now());
      // Cached sessions carry the address (`email` in the session API); every instance reloads.
      await sessions.userChanged(userId);
      const confirmedAt = now();
      const undo = await oneTimeTokens.issue(UNDO_EMAIL_CHANGE, userId, UNDO_TTL_MS, confirmedAt);
      await ephemeral.set(undoKey(undo), JSON.stringify({ userId, oldEmail: user.email, newEmail: pending.newEmail, confirmedAt } satisfies Undo), UNDO_TTL_MS);
      await audit.record({ type: 'email-change', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent, detail: { step: 'confirmed' } });
      deps.mailer.send(emailChangedMail({ to: user.email, newEmail: pending.newEmail, undoLink: link('/account/email/undo', undo), ttlMinutes: UNDO_TTL_MS / 60_000 }))
        .catch((error: unknown) => deps.onBackgroundError(error, 'email changed mail'));
      return { userId, email: pending.newEmail };
    },

    /**
     * The link from the old address: an undo means the account was taken over, so besides the
     * old address coming back, everything the taker could still use goes: every session and
     * token, the password (a new one is set through the reset link mailed to the restored
     * address), the sign-in lockout, and second factors enrolled since the change.
     */
    async undo(token: string, client: ClientInfo): Promise<{ email: string }> {
      const userId = await oneTimeTokens.consume(token, UNDO_EMAIL_CHANGE, now());
      const undo = await readJson<Undo>(undoKey(token), true);
      if (userId === undefined || !undo || undo.userId !== userId) throw invalidLink();
      const user = await users.findById(userId);
      if (!user) throw invalidLink();
      if (user.email !== undo.oldEmail) {
        const outcome = await store.changeEmail(userId, user.email, undo.oldEmail, now());
        if (outcome === 'taken') throw apiError('conflict', 'The previous address now belongs to another account.');
        if (outcome === 'gone') throw invalidLink();
      }
      // A hijacker may have asked for more: their pending change and reset links die too.
      await oneTimeTokens.invalidate(userId, CHANGE_EMAIL, now());
      await oneTimeTokens.invalidate(userId, 'reset-password', now());
      await ephemeral.delete(pendingOfUser(userId));
      // The taker may know the password: it goes (sign-in without one fails like a wrong one).
      await users.clearPassword(userId, now());
      await deps.lockout.clear(undo.oldEmail);
      // Links made before confirmedAt was recorded: everything enrolled within the undo window.
      const removed = await store.removeSecondFactorsSince(userId, undo.confirmedAt ?? now() - UNDO_TTL_MS);
      await sessions.userChanged(userId);
      const ended = await sessions.revokeAllForUser(userId);
      await deps.revocations.revokeAllOfUser(userId, 'email change undone');
      // What was reset (the name avoids "password": the audit log drops secret-looking names).
      await audit.record({
        type: 'email-change', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent,
        detail: { step: 'undone', sessions_ended: ended, reset: 'password, lockout, second factors', second_factors_removed: removed.factors, recovery_codes_removed: removed.recoveryCodes },
      });
      await sendResetLink(undo.oldEmail, client);
      return { email: undo.oldEmail };
    },
  };
}

export type EmailChange = ReturnType<typeof createEmailChange>;
