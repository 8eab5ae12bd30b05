import type { Config } from '../../config/schema.ts';
import type { MasterKey } from '../../crypto/master-key.ts';
import type { Database } from '../../storage/sql/database.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { UserStore } from '../accounts/store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Mailer } from '../email/mailer.ts';
import type { SecondStepGate } from '../password-login/service.ts';
import type { RateLimiter } from '../rate-limit/limiter.ts';
import type { Lockout } from '../rate-limit/lockout.ts';
import type { SessionService } from '../sessions/service.ts';
import { createMfaService, type MfaService } from './service.ts';
import { createPasskeys, relyingPartyOf, type Passkeys } from './passkeys.ts';
import { createMfaSignIn, type MfaSignIn } from './sign-in.ts';
import { createSqlMfaStore } from './store.ts';

export interface MfaFeature {
  service: MfaService;
  signIn: MfaSignIn;
  /** WebAuthn ceremonies (RP ID and origin from the public URL). */
  passkeys: Passkeys;
  /** For createPasswordLogin (and social sign-in): the second step between first factor and session. */
  gate: SecondStepGate;
}

/** Builds the MFA feature from createApp's parts (no I/O). */
export function createMfaFeature(deps: {
  config: Pick<Config, 'mfaRequiredForAll' | 'mfaRequiredRoles' | 'signInLimitPerIp' | 'publicUrl'>;
  database: Database;
  ephemeral: EphemeralStore;
  masterKey: MasterKey;
  users: UserStore;
  sessions: SessionService;
  audit: AuditLog;
  mailer: Mailer;
  limiter: RateLimiter;
  lockout: Lockout;
  now: () => number;
  onBackgroundError: (error: unknown, what: string) => void;
  trustDevice: (presented: string | undefined, account: { email: string; passwordHash: string | null }) => string;
  onSessionReplaced?: (oldSessionId: string, newSessionId: string) => Promise<void>;
}): MfaFeature {
  const store = createSqlMfaStore(deps.database.db);
  const passkeys = createPasskeys({ store, ephemeral: deps.ephemeral, rp: relyingPartyOf(deps.config.publicUrl) });
  const service = createMfaService({
    store,
    ephemeral: deps.ephemeral,
    passkeys,
    sealKey: deps.masterKey.derive('mfa-totp-secrets'),
    users: deps.users,
    audit: deps.audit,
    mailer: deps.mailer,
    limiter: deps.limiter,
    lockout: deps.lockout,
    config: deps.config,
    issuerName: `Gatehouse (${new URL(deps.config.publicUrl).host})`,
    now: deps.now,
    onBackgroundError: deps.onBackgroundError,
  });
  const signIn = createMfaSignIn({ mfa: service, sessions: deps.sessions, users: deps.users, audit: deps.audit, trustDevice: deps.trustDevice, now: deps.now, ...(deps.onSessionReplaced ? { onSessionReplaced: deps.onSessionReplaced } : {}) });
  return { service, signIn, passkeys, gate: (input) => service.gate(input) };
}
