import { apiError } from '../../../errors/catalog.ts';
import type { PasswordHasher } from '../../../crypto/passwords/hasher.ts';
import { tooManyRequests, type RateLimiter } from '../../rate-limit/limiter.ts';
import { ACCOUNT_FAILURES, type Lockout } from '../../rate-limit/lockout.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { SessionRecord } from '../../sessions/store.ts';
import type { ClientInfo } from '../context.ts';
import type { UserStore } from '../store.ts';

/** A sign-in this recent counts as proof for a sensitive change without the password again. */
export const RECENT_AUTHENTICATION_MS = 5 * 60_000;

export interface RecentAuthDeps {
  users: UserStore;
  hasher: PasswordHasher;
  lockout: Lockout;
  limiter: RateLimiter;
  audit: AuditLog;
  now: () => number;
  /** MFA users need a recent second factor, as for change-password (403 mfa_step_up_required). */
  requireRecentSecondFactor: (record: SessionRecord) => Promise<void>;
}

/**
 * The gate before changing the address or deleting the account: a recent second factor for
 * users who have one (exactly as change-password), then either a sign-in within the last few
 * minutes or the current password again — counted against the same per-session budget and
 * account ceiling as change-password (SEC-PWD-14, SEC-PWD-08).
 */
export async function requireRecentAuthentication(deps: RecentAuthDeps, record: SessionRecord, password: string | undefined, client: ClientInfo, action: string): Promise<void> {
  await deps.requireRecentSecondFactor(record);
  if (password === undefined || password === '') {
    if (deps.now() - record.session.authTime <= RECENT_AUTHENTICATION_MS) return;
    throw apiError('forbidden', 'Confirm with your current password (or sign in again) first.', { detail: 'recent authentication required' });
  }
  // ONE per-session budget with change-password (accounts/service.ts `change-password:<sid>`, not
  // exported there, so the same literal): a stolen session gets no extra guesses by switching form.
  const budget = `change-password:${record.session.id}`;
  const gate = await deps.lockout.begin(budget);
  if (!gate.allowed) throw tooManyRequests({ allowed: false, count: 0, retryAfterSeconds: gate.retryAfterSeconds });
  const ceiling = await deps.limiter.peek(ACCOUNT_FAILURES, record.user.email);
  if (!ceiling.allowed) throw tooManyRequests(ceiling);
  const user = await deps.users.findById(record.user.id);
  // No password on the account (social sign-in only): the same hashing work, then a refusal.
  const ok = user?.passwordHash ? (await deps.hasher.verify(user.passwordHash, password)).ok : (await deps.hasher.verifyDummy(password), false);
  if (!ok) {
    await deps.limiter.hit(ACCOUNT_FAILURES, record.user.email);
    await deps.audit.record({ type: 'password-change', outcome: 'failure', userId: record.user.id, ip: client.ip, userAgent: client.userAgent, detail: { reason: 'wrong current password', during: action } });
    throw apiError('invalid_credentials', 'The current password is incorrect.');
  }
  await deps.lockout.succeeded(budget);
}
