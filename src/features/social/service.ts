import { apiError, type ApiError } from '../../errors/catalog.ts';
import { hashSecret, newId, randomToken } from '../../crypto/random.ts';
import { seal } from '../../crypto/seal.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientInfo } from '../accounts/context.ts';
import { normalizeEmail } from '../accounts/email-address.ts';
import type { OneTimeTokenStore, User, UserStore } from '../accounts/store.ts';
import type { Mailer } from '../email/mailer.ts';
import { createCappedMailer } from '../email/recipient-caps.ts';
import { tooManyRequests, type RateLimiter } from '../rate-limit/limiter.ts';
import { clientKey } from '../rate-limit/client-key.ts';
import { linkIdentityMail } from '../email/templates.ts';
import type { PasswordLogin, SecondStepGate, SignInResult } from '../password-login/service.ts';
import { MfaRequiredError } from '../mfa/errors.ts';
import type { SessionService } from '../sessions/service.ts';
import type { SessionUser } from '../sessions/store.ts';
import type { Provider } from './providers.ts';
import type { ProviderRegistry } from './registry.ts';
import type { IdentityStore } from './store.ts';
import { refusal, UpstreamRefusal, type UpstreamChecks, type UpstreamClient, type UpstreamProfile } from './upstream.ts';

/**
 * Social login: the transaction between our redirect and the upstream's callback, and what a
 * verified upstream identity may do here (docs/social-login.md has the rules for users).
 *
 * - The transaction is server-side (ephemeral store, 10 minutes), found by the SHA-256 of its
 *   `state`, consumed on first use, and bound to the browser that started it by a random value
 *   in a `__Host-` cookie (SEC-OAUTH-31). It remembers the provider it went to: a callback at
 *   another provider's URL is refused (SEC-OAUTH-32).
 * - Identities are (issuer, subject). A known one signs in its user, whatever email it shows
 *   now. An unknown one whose verified email belongs to an account links only after the owner
 *   proves the account — its password (only when that account's email is confirmed) or a link
 *   mailed to it. An unverified upstream email never links and never creates an account
 *   (SEC-OAUTH-34).
 */

const TRANSACTION_TTL_MS = 10 * 60_000;
const PENDING_LINK_TTL_MS = 15 * 60_000;
/** Linking from /account needs a sign-in this recent: a stolen session cannot add its own way in. */
export const RECENT_AUTH_MS = 15 * 60_000;
const FEDERATED_AMR = 'fed';
/** Each start keeps a transaction for ten minutes: one address cannot pile them up. */
const START_RULE = { name: 'social-start:ip', limit: 60, windowMs: 15 * 60_000 };

interface Transaction {
  provider: string;
  checks: UpstreamChecks;
  mode: 'login' | 'link';
  userId: string | null;
  returnTo: string | null;
  binding: string;
}

interface PendingLink {
  userId: string;
  provider: string;
  issuer: string;
  subject: string;
  email: string;
  upstreamEmail: string;
  tokens: string | null;
  returnTo: string | null;
  binding: string;
  /** SHA-256 of the mailed confirmation token, once one was sent. */
  mailed: string | null;
}

/**
 * A sign-in through a provider: a session, or — for a user with a second factor (or required to
 * have one) — the pending second step of docs/mfa.md, `pendingToken` for the browser's cookie.
 */
export type SocialSignIn =
  | { kind: 'signed-in'; result: SignInResult; returnTo: string | null }
  | { kind: 'second-step'; pendingToken: string; returnTo: string | null };

export type CallbackOutcome =
  | (SocialSignIn & { created: boolean })
  | { kind: 'linked'; provider: Provider }
  | { kind: 'link-required'; pendingToken: string; provider: Provider; email: string; passwordAllowed: boolean };

/** The account page's section on how this user signs in. */
export interface SignInMethodsView {
  hasPassword: boolean;
  identities: { id: string; providerName: string; email: string | null; linkedAt: number }[];
  linkable: { id: string; name: string }[];
  /** Upstream origins the "link" forms redirect to (CSP form-action). */
  formAction: string[];
}

/** What the link page shows. */
export interface PendingLinkView {
  providerName: string;
  email: string;
  passwordAllowed: boolean;
  mailed: boolean;
}

export function createSocialLogin(deps: {
  registry: ProviderRegistry;
  upstream: UpstreamClient;
  identities: IdentityStore;
  users: UserStore;
  oneTimeTokens: OneTimeTokenStore;
  sessions: SessionService;
  login: PasswordLogin;
  audit: AuditLog;
  ephemeral: EphemeralStore;
  mailer: Mailer;
  /** Seals upstream tokens at rest. */
  tokenKey: Buffer;
  publicUrl: string;
  now: () => number;
  onBackgroundError: (error: unknown, what: string) => void;
  /** Every other session of the user ends (used when an email confirmation takes over an unconfirmed account). */
  onTakeover: (userId: string) => Promise<void>;
  limiter: RateLimiter;
  /** The MFA gate the password login uses (docs/mfa.md): between the upstream's answer and the session. */
  secondStep?: SecondStepGate;
}) {
  const { registry, upstream, identities, users, sessions, audit, ephemeral, now } = deps;
  // Each attempt mails at most once, and the address at most RECIPIENT_CAPS['link-identity'] times.
  const cappedMail = createCappedMailer({ mailer: deps.mailer, limiter: deps.limiter, onError: deps.onBackgroundError });

  const txKey = (state: string) => `social:tx:${hashSecret(state)}`;
  const pendingKey = (token: string) => `social:link:${hashSecret(token)}`;

  async function refuse(provider: string, reason: string, error: ApiError, client: ClientInfo, userId: string | null = null): Promise<never> {
    await audit.record({ type: 'sign-in', outcome: 'failure', userId, ip: client.ip, userAgent: client.userAgent, detail: { method: 'social', provider, reason } });
    throw error;
  }

  async function enabledProvider(id: string): Promise<Provider> {
    const provider = await registry.get(id);
    if (!provider || !provider.enabled) throw apiError('not_found', 'There is no such sign-in provider.');
    return provider;
  }

  function sealTokens(profile: UpstreamProfile): string | null {
    return profile.tokens ? seal(deps.tokenKey, JSON.stringify(profile.tokens), `identity-tokens:${profile.issuer}:${profile.subject}`) : null;
  }

  async function newSession(user: User, client: ClientInfo, provider: Provider, methods: string[]): Promise<SignInResult> {
    const { token, session } = await sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent, authMethods: methods });
    await audit.record({ type: 'sign-in', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { method: 'social', provider: provider.id, session_id: session.id } });
    return { token, session, user: sessionUser(user) };
  }

  /** The upstream vouched for the user (first factor, `fed`): the second step when one is due, else the session. */
  async function signInAs(user: User, client: ClientInfo, provider: Provider, methods: string[], returnTo: string | null): Promise<SocialSignIn> {
    try {
      await deps.secondStep?.({ user: { id: user.id, email: user.email, roles: user.roles }, methods, channel: 'cookie' });
    } catch (error) {
      if (error instanceof MfaRequiredError) return { kind: 'second-step', pendingToken: error.pendingToken, returnTo };
      throw error;
    }
    return { kind: 'signed-in', result: await newSession(user, client, provider, methods), returnTo };
  }

  async function linkIdentity(userId: string, provider: Provider, profile: Pick<UpstreamProfile, 'issuer' | 'subject' | 'email' | 'emailVerified'>, sealedTokens: string | null, client: ClientInfo, proof: string): Promise<boolean> {
    const at = now();
    const linked = await identities.link({ id: newId(at), userId, providerId: provider.id, issuer: profile.issuer, subject: profile.subject, email: profile.email, emailVerified: profile.emailVerified, linkedAt: at, lastUsedAt: at }, sealedTokens);
    if (!linked) return false;
    await audit.record({ type: 'identity-linked', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent, detail: { provider: provider.id, proof } });
    return true;
  }

  async function readPending(token: string | undefined, binding: string | undefined): Promise<PendingLink | undefined> {
    if (!token || !binding || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const raw = await ephemeral.get(pendingKey(token));
    if (raw === null) return undefined;
    const pending = JSON.parse(raw) as PendingLink;
    return pending.binding === hashSecret(binding) ? pending : undefined;
  }

  return {
    /** Starts a sign-in (or, for a signed-in user, a link): the upstream URL to redirect to. */
    async start(providerId: string, input: { binding: string; returnTo: string | undefined; linkFor?: { userId: string; authTime: number } }, client: ClientInfo): Promise<URL> {
      const decision = await deps.limiter.hit(START_RULE, clientKey(client.ip));
      if (!decision.allowed) throw tooManyRequests(decision);
      const provider = await enabledProvider(providerId);
      if (input.linkFor && now() - input.linkFor.authTime > RECENT_AUTH_MS) {
        throw apiError('forbidden', 'For your security, sign in again before adding a way to sign in.');
      }
      let begun: Awaited<ReturnType<UpstreamClient['begin']>>;
      try {
        begun = await upstream.begin(provider);
      } catch (error) {
        if (error instanceof UpstreamRefusal) throw error.error;
        throw error;
      }
      const transaction: Transaction = {
        provider: provider.id,
        checks: begun.checks,
        mode: input.linkFor ? 'link' : 'login',
        userId: input.linkFor?.userId ?? null,
        returnTo: input.returnTo ?? null,
        binding: hashSecret(input.binding),
      };
      await ephemeral.set(txKey(begun.checks.state), JSON.stringify(transaction), TRANSACTION_TTL_MS);
      return begun.url;
    },

    /**
     * The upstream's answer at `/login/social/<id>/callback`. Every refusal is audited and throws
     * an ApiError for the page; nothing is created before every check passed.
     */
    async callback(providerId: string, input: { query: string; state: string | undefined; binding: string | undefined }, client: ClientInfo): Promise<CallbackOutcome> {
      const expired = apiError('invalid_request', 'This sign-in attempt has expired or was already used. Start again from the sign-in page.');
      if (input.state === undefined) return refuse(providerId, 'state-missing', expired, client);
      // Consumed before anything else: a callback works once, even when it then fails.
      const raw = await ephemeral.consume(txKey(input.state));
      if (raw === null) return refuse(providerId, 'state-unknown', expired, client);
      const transaction = JSON.parse(raw) as Transaction;
      if (transaction.provider !== providerId) return refuse(providerId, 'provider-mismatch', apiError('invalid_request', 'This sign-in answer came back to the wrong provider. Start again from the sign-in page.'), client);
      if (input.binding === undefined || hashSecret(input.binding) !== transaction.binding) {
        return refuse(providerId, 'browser-mismatch', apiError('invalid_request', 'This sign-in was started in another browser. Start again from the sign-in page in this one.'), client);
      }
      const provider = await registry.get(providerId);
      if (!provider || !provider.enabled) return refuse(providerId, 'provider-gone', apiError('not_found', 'There is no such sign-in provider.'), client);

      let profile: UpstreamProfile;
      try {
        profile = await upstream.finish(provider, input.query, transaction.checks);
      } catch (error) {
        if (error instanceof UpstreamRefusal) return refuse(providerId, error.reason, error.error, client, transaction.userId);
        throw error;
      }
      const known = await identities.find(profile.issuer, profile.subject);

      if (transaction.mode === 'link') {
        const user = transaction.userId === null ? undefined : await users.findById(transaction.userId);
        if (!user || user.disabledAt !== null) return refuse(providerId, 'account-unavailable', apiError('unauthenticated', 'Sign in first.'), client, transaction.userId);
        if (known && known.userId !== user.id) {
          return refuse(providerId, 'identity-linked-elsewhere', apiError('conflict', `This ${provider.name} account is already linked to another account here. Remove it there first.`), client, user.id);
        }
        if (!known && !(await linkIdentity(user.id, provider, profile, sealTokens(profile), client, 'session'))) {
          return refuse(providerId, 'identity-linked-elsewhere', apiError('conflict', `This ${provider.name} account is already linked to another account here.`), client, user.id);
        }
        return { kind: 'linked', provider };
      }

      if (known) {
        const user = await users.findById(known.userId);
        // The same refusal as a wrong password (SEC-ASVS-17): a disabled account is not told apart.
        if (!user || user.disabledAt !== null) return refuse(providerId, 'account-disabled', refusal(provider, 'account-disabled').error, client, known.userId);
        await identities.touch(known.id, now(), profile.email, profile.emailVerified, profile.tokens ? sealTokens(profile) : undefined);
        return { ...(await signInAs(user, client, provider, [FEDERATED_AMR], transaction.returnTo)), created: false };
      }

      const email = profile.email === null ? undefined : normalizeEmail(profile.email);
      if (email === undefined) {
        return refuse(providerId, 'email-missing', apiError('access_denied', `${provider.name} did not share a usable email address. Allow access to your email address there and try again.`), client);
      }
      if (!profile.emailVerified) {
        // Never a link and never a new account on an address nobody proved (SEC-OAUTH-34).
        return refuse(providerId, 'email-unverified', apiError('access_denied', `Your email address at ${provider.name} is not verified. Verify it there first, or sign up with a password.`), client);
      }
      const existing = await users.findByEmail(email);
      if (existing) {
        if (existing.disabledAt !== null) return refuse(providerId, 'account-disabled', refusal(provider, 'account-disabled').error, client, existing.id);
        const pendingToken = randomToken(32);
        const pending: PendingLink = {
          userId: existing.id,
          provider: provider.id,
          issuer: profile.issuer,
          subject: profile.subject,
          email: existing.email,
          upstreamEmail: profile.email ?? email,
          tokens: sealTokens(profile),
          returnTo: transaction.returnTo,
          binding: transaction.binding,
          mailed: null,
        };
        await ephemeral.set(pendingKey(pendingToken), JSON.stringify(pending), PENDING_LINK_TTL_MS);
        return { kind: 'link-required', pendingToken, provider, email: existing.email, passwordAllowed: passwordProofAllowed(existing) };
      }

      const at = now();
      const created = await users.create({ id: newId(at), email, name: profile.name?.trim().slice(0, 200) || null, emailVerifiedAt: at, passwordHash: null, roles: [], createdAt: at, updatedAt: at, disabledAt: null });
      if (!created) return refuse(providerId, 'sign-up-race', apiError('conflict', 'An account for this address was just created. Start again from the sign-in page.'), client);
      await audit.record({ type: 'sign-up', outcome: 'success', userId: created.id, ip: client.ip, userAgent: client.userAgent, detail: { method: 'social', provider: provider.id } });
      await linkIdentity(created.id, provider, profile, sealTokens(profile), client, 'new-account');
      return { ...(await signInAs(created, client, provider, [FEDERATED_AMR], transaction.returnTo)), created: true };
    },

    /** The pending link of this browser, for the link page. */
    async pendingLink(token: string | undefined, binding: string | undefined): Promise<PendingLinkView | undefined> {
      const pending = await readPending(token, binding);
      if (!pending) return undefined;
      const provider = await registry.get(pending.provider);
      const user = await users.findById(pending.userId);
      if (!provider || !user) return undefined;
      return { providerName: provider.name, email: pending.email, passwordAllowed: passwordProofAllowed(user), mailed: pending.mailed !== null };
    },

    /**
     * Proof by password: the normal sign-in (rate limits, lockout, and the second step for a
     * user with MFA: the password proves the link, the session waits for the second factor).
     */
    async linkWithPassword(token: string | undefined, binding: string | undefined, password: string, client: ClientInfo): Promise<SocialSignIn> {
      const pending = await readPending(token, binding);
      if (!pending) throw apiError('invalid_request', 'This linking attempt has expired. Start again from the sign-in page.');
      const user = await users.findById(pending.userId);
      if (!user || !passwordProofAllowed(user)) throw apiError('invalid_request', 'Confirm with the link we email you instead.');
      let result: SignInResult | undefined;
      let secondStep: MfaRequiredError | undefined;
      try {
        result = await deps.login.signIn({ email: pending.email, password }, client);
      } catch (error) {
        if (!(error instanceof MfaRequiredError)) throw error;
        secondStep = error;
      }
      const provider = await enabledProvider(pending.provider);
      await ephemeral.delete(pendingKey(token!));
      const provedUserId = result ? result.user.id : (await users.findByEmail(pending.email))?.id;
      if (provedUserId !== pending.userId || !(await linkIdentity(pending.userId, provider, { issuer: pending.issuer, subject: pending.subject, email: pending.upstreamEmail, emailVerified: true }, pending.tokens, client, 'password'))) {
        if (result) await sessions.revoke(result.session.id, result.user.id);
        // A pending second step (MfaRequiredError) is not handed to the browser: it expires unused.
        throw apiError('conflict', `This ${provider.name} account is already linked to an account here.`);
      }
      return secondStep ? { kind: 'second-step', pendingToken: secondStep.pendingToken, returnTo: pending.returnTo } : { kind: 'signed-in', result: result!, returnTo: pending.returnTo };
    },

    /** Proof by email: a single-use link to the account's address, usable only in this browser. */
    async sendLinkMail(token: string | undefined, binding: string | undefined): Promise<void> {
      const pending = await readPending(token, binding);
      if (!pending) throw apiError('invalid_request', 'This linking attempt has expired. Start again from the sign-in page.');
      if (pending.mailed !== null) return; // one mail per attempt: the page cannot be used to flood an inbox
      const provider = await enabledProvider(pending.provider);
      const mailToken = await deps.oneTimeTokens.issue('link-identity', pending.userId, PENDING_LINK_TTL_MS, now());
      await ephemeral.set(pendingKey(token!), JSON.stringify({ ...pending, mailed: hashSecret(mailToken) }), PENDING_LINK_TTL_MS);
      const mail = linkIdentityMail({ to: pending.email, providerName: provider.name, link: `${deps.publicUrl}/login/social/link/confirm?token=${encodeURIComponent(mailToken)}`, ttlMinutes: PENDING_LINK_TTL_MS / 60_000 });
      await cappedMail.send('link-identity', mail, 'link confirmation mail');
    },

    /** The mailed link, confirmed in the browser that started the attempt. */
    async linkWithMail(token: string | undefined, binding: string | undefined, mailToken: string, client: ClientInfo): Promise<SocialSignIn> {
      const pending = await readPending(token, binding);
      if (!pending || pending.mailed === null || pending.mailed !== hashSecret(mailToken)) {
        throw apiError('invalid_link', 'This link does not belong to a linking attempt in this browser, or it has expired. Open it in the browser where you started, or start again.');
      }
      const userId = await deps.oneTimeTokens.consume(mailToken, 'link-identity', now());
      await ephemeral.delete(pendingKey(token!));
      const user = userId === pending.userId ? await users.findById(userId) : undefined;
      if (!user || user.disabledAt !== null) throw apiError('invalid_link', 'This link has expired or was already used.');
      const provider = await enabledProvider(pending.provider);
      if (!(await linkIdentity(user.id, provider, { issuer: pending.issuer, subject: pending.subject, email: pending.upstreamEmail, emailVerified: true }, pending.tokens, client, 'email'))) {
        throw apiError('conflict', `This ${provider.name} account is already linked to an account here.`);
      }
      let current = user;
      if (user.emailVerifiedAt === null) {
        // Whoever set this account up never proved the address; its owner just did. The password
        // they chose and their sessions end (account pre-hijacking defence).
        await users.clearPassword(user.id, now());
        await users.markEmailVerified(user.id, now());
        await deps.onTakeover(user.id);
        current = { ...user, passwordHash: null, emailVerifiedAt: now() };
      }
      return signInAs(current, client, provider, [FEDERATED_AMR, 'email'], pending.returnTo);
    },

    /** The account page's "ways to sign in": linked identities, providers left to link, the password. */
    async accountView(userId: string): Promise<SignInMethodsView> {
      const [user, linked, providers] = await Promise.all([users.findById(userId), identities.listForUser(userId), registry.list()]);
      const enabled = providers.filter((provider) => provider.enabled);
      return {
        hasPassword: user?.passwordHash !== null && user !== undefined,
        identities: linked.map((identity) => ({
          id: identity.id,
          providerName: providers.find((provider) => provider.id === identity.providerId)?.name ?? identity.providerId,
          email: identity.email,
          linkedAt: identity.linkedAt,
        })),
        linkable: enabled.filter((provider) => !linked.some((identity) => identity.providerId === provider.id)).map((provider) => ({ id: provider.id, name: provider.name })),
        formAction: [...new Set(enabled.map((provider) => upstream.authorizationOrigin(provider)))],
      };
    },

    /** Removes a linked identity — never the last way to sign in. */
    async unlink(userId: string, identityId: string, client: ClientInfo): Promise<void> {
      const [user, linked] = await Promise.all([users.findById(userId), identities.listForUser(userId)]);
      const identity = linked.find((item) => item.id === identityId);
      if (!user || !identity) throw apiError('not_found', 'No such linked account.');
      if (user.passwordHash === null && linked.length <= 1) {
        throw apiError('conflict', 'This is the only way you can sign in. Set a password first (use “Forgot your password?” on the sign-in page), then remove it.');
      }
      if (!(await identities.unlink(userId, identityId))) throw apiError('not_found', 'No such linked account.');
      await audit.record({ type: 'identity-unlinked', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent, detail: { provider: identity.providerId } });
    },

    /** Providers for the /login buttons and the account page, with the origin each one's flow goes to. */
    providers: async (): Promise<{ id: string; name: string; origin: string }[]> =>
      (await registry.enabled()).map((provider) => ({ id: provider.id, name: provider.name, origin: upstream.authorizationOrigin(provider) })),
  };
}

export type SocialLogin = ReturnType<typeof createSocialLogin>;

/** A password only proves an account whose address was confirmed: otherwise anyone could have set it. */
function passwordProofAllowed(user: User): boolean {
  return user.passwordHash !== null && user.emailVerifiedAt !== null;
}

function sessionUser(user: User): SessionUser {
  return { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt !== null, roles: user.roles, disabled: false };
}

