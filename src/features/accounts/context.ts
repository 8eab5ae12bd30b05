import type { Config } from '../../config/schema.ts';
import type { PasswordHasher } from '../../crypto/passwords/hasher.ts';
import type { Mailer } from '../email/mailer.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { RateLimiter } from '../rate-limit/limiter.ts';
import type { Lockout } from '../rate-limit/lockout.ts';
import type { SessionService } from '../sessions/service.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { OneTimeTokenStore, UserStore } from './store.ts';

/** Where a request came from, as recorded in sessions and audit events. */
export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/** What the accounts and password-login features need; built once in createApp. */
export interface AccountsContext {
  config: Pick<
    Config,
    | 'publicUrl'
    | 'passwordMinLength'
    | 'passwordMaxLength'
    | 'requireVerifiedEmail'
    | 'emailVerificationTtlSeconds'
    | 'passwordResetTtlSeconds'
    | 'signInLimitPerIp'
    | 'signUpLimitPerIp'
  >;
  users: UserStore;
  oneTimeTokens: OneTimeTokenStore;
  sessions: SessionService;
  hasher: PasswordHasher;
  mailer: Mailer;
  audit: AuditLog;
  limiter: RateLimiter;
  lockout: Lockout;
  now: () => number;
  /** A password was changed or reset: every token grant of the user is revoked (SEC-SESS-10). */
  onCredentialsChanged?: (userId: string) => Promise<void>;
  /**
   * Change-password of a user with a second factor needs one proved recently: throws 403
   * `mfa_step_up_required` otherwise (MfaService.requireRecentSecondFactor, docs/mfa.md).
   */
  requireRecentSecondFactor?: (record: SessionRecord) => Promise<void>;
  /** Reports failures of fire-and-forget work (mail delivery) without secrets. */
  onBackgroundError: (error: unknown, what: string) => void;
}
