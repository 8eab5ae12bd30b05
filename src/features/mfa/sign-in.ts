import { apiError } from '../../errors/catalog.ts';
import type { ClientInfo } from '../accounts/context.ts';
import type { UserStore } from '../accounts/store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { SignInResult } from '../password-login/service.ts';
import type { SessionService } from '../sessions/service.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { pendingBinding } from './passkeys.ts';
import type { PendingSignIn } from './pending.ts';
import type { MfaService, SecondFactorInput, TotpEnrolment } from './service.ts';

export interface CompletedSignIn extends SignInResult {
  /** The renewed device cookie / device token (SEC-PWD-14), issued only now that both factors passed. */
  device: string;
  /** Recovery codes when the second step was the first enrolment: shown once. */
  recoveryCodes?: string[] | undefined;
}

function amrWith(first: readonly string[], added: readonly string[]): string[] {
  return [...new Set([...first, ...added, 'mfa'])];
}

/**
 * The second step of a sign-in and step-up of a signed-in session. Either ends in a NEW
 * session (SEC-SESS-02: new id on privilege change) whose `amr` records every factor.
 */
export function createMfaSignIn(deps: {
  mfa: MfaService;
  sessions: SessionService;
  users: UserStore;
  audit: AuditLog;
  /** PasswordLogin.trustDevice: the device value after a complete sign-in. */
  trustDevice: (presented: string | undefined, account: { email: string; passwordHash: string | null }) => string;
  /** Tokens bound to the old session move to the new one (it is the same user signing in again). */
  onSessionReplaced?: (oldSessionId: string, newSessionId: string) => Promise<void>;
  now: () => number;
}) {
  const { mfa, sessions, audit } = deps;

  async function pendingFor(token: string | undefined, channel: string): Promise<PendingSignIn> {
    const pending = await mfa.pending.read(token, channel);
    if (!pending) throw apiError('unauthenticated', 'This sign-in has expired. Sign in again.');
    return pending;
  }

  async function finish(token: string, pending: PendingSignIn, added: string[], client: ClientInfo, recoveryCodes?: string[]): Promise<CompletedSignIn> {
    // Consumed once: of two completions racing (two tabs, two instances), one wins.
    if (!(await mfa.pending.consume(token))) throw apiError('unauthenticated', 'This sign-in was already completed or has expired. Sign in again.');
    const user = await deps.users.findById(pending.userId);
    if (!user || user.disabledAt !== null) throw apiError('unauthenticated', 'This sign-in has expired. Sign in again.');
    const methods = amrWith(pending.methods, added);
    const { token: sessionToken, session } = await sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent, authMethods: methods, ...(pending.sessionLifetimeMs !== undefined ? { lifetimeMs: pending.sessionLifetimeMs } : {}) });
    await audit.record({ type: 'sign-in', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { method: methods.join(' '), session_id: session.id } });
    return {
      token: sessionToken,
      session,
      user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt !== null, roles: user.roles, disabled: false },
      device: deps.trustDevice(pending.presentedDevice, user),
      ...(recoveryCodes ? { recoveryCodes } : {}),
    };
  }

  return {
    /** What the second-step page shows: which factors, or an enrolment. */
    async describe(token: string | undefined, channel: string): Promise<{ enrol: boolean; userId: string; email: string; methods: string[] } | undefined> {
      const pending = await mfa.pending.read(token, channel);
      if (!pending) return undefined;
      const { factors, recoveryCodesRemaining } = await mfa.factors(pending.userId);
      const methods = [...new Set(factors.map((factor) => factor.kind as string))];
      if (recoveryCodesRemaining > 0) methods.push('recovery_code');
      return { enrol: pending.enrol, userId: pending.userId, email: pending.email, methods };
    },

    /** The second factor of a pending sign-in. */
    async complete(token: string | undefined, channel: string, input: SecondFactorInput, client: ClientInfo): Promise<CompletedSignIn> {
      const pending = await pendingFor(token, channel);
      if (pending.enrol) throw apiError('invalid_request', 'Set up a second factor first.');
      const { methods } = await mfa.verify(pending, input, client);
      return finish(token!, pending, methods, client);
    },

    /** Policy requires a factor and the user has none: the enrolment of a pending sign-in. */
    async startEnrolment(token: string | undefined, channel: string): Promise<TotpEnrolment> {
      const pending = await pendingFor(token, channel);
      if (!pending.enrol) throw apiError('invalid_request', 'This account already has a second factor.');
      return mfa.startTotp(pending.userId, pending.email);
    },

    /** Confirming the new authenticator's first code is the second factor of this sign-in. */
    async completeEnrolment(token: string | undefined, channel: string, input: { enrolmentId: string; code: string; name?: string | undefined }, client: ClientInfo): Promise<CompletedSignIn> {
      const pending = await pendingFor(token, channel);
      if (!pending.enrol) throw apiError('invalid_request', 'This account already has a second factor.');
      const { recoveryCodes } = await mfa.confirmTotp(pending.userId, pending.email, input, client);
      return finish(token!, pending, ['otp'], client, recoveryCodes);
    },

    /**
     * Required enrolment with a passkey: the registration options for the pending sign-in's user,
     * the challenge bound to the pending sign-in itself (its cookie or mfa_token; there is no session yet).
     */
    async startPasskeyEnrolment(token: string | undefined, channel: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const pending = await pendingFor(token, channel);
      if (!pending.enrol) throw apiError('invalid_request', 'This account already has a second factor.');
      const user = await deps.users.findById(pending.userId);
      if (!user || user.disabledAt !== null) throw apiError('unauthenticated', 'This sign-in has expired. Sign in again.');
      return mfa.passkeys.registrationOptions({ id: user.id, email: user.email, name: user.name }, pendingBinding(token)!);
    },

    /** The new passkey's registration answer is the second factor of this sign-in (amr: hwk|swk, + user with UV). */
    async completePasskeyEnrolment(token: string | undefined, channel: string, input: { credential: string; name?: string | undefined }, client: ClientInfo): Promise<CompletedSignIn> {
      const pending = await pendingFor(token, channel);
      if (!pending.enrol) throw apiError('invalid_request', 'This account already has a second factor.');
      const { recoveryCodes, methods } = await mfa.addPasskey({ id: pending.userId, email: pending.email }, { credential: input.credential, binding: pendingBinding(token), name: input.name }, client);
      return finish(token!, pending, methods, client, recoveryCodes);
    },

    /** Passwordless sign-in with a discoverable passkey (docs/mfa.md): a new session, `amr` hwk|swk + user + mfa. */
    async passwordless(input: { credential: string; binding: string | undefined; presentedDevice?: string | undefined; sessionLifetimeMs?: number | undefined }, client: ClientInfo): Promise<CompletedSignIn> {
      const { userId, methods } = await mfa.passwordless(input, client);
      const user = await deps.users.findById(userId);
      if (!user || user.disabledAt !== null) throw apiError('invalid_credentials', 'That passkey could not be verified.');
      const { token, session } = await sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent, authMethods: methods, ...(input.sessionLifetimeMs !== undefined ? { lifetimeMs: input.sessionLifetimeMs } : {}) });
      await audit.record({ type: 'sign-in', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { method: methods.join(' '), session_id: session.id, mode: 'passwordless' } });
      return {
        token,
        session,
        user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt !== null, roles: user.roles, disabled: false },
        device: deps.trustDevice(input.presentedDevice, user),
      };
    },

    /**
     * Step-up of a signed-in session (acr_values, sensitive actions): a new session with the
     * added factor in `amr` and `auth_time` now; the old session ends, its grants move over.
     */
    async stepUp(record: SessionRecord, input: SecondFactorInput, client: ClientInfo): Promise<{ token: string; record: SessionRecord }> {
      const { methods } = await mfa.verify({ userId: record.user.id, email: record.user.email }, input, client);
      const authMethods = amrWith(record.session.authMethods, methods);
      // The new session keeps the old one's absolute end (SEC-SESS-07).
      const lifetimeMs = Math.max(1000, record.session.expiresAt - deps.now());
      const { token, session } = await sessions.create(record.user.id, { ip: client.ip, userAgent: client.userAgent, authMethods, lifetimeMs });
      await deps.onSessionReplaced?.(record.session.id, session.id);
      await sessions.revoke(record.session.id, record.user.id);
      await audit.record({ type: 'sign-in', outcome: 'success', userId: record.user.id, ip: client.ip, userAgent: client.userAgent, detail: { method: authMethods.join(' '), session_id: session.id, step_up: true } });
      return { token, record: { user: record.user, session } };
    },
  };
}

export type MfaSignIn = ReturnType<typeof createMfaSignIn>;
