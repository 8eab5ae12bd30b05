import { apiError, type ApiError } from '../../errors/catalog.ts';
import { tooManyRequests } from '../rate-limit/limiter.ts';
import { clientKey } from '../rate-limit/client-key.ts';
import { normalizeEmail } from '../accounts/email-address.ts';
import { normalizePassword } from '../../crypto/passwords/hasher.ts';
import type { AccountsContext, ClientInfo } from '../accounts/context.ts';
import type { Session, SessionUser } from '../sessions/store.ts';
import { lockoutMail } from '../email/templates.ts';
import { createDeviceCookies } from './device-cookie.ts';
import { createCappedMailer } from '../email/recipient-caps.ts';

const FIFTEEN_MINUTES = 900_000;

export interface SignInResult {
  token: string;
  session: Session;
  user: SessionUser;
}

/** A password sign-in also renews the device cookie / token of the device (SEC-PWD-14). */
export interface PasswordSignInResult extends SignInResult {
  /** The new device value: the `__Host-gatehouse-device` cookie, or `device_token` for apps. */
  device: string;
}

export interface SignInOptions {
  sessionLifetimeMs?: number;
  /** The device cookie (or app device token) presented with the attempt, unverified. */
  device?: string | undefined;
}

/** The one failure every unsuccessful sign-in gets: unknown account, wrong password, disabled. */
function invalidCredentials(): ApiError {
  return apiError('invalid_credentials', 'Email or password is incorrect.');
}

/**
 * Password sign-in. Order matters:
 * 1. per-IP limit (IPv6 by /64) — a sprayer is cut off whatever accounts it tries;
 * 2. lockout, reserved atomically before hashing, so N parallel attempts can never exceed the
 *    threshold. A device cookie valid for the typed login (SEC-PWD-14) selects that device's own
 *    budget; anything else — no cookie, a forged one, one for another account — shares the
 *    account's budget for untrusted devices, keyed by the normalised address so unknown
 *    accounts lock exactly like real ones (no enumeration);
 * 3. the hash check — against a real hash, or a dummy of the same cost for unknown accounts.
 */
export function createPasswordLogin(context: AccountsContext, options: { deviceKey: Buffer }) {
  const { config, users, sessions, hasher, audit, limiter, lockout, now } = context;
  const ipRule = { name: 'sign-in:ip', limit: config.signInLimitPerIp, windowMs: FIFTEEN_MINUTES };
  const devices = createDeviceCookies(options.deviceKey);
  // The owner hears about a lockout at most RECIPIENT_CAPS.lockout times (all instances).
  const capped = createCappedMailer({ mailer: context.mailer, limiter, onError: context.onBackgroundError });

  /**
   * SEC-PWD-14 / SEC-PWD-17: tells the owner once that sign-in was paused. In the background,
   * so the refusal takes the same time and says the same thing whether or not the account
   * exists; the daily cap is in the shared store, so N instances still send one mail.
   */
  function notifyOwner(email: string, retryAfterSeconds: number, client: ClientInfo): void {
    void (async () => {
      const user = await users.findByEmail(email);
      if (!user || user.disabledAt !== null) return;
      if (!(await capped.send('lockout', lockoutMail({ to: user.email, waitMinutes: Math.ceil(retryAfterSeconds / 60) }), 'lockout mail'))) return;
      await audit.record({ type: 'lockout', outcome: 'failure', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { retry_after_seconds: retryAfterSeconds, owner_notified: true } });
    })().catch((error: unknown) => context.onBackgroundError(error, 'lockout mail'));
  }

  return {
    /**
     * The device value to hand to a client that just proved possession of the account by a
     * password reset: it becomes a trusted device for `email` (SEC-PWD-14).
     */
    trustDevice(presented: string | undefined, email: string): string {
      return devices.issue(presented, normalizeEmail(email) ?? email);
    },

    async signIn(input: { email: string; password: string }, client: ClientInfo, options: SignInOptions = {}): Promise<PasswordSignInResult> {
      const ipDecision = await limiter.hit(ipRule, clientKey(client.ip));
      if (!ipDecision.allowed) throw tooManyRequests(ipDecision);

      const email = normalizeEmail(input.email);
      const accountKey = email ?? `invalid:${input.email.slice(0, 320)}`;
      const device = devices.trustedNonce(options.device, accountKey);
      const gate = await lockout.begin(accountKey, device);
      if (!gate.allowed) {
        await audit.record({ type: 'lockout', outcome: 'failure', userId: null, ip: client.ip, userAgent: client.userAgent, detail: { retry_after_seconds: gate.retryAfterSeconds, trusted_device: device !== undefined } });
        // The untrusted lock is the one others can cause; a trusted device locks only itself.
        if (gate.engaged && device === undefined && email !== undefined) notifyOwner(email, gate.retryAfterSeconds, client);
        throw tooManyRequests({ allowed: false, count: 0, retryAfterSeconds: gate.retryAfterSeconds });
      }

      // Over-long or malformed passwords are refused without hashing (SEC-PWD-02) with the same failure.
      const tooLong = !input.password.isWellFormed() || [...normalizePassword(input.password)].length > config.passwordMaxLength;
      const user = email === undefined ? undefined : await users.findByEmail(email);
      let ok = false;
      let needsRehash = false;
      if (!tooLong) {
        if (user?.passwordHash) {
          ({ ok, needsRehash } = await hasher.verify(user.passwordHash, input.password));
        } else {
          await hasher.verifyDummy(input.password);
        }
      }
      if (!ok || !user || user.disabledAt !== null) {
        await audit.record({ type: 'sign-in', outcome: 'failure', userId: user?.id ?? null, ip: client.ip, userAgent: client.userAgent, detail: { method: 'password' } });
        throw invalidCredentials();
      }
      await lockout.succeeded(accountKey, device);
      if (needsRehash) {
        // Parameters changed or an imported hash: upgrade to argon2id at the current cost.
        await users.upgradePasswordHash(user.id, user.passwordHash!, await hasher.hash(input.password), now());
      }
      if (config.requireVerifiedEmail && user.emailVerifiedAt === null) {
        throw apiError('email_not_verified', 'Verify your email address first: follow the link we sent you.');
      }
      const { token, session } = await sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent, authMethods: ['pwd'], ...(options.sessionLifetimeMs !== undefined ? { lifetimeMs: options.sessionLifetimeMs } : {}) });
      await audit.record({ type: 'sign-in', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { method: 'password', session_id: session.id, trusted_device: device !== undefined } });
      return {
        token,
        session,
        // A fresh nonce at every success (OWASP): the device's previous entry stops counting.
        device: devices.issue(options.device, accountKey),
        user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt !== null, roles: user.roles, disabled: false },
      };
    },
  };
}

export type PasswordLogin = ReturnType<typeof createPasswordLogin>;
