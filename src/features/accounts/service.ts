import { apiError } from '../../errors/catalog.ts';
import { newId } from '../../crypto/random.ts';
import { accountContext, requireAcceptablePassword } from './password-policy.ts';
import { tooManyRequests, type RateLimitRule } from '../rate-limit/limiter.ts';
import { ACCOUNT_FAILURES } from '../rate-limit/lockout.ts';
import { clientKey } from '../rate-limit/client-key.ts';
import { alreadyRegisteredMail, passwordChangedMail, passwordResetMail, verificationMail } from '../email/templates.ts';
import type { OutgoingMail } from '../email/mailer.ts';
import { createCappedMailer, recipientCapRule } from '../email/recipient-caps.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { AccountsContext, ClientInfo } from './context.ts';
import { normalizeEmail } from './email-address.ts';
import type { User } from './store.ts';

const HOUR = 3_600_000;

/**
 * Sign-up, email verification, password reset and change. Every path that could tell whether an
 * address is registered answers the same way either way (SEC-PWD-09) and does its mail work in
 * the background so timing does not tell either (SEC-PWD-10).
 */
export function createAccountsService(context: AccountsContext) {
  const { config, users, oneTimeTokens, sessions, hasher, audit, limiter, now } = context;
  const rules = {
    signUpIp: { name: 'sign-up:ip', limit: config.signUpLimitPerIp, windowMs: HOUR },
    forgotIp: { name: 'forgot:ip', limit: config.signUpLimitPerIp, windowMs: HOUR },
    forgotAccount: { name: 'forgot:account', limit: 3, windowMs: HOUR },
    // Checked before a reset link is issued: a new link voids the last one, so the cap must hold
    // before the token is made, not only before the mail is sent.
    resetRecipient: recipientCapRule('password-reset'),
    verifyIp: { name: 'verify:ip', limit: config.signUpLimitPerIp * 5, windowMs: HOUR },
  } satisfies Record<string, RateLimitRule>;

  function link(path: string, token: string): string {
    // Links use the configured public URL only — never the Host header (SEC-PWD-16).
    return `${config.publicUrl}${path}?token=${encodeURIComponent(token)}`;
  }

  function sendInBackground(mail: OutgoingMail, what: string): void {
    context.mailer.send(mail).catch((error: unknown) => context.onBackgroundError(error, what));
  }
  // Mails a stranger can cause are capped per recipient across instances (email/recipient-caps.ts).
  const capped = createCappedMailer({ mailer: context.mailer, limiter, onError: context.onBackgroundError });

  async function limit(rule: RateLimitRule, key: string): Promise<void> {
    const decision = await limiter.hit(rule, key);
    if (!decision.allowed) throw tooManyRequests(decision);
  }

  function requireEmail(raw: string): string {
    const email = normalizeEmail(raw);
    if (email === undefined) throw apiError('invalid_request', 'Enter a valid email address.');
    return email;
  }

  async function sendVerification(user: Pick<User, 'id' | 'email'>): Promise<void> {
    const ttlMs = config.emailVerificationTtlSeconds * 1000;
    const token = await oneTimeTokens.issue('verify-email', user.id, ttlMs, now());
    await capped.send('verify-email', verificationMail({ to: user.email, link: link('/verify-email', token), ttlMinutes: Math.round(ttlMs / 60_000) }), 'verification mail');
  }

  return {
    /** Always resolves the same way for new and already-registered addresses. */
    async signUp(input: { email: string; password: string; name?: string | undefined }, client: ClientInfo): Promise<void> {
      await limit(rules.signUpIp, clientKey(client.ip));
      const email = requireEmail(input.email);
      const name = input.name?.trim() ? input.name.trim().slice(0, 200) : null;
      requireAcceptablePassword(input.password, config, accountContext({ email, name }));
      // Hash before looking the address up: both outcomes cost the same.
      const passwordHash = await hasher.hash(input.password);
      const at = now();
      const created = await users.create({ id: newId(at), email, name, emailVerifiedAt: null, passwordHash, roles: [], createdAt: at, updatedAt: at, disabledAt: null });
      if (!created) {
        const existing = await users.findByEmail(email);
        await audit.record({ type: 'sign-up-existing-email', outcome: 'failure', userId: existing?.id ?? null, ip: client.ip, userAgent: client.userAgent });
        await capped.send('already-registered', alreadyRegisteredMail({ to: email, signInLink: `${config.publicUrl}/login`, resetLink: `${config.publicUrl}/forgot-password` }), 'already-registered mail');
        return;
      }
      await audit.record({ type: 'sign-up', outcome: 'success', userId: created.id, ip: client.ip, userAgent: client.userAgent });
      await sendVerification(created);
    },

    async verifyEmail(token: string, client: ClientInfo): Promise<void> {
      await limit(rules.verifyIp, clientKey(client.ip));
      const userId = await oneTimeTokens.consume(token, 'verify-email', now());
      if (userId === undefined) throw apiError('invalid_link', 'This verification link is invalid, expired or already used.');
      await users.markEmailVerified(userId, now());
      await sessions.userChanged(userId);
      await audit.record({ type: 'email-verified', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent });
    },

    /** Sends a new verification link to a signed-in, unverified user. */
    async resendVerification(record: SessionRecord, client: ClientInfo): Promise<void> {
      await limit(rules.verifyIp, clientKey(client.ip));
      await limit(rules.forgotAccount, `verify:${record.user.id}`);
      if (record.user.emailVerified) return;
      await sendVerification(record.user);
    },

    /** Same answer whether or not the address is registered. */
    async forgotPassword(rawEmail: string, client: ClientInfo): Promise<void> {
      await limit(rules.forgotIp, clientKey(client.ip));
      const email = normalizeEmail(rawEmail);
      if (email === undefined) throw apiError('invalid_request', 'Enter a valid email address.');
      const perRecipient = await limiter.hit(rules.resetRecipient, email);
      if (!perRecipient.allowed) return; // silently: no mail bombing, no enumeration
      const user = await users.findByEmail(email);
      if (!user || user.disabledAt !== null) return;
      const ttlMs = config.passwordResetTtlSeconds * 1000;
      const token = await oneTimeTokens.issue('reset-password', user.id, ttlMs, now());
      await audit.record({ type: 'password-reset-request', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent });
      sendInBackground(passwordResetMail({ to: user.email, link: link('/reset-password', token), ttlMinutes: Math.round(ttlMs / 60_000) }), 'password reset mail');
    },

    /** Sets a new password from a reset link; ends every session of the user. */
    async resetPassword(token: string, password: string, client: ClientInfo): Promise<{ email: string; passwordHash: string }> {
      await limit(rules.verifyIp, clientKey(client.ip));
      const invalidLink = () => apiError('invalid_link', 'This reset link is invalid, expired or already used. Request a new one.');
      // The policy with the account's context (SEC-PWD-06), checked before the link is redeemed
      // so that a refused password does not burn it.
      const owner = await oneTimeTokens.peek(token, 'reset-password', now());
      const account = owner === undefined ? undefined : await users.findById(owner);
      if (!account) throw invalidLink();
      requireAcceptablePassword(password, config, accountContext(account));
      const passwordHash = await hasher.hash(password);
      const userId = await oneTimeTokens.consume(token, 'reset-password', now());
      if (userId === undefined || userId !== account.id) throw invalidLink();
      const user = account;
      await users.setPasswordHash(userId, passwordHash, now());
      // A reset proves possession of the mailbox; it also confirms the address.
      await users.markEmailVerified(userId, now());
      await sessions.revokeAllForUser(userId);
      await context.onCredentialsChanged?.(userId);
      await context.lockout.clear(user.email);
      await audit.record({ type: 'password-reset', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent });
      sendInBackground(passwordChangedMail({ to: user.email }), 'password changed mail');
      // The account whose mailbox the link proved, as its credentials are now: the caller may
      // trust this browser for it (SEC-PWD-14; the hash only feeds the device cookie's MAC).
      return { email: user.email, passwordHash };
    },

    /** Requires the current password; ends the user's other sessions and renews this one. */
    async changePassword(record: SessionRecord, input: { currentPassword: string; newPassword: string }, client: ClientInfo): Promise<{ token: string }> {
      // Before any password guess is spent: a password-only (or stale) session of an MFA user
      // cannot change the password (docs/mfa.md, "Step-up").
      await context.requireRecentSecondFactor?.(record);
      // The budget belongs to this session (SEC-PWD-14): failures elsewhere cannot block a signed-in
      // owner, and a stolen session still gets only its own few guesses at the current password.
      const budget = `change-password:${record.session.id}`;
      const gate = await context.lockout.begin(budget);
      if (!gate.allowed) throw tooManyRequests({ allowed: false, count: 0, retryAfterSeconds: gate.retryAfterSeconds });
      // Every budget also counts against the account's hourly ceiling (SEC-PWD-11, SEC-PWD-08).
      const ceiling = await limiter.peek(ACCOUNT_FAILURES, record.user.email);
      if (!ceiling.allowed) throw tooManyRequests(ceiling);
      const user = await users.findById(record.user.id);
      const verdict = user?.passwordHash ? await hasher.verify(user.passwordHash, input.currentPassword) : { ok: await hasher.verifyDummy(input.currentPassword), needsRehash: false };
      if (!user || !verdict.ok) {
        await limiter.hit(ACCOUNT_FAILURES, record.user.email);
        await audit.record({ type: 'password-change', outcome: 'failure', userId: record.user.id, ip: client.ip, userAgent: client.userAgent, detail: { reason: 'wrong current password' } });
        throw apiError('invalid_credentials', 'The current password is incorrect.');
      }
      await context.lockout.succeeded(budget);
      requireAcceptablePassword(input.newPassword, config, accountContext(user, input.currentPassword));
      await users.setPasswordHash(user.id, await hasher.hash(input.newPassword), now());
      await sessions.revokeAllForUser(user.id, record.session.id);
      const renewed = await sessions.rotate(record, { ip: client.ip, userAgent: client.userAgent });
      await context.onCredentialsChanged?.(user.id);
      await oneTimeTokens.invalidate(user.id, 'reset-password', now());
      await audit.record({ type: 'password-change', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent });
      sendInBackground(passwordChangedMail({ to: user.email }), 'password changed mail');
      return { token: renewed.token };
    },

    async updateProfile(record: SessionRecord, input: { name?: string | null | undefined }): Promise<void> {
      if (input.name === undefined) return;
      const name = input.name === null || input.name.trim() === '' ? null : input.name.trim().slice(0, 200);
      await users.updateName(record.user.id, name, now());
      await sessions.userChanged(record.user.id);
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
