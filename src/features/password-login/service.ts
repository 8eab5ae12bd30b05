import { apiError, type ApiError } from '../../errors/catalog.ts';
import { tooManyRequests } from '../rate-limit/limiter.ts';
import { clientKey } from '../rate-limit/client-key.ts';
import { normalizeEmail } from '../accounts/email-address.ts';
import { normalizePassword } from '../../crypto/passwords/hasher.ts';
import type { AccountsContext, ClientInfo } from '../accounts/context.ts';
import type { Session, SessionUser } from '../sessions/store.ts';

const FIFTEEN_MINUTES = 900_000;

export interface SignInResult {
  token: string;
  session: Session;
  user: SessionUser;
}

/** The one failure every unsuccessful sign-in gets: unknown account, wrong password, disabled. */
function invalidCredentials(): ApiError {
  return apiError('invalid_credentials', 'Email or password is incorrect.');
}

/**
 * Password sign-in. Order matters:
 * 1. per-IP limit (IPv6 by /64) — a sprayer is cut off whatever accounts it tries;
 * 2. per-account lockout, keyed by the normalised address so unknown accounts lock exactly like
 *    real ones (no enumeration) and reserved atomically before hashing, so N parallel attempts
 *    can never exceed the threshold;
 * 3. the hash check — against a real hash, or a dummy of the same cost for unknown accounts.
 */
export function createPasswordLogin(context: AccountsContext) {
  const { config, users, sessions, hasher, audit, limiter, lockout, now } = context;
  const ipRule = { name: 'sign-in:ip', limit: config.signInLimitPerIp, windowMs: FIFTEEN_MINUTES };

  return {
    async signIn(input: { email: string; password: string }, client: ClientInfo, options: { sessionLifetimeMs?: number } = {}): Promise<SignInResult> {
      const ipDecision = await limiter.hit(ipRule, clientKey(client.ip));
      if (!ipDecision.allowed) throw tooManyRequests(ipDecision);

      const email = normalizeEmail(input.email);
      const accountKey = email ?? `invalid:${input.email.slice(0, 320)}`;
      const gate = await lockout.begin(accountKey);
      if (!gate.allowed) {
        await audit.record({ type: 'lockout', outcome: 'failure', userId: null, ip: client.ip, userAgent: client.userAgent, detail: { retry_after_seconds: gate.retryAfterSeconds } });
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
      await lockout.succeeded(accountKey);
      if (needsRehash) {
        // Parameters changed or an imported hash: upgrade to argon2id at the current cost.
        await users.upgradePasswordHash(user.id, user.passwordHash!, await hasher.hash(input.password), now());
      }
      if (config.requireVerifiedEmail && user.emailVerifiedAt === null) {
        throw apiError('email_not_verified', 'Verify your email address first: follow the link we sent you.');
      }
      const { token, session } = await sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent, authMethods: ['pwd'], ...(options.sessionLifetimeMs !== undefined ? { lifetimeMs: options.sessionLifetimeMs } : {}) });
      await audit.record({ type: 'sign-in', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { method: 'password', session_id: session.id } });
      return {
        token,
        session,
        user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt !== null, roles: user.roles, disabled: false },
      };
    },
  };
}

export type PasswordLogin = ReturnType<typeof createPasswordLogin>;
