import { apiError, type ApiError } from '../../errors/catalog.ts';
import { tooManyRequests } from '../rate-limit/limiter.ts';
import { clientKey } from '../rate-limit/client-key.ts';
import { normalizeEmail } from '../accounts/email-address.ts';
import { normalizePassword } from '../../crypto/passwords/hasher.ts';
import type { AccountsContext, ClientInfo } from '../accounts/context.ts';
import type { Session, SessionUser } from '../sessions/store.ts';
import { lockoutMail } from '../email/templates.ts';
import { createDeviceCookies, credentialEpoch } from './device-cookie.ts';
import { createCappedMailer } from '../email/recipient-caps.ts';
import { ACCOUNT_FAILURES } from '../rate-limit/lockout.ts';

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
  /** Who may finish a second step (`cookie`, or `client:<id>` for token sign-in); default `cookie`. */
  secondStepChannel?: string;
}

/**
 * Runs after the password and before the session: throws (MfaRequiredError, src/features/mfa)
 * when the user must complete a second factor first. The device cookie is renewed only then.
 */
export type SecondStepGate = (input: { user: { id: string; email: string; roles: readonly string[] }; methods: string[]; channel: string; presentedDevice?: string | undefined; trustedDeviceNonce?: string | undefined; sessionLifetimeMs?: number | undefined }) => Promise<void>;

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
export function createPasswordLogin(context: AccountsContext, options: { deviceKey: Buffer; secondStep?: SecondStepGate }) {
  const secondStep = options.secondStep;
  const { config, users, sessions, hasher, audit, limiter, lockout, now } = context;
  const ipRule = { name: 'sign-in:ip', limit: config.signInLimitPerIp, windowMs: FIFTEEN_MINUTES };
  const devices = createDeviceCookies(options.deviceKey, now);
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
    trustDevice(presented: string | undefined, account: { email: string; passwordHash: string | null }): string {
      return devices.issue(presented, { login: normalizeEmail(account.email) ?? account.email, epoch: credentialEpoch(account.passwordHash) });
    },

    async signIn(input: { email: string; password: string }, client: ClientInfo, options: SignInOptions = {}): Promise<PasswordSignInResult> {
      const ipDecision = await limiter.hit(ipRule, clientKey(client.ip));
      if (!ipDecision.allowed) throw tooManyRequests(ipDecision);

      const email = normalizeEmail(input.email);
      const accountKey = email ?? `invalid:${input.email.slice(0, 320)}`;
      // Looked up first for every attempt (unknown accounts too): a device entry is valid only for
      // the account's current credentials. No entry can be valid for an account that does not exist.
      const user = email === undefined ? undefined : await users.findByEmail(email);
      const device = devices.trustedNonce(options.device, { login: accountKey, epoch: credentialEpoch(user?.passwordHash ?? null) });
      // Shed load before anything is counted: a 503 for a full hash queue must not use up a lockout attempt.
      hasher.checkCapacity();
      const gate = await lockout.begin(accountKey, device);
      if (!gate.allowed) {
        await audit.record({ type: 'lockout', outcome: 'failure', userId: null, ip: client.ip, userAgent: client.userAgent, detail: { retry_after_seconds: gate.retryAfterSeconds, trusted_device: device !== undefined } });
        // The untrusted lock is the one others can cause; a trusted device locks only itself.
        if (gate.engaged && device === undefined && email !== undefined) notifyOwner(email, gate.retryAfterSeconds, client);
        throw tooManyRequests({ allowed: false, count: 0, retryAfterSeconds: gate.retryAfterSeconds });
      }

      // SEC-PWD-11: however the budgets above are split (untrusted devices, each trusted device,
      // each session's password change), the account takes at most ACCOUNT_FAILURES per hour.
      const ceiling = await limiter.peek(ACCOUNT_FAILURES, accountKey);
      if (!ceiling.allowed) throw tooManyRequests(ceiling);

      // Over-long or malformed passwords are refused without hashing (SEC-PWD-02) with the same failure.
      const tooLong = !input.password.isWellFormed() || [...normalizePassword(input.password)].length > config.passwordMaxLength;
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
        await limiter.hit(ACCOUNT_FAILURES, accountKey);
        await audit.record({ type: 'sign-in', outcome: 'failure', userId: user?.id ?? null, ip: client.ip, userAgent: client.userAgent, detail: { method: 'password' } });
        throw invalidCredentials();
      }
      await lockout.succeeded(accountKey, device);
      let passwordHash = user.passwordHash;
      if (needsRehash) {
        // Parameters changed or an imported hash: upgrade to argon2id at the current cost. (The
        // credential epoch moves with it: this device is re-trusted below, others sign in once more.)
        passwordHash = await hasher.hash(input.password);
        await users.upgradePasswordHash(user.id, user.passwordHash!, passwordHash, now());
      }
      if (config.requireVerifiedEmail && user.emailVerifiedAt === null) {
        throw apiError('email_not_verified', 'Verify your email address first: follow the link we sent you.');
      }
      await secondStep?.({ user, methods: ['pwd'], channel: options.secondStepChannel ?? 'cookie', presentedDevice: options.device, trustedDeviceNonce: device, sessionLifetimeMs: options.sessionLifetimeMs });
      const { token, session } = await sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent, authMethods: ['pwd'], ...(options.sessionLifetimeMs !== undefined ? { lifetimeMs: options.sessionLifetimeMs } : {}) });
      await audit.record({ type: 'sign-in', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { method: 'password', session_id: session.id, trusted_device: device !== undefined } });
      return {
        token,
        session,
        // A fresh nonce at every success (OWASP): the device's previous entry stops counting.
        device: devices.issue(options.device, { login: accountKey, epoch: credentialEpoch(passwordHash) }),
        user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt !== null, roles: user.roles, disabled: false },
      };
    },
  };
}

export type PasswordLogin = ReturnType<typeof createPasswordLogin>;
