import { apiError } from '../../errors/catalog.ts';
import { newId } from '../../crypto/random.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientInfo } from '../accounts/context.ts';
import type { UserStore } from '../accounts/store.ts';
import { normalizeEmail } from '../accounts/email-address.ts';
import type { Mailer } from '../email/mailer.ts';
import type { RateLimiter } from '../rate-limit/limiter.ts';
import { tooManyRequests } from '../rate-limit/limiter.ts';
import type { Lockout } from '../rate-limit/lockout.ts';
import { clientKey } from '../rate-limit/client-key.ts';
import { MfaRequiredError } from './errors.ts';
import { factorChangeMail, type FactorChange } from './mails.ts';
import { createPendingStore, PENDING_TTL_MS, type PendingSignIn } from './pending.ts';
import { mfaRequiredFor, recentSecondFactor, type MfaPolicyConfig } from './policy.ts';
import { parseCredential, passkeyMethods, type Passkeys } from './passkeys.ts';
import { resetAllFactors } from './reset.ts';
import { generateRecoveryCodes, hashRecoveryCode } from './recovery-codes.ts';
import type { Factor, MfaStore } from './store.ts';
import { matchTotp, TOTP_STEP_SECONDS, TOTP_SKEW_STEPS } from './totp.ts';
import { createTotpEnrolments, type TotpEnrolment } from './totp-enrolment.ts';

export type { TotpEnrolment } from './totp-enrolment.ts';

export interface FactorView {
  id: string;
  kind: Factor['kind'];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** What a second factor adds to the session's `amr` (RFC 8176). */
export type SecondFactorInput =
  | { method: 'totp'; code: string }
  | { method: 'recovery_code'; code: string }
  /** `credential`: the browser's AuthenticationResponseJSON, as text; `binding`: the ceremony cookie. */
  | { method: 'passkey'; credential: string; binding: string | undefined };

/** The factors typed as a code (the JSON API's second step). */
export type CodeFactorInput = Extract<SecondFactorInput, { code: string }>;

/** Who is proving a second factor: a pending sign-in or a signed-in user stepping up. */
export interface Subject {
  userId: string;
  email: string;
  trustedDeviceNonce?: string | undefined;
}

const FIFTEEN_MINUTES = 15 * 60_000;
const MAX_FACTORS = 10;
const MAX_NAME = 64;

/**
 * Second factors: TOTP enrolment and verification, recovery codes, the policy gate that turns a
 * first-factor success into a pending sign-in, and the operator reset (docs/mfa.md).
 */
export function createMfaService(deps: {
  store: MfaStore;
  ephemeral: EphemeralStore;
  passkeys: Passkeys;
  /** masterKey.derive('mfa-totp-secrets'): TOTP secrets are sealed at rest. */
  sealKey: Buffer;
  users: UserStore;
  audit: AuditLog;
  mailer: Mailer;
  limiter: RateLimiter;
  lockout: Lockout;
  config: MfaPolicyConfig & { signInLimitPerIp: number };
  /** Label in authenticator apps. */
  issuerName: string;
  now: () => number;
  onBackgroundError: (error: unknown, what: string) => void;
}) {
  const { store, ephemeral, audit, now } = deps;
  const pending = createPendingStore(ephemeral);
  const ipRule = { name: 'mfa:ip', limit: deps.config.signInLimitPerIp, windowMs: FIFTEEN_MINUTES };
  const enrolRule = { name: 'mfa:enrol', limit: 10, windowMs: FIFTEEN_MINUTES };
  const enrolments = createTotpEnrolments({ ephemeral, sealKey: deps.sealKey, issuerName: deps.issuerName });
  const secretContext = (factorId: string) => `mfa-totp:${factorId}`;

  function notify(email: string, change: FactorChange, name?: string): void {
    void deps.mailer.send(factorChangeMail({ to: email, change, name })).catch((error: unknown) => deps.onBackgroundError(error, 'mfa notification mail'));
  }

  /** WebAuthn §6.1.1: a signature counter that went back means a cloned authenticator; refused and audited. */
  async function auditClone(factor: Factor | undefined, client: ClientInfo): Promise<void> {
    if (!factor) return;
    await audit.record({ type: 'mfa-challenge', outcome: 'failure', userId: factor.userId, ip: client.ip, userAgent: client.userAgent, detail: { method: 'passkey', factor_id: factor.id, reason: 'cloned authenticator (signature counter went back)' } });
  }

  function view(factor: Factor): FactorView {
    return { id: factor.id, kind: factor.kind, name: factor.name, createdAt: factor.createdAt, lastUsedAt: factor.lastUsedAt };
  }

  function cleanName(name: string | undefined, fallback: string): string {
    const clean = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME);
    return clean === '' ? fallback : clean;
  }

  async function methodsOf(userId: string): Promise<string[]> {
    const factors = await store.listFactors(userId);
    const methods = new Set<string>(factors.map((factor) => factor.kind));
    if (methods.size > 0 && (await store.remainingRecoveryCodes(userId)) > 0) methods.add('recovery_code');
    return [...methods];
  }

  async function newRecoveryCodes(userId: string): Promise<string[]> {
    const codes = generateRecoveryCodes();
    await store.replaceRecoveryCodes(userId, codes.map(hashRecoveryCode), now());
    return codes;
  }

  /** TOTP: the step of a matching code of any of the user's authenticators, refused once used (any instance). */
  async function verifyTotp(userId: string, code: string): Promise<Factor | undefined> {
    const at = now();
    for (const factor of await store.listFactors(userId)) {
      if (factor.kind !== 'totp' || !factor.secretSealed) continue;
      const secret = Buffer.from(open(deps.sealKey, factor.secretSealed, secretContext(factor.id)), 'base64url');
      const step = matchTotp(secret, code, at);
      if (step === undefined) continue;
      // SEC-ASVS-09: a code accepted once is refused for the rest of its validity, on every instance.
      const fresh = await ephemeral.setIfAbsent(`mfa:totp-used:${factor.id}:${step}`, '1', (2 * TOTP_SKEW_STEPS + 2) * TOTP_STEP_SECONDS * 1000);
      return fresh ? factor : undefined;
    }
    return undefined;
  }

  return {
    pending,
    /** The WebAuthn ceremonies, for the JSON API's options endpoints (the pages get them from the feature). */
    passkeys: deps.passkeys,

    async factors(userId: string): Promise<{ factors: FactorView[]; recoveryCodesRemaining: number }> {
      const factors = await store.listFactors(userId);
      return { factors: factors.map(view), recoveryCodesRemaining: await store.remainingRecoveryCodes(userId) };
    },

    async hasFactors(userId: string): Promise<boolean> {
      return (await store.listFactors(userId)).length > 0;
    },

    /**
     * Sensitive account actions (factor changes, change-password): a user with a factor must have
     * proved one in the last 15 minutes, else 403 `mfa_step_up_required` (docs/mfa.md).
     */
    async requireRecentSecondFactor(record: { user: { id: string }; session: { authMethods: readonly string[]; authTime: number } }): Promise<void> {
      if (!recentSecondFactor(record.session, now()) && (await store.listFactors(record.user.id)).length > 0) {
        throw apiError('mfa_step_up_required', 'Confirm with your second factor first (POST /api/auth/mfa/step-up).');
      }
    },

    /**
     * Called between a successful first factor and the session: users with a factor (or
     * required by policy to have one) get a pending sign-in instead, as MfaRequiredError.
     */
    async gate(input: { user: { id: string; email: string; roles: readonly string[] }; methods: string[]; channel: string; presentedDevice?: string | undefined; trustedDeviceNonce?: string | undefined; sessionLifetimeMs?: number | undefined }): Promise<void> {
      const methods = await methodsOf(input.user.id);
      const enrol = methods.length === 0;
      if (enrol && !mfaRequiredFor(input.user, deps.config)) return;
      const record: PendingSignIn = {
        userId: input.user.id,
        email: input.user.email,
        methods: input.methods,
        createdAt: now(),
        channel: input.channel,
        presentedDevice: input.presentedDevice,
        trustedDeviceNonce: input.trustedDeviceNonce,
        sessionLifetimeMs: input.sessionLifetimeMs,
        enrol,
      };
      const token = await pending.begin(record);
      throw new MfaRequiredError({ pendingToken: token, methods: enrol ? ['totp', 'passkey'] : methods, enrol, expiresInSeconds: PENDING_TTL_MS / 1000 });
    },

    /**
     * Starts a TOTP enrolment, or resumes the user's pending one (totp-enrolment.ts: one per
     * user, sealed, 10 minutes), so that the QR code already scanned stays valid after an error.
     */
    async startTotp(userId: string, email: string): Promise<TotpEnrolment> {
      if ((await store.listFactors(userId)).length >= MAX_FACTORS) throw apiError('conflict', `At most ${MAX_FACTORS} second factors per account.`);
      return enrolments.start(userId, email);
    },

    /** Confirms with a first code; the factor counts from now. The first factor also gets recovery codes (returned once). */
    async confirmTotp(userId: string, email: string, input: { enrolmentId: string; code: string; name?: string | undefined }, client: ClientInfo): Promise<{ factor: FactorView; recoveryCodes: string[] | undefined }> {
      const decision = await deps.limiter.hit(enrolRule, userId);
      if (!decision.allowed) throw tooManyRequests(decision);
      const secret = await enrolments.secret(userId, input.enrolmentId);
      if (!secret) throw apiError('invalid_request', 'This set-up has expired. Start again.');
      const step = matchTotp(secret, input.code.trim(), now());
      if (step === undefined) {
        await audit.record({ type: 'mfa-enrolled', outcome: 'failure', userId, ip: client.ip, userAgent: client.userAgent, detail: { kind: 'totp', reason: 'wrong code' } });
        throw apiError('invalid_mfa_code', 'That code is not correct. Check the time on your device and try the newest code.');
      }
      // A wrong code above kept the set-up (same secret on the next try); the right one uses it up.
      if (!(await enrolments.finish(userId, input.enrolmentId))) throw apiError('invalid_request', 'This set-up was already completed.');
      const at = now();
      const id = newId(at);
      await ephemeral.setIfAbsent(`mfa:totp-used:${id}:${step}`, '1', (2 * TOTP_SKEW_STEPS + 2) * TOTP_STEP_SECONDS * 1000);
      const first = (await store.listFactors(userId)).length === 0;
      const factor: Factor = { id, userId, kind: 'totp', name: cleanName(input.name, 'Authenticator app'), createdAt: at, lastUsedAt: null, secretSealed: seal(deps.sealKey, secret.toString('base64url'), secretContext(id)), credentialId: null, publicKey: null, signCount: 0, transports: [], deviceType: null };
      await store.insertFactor(factor);
      await audit.record({ type: 'mfa-enrolled', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent, detail: { kind: 'totp', factor_id: id } });
      notify(email, 'totp-added', factor.name);
      const recoveryCodes = first || (await store.remainingRecoveryCodes(userId)) === 0 ? await newRecoveryCodes(userId) : undefined;
      return { factor: view(factor), recoveryCodes };
    },

    /** Ten new single-use codes; the old set stops working. Shown once. */
    async regenerateRecoveryCodes(userId: string, email: string, client: ClientInfo): Promise<string[]> {
      if ((await store.listFactors(userId)).length === 0) throw apiError('invalid_request', 'Add a second factor first.');
      const codes = await newRecoveryCodes(userId);
      await audit.record({ type: 'recovery-codes-regenerated', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent });
      notify(email, 'recovery-codes-regenerated');
      return codes;
    },

    async rename(userId: string, factorId: string, name: string): Promise<boolean> {
      return store.renameFactor(userId, factorId.slice(0, 64), cleanName(name, 'Second factor'));
    },

    async remove(userId: string, email: string, factorId: string, client: ClientInfo): Promise<boolean> {
      const factor = await store.getFactor(userId, factorId.slice(0, 64));
      if (!factor || !(await store.deleteFactor(userId, factor.id))) return false;
      // With the last factor gone, recovery codes would be a factor of their own: they go too.
      if ((await store.listFactors(userId)).length === 0) await store.replaceRecoveryCodes(userId, [], now());
      await audit.record({ type: 'mfa-removed', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent, detail: { kind: factor.kind, factor_id: factor.id } });
      notify(email, 'factor-removed', factor.name);
      return true;
    },

    /**
     * Checks a second factor of `subject`. Like a password: per-IP limit, then an attempt
     * reserved in the account's lockout budget (the same one wrong passwords use, SEC-ASVS-09),
     * then the check. Returns the RFC 8176 values it adds to `amr`.
     */
    async verify(subject: Subject, input: SecondFactorInput, client: ClientInfo): Promise<{ methods: string[] }> {
      const ipDecision = await deps.limiter.hit(ipRule, clientKey(client.ip));
      if (!ipDecision.allowed) throw tooManyRequests(ipDecision);
      const accountKey = normalizeEmail(subject.email) ?? subject.email;
      const gate = await deps.lockout.begin(accountKey, subject.trustedDeviceNonce);
      if (!gate.allowed) {
        await audit.record({ type: 'lockout', outcome: 'failure', userId: subject.userId, ip: client.ip, userAgent: client.userAgent, detail: { retry_after_seconds: gate.retryAfterSeconds, step: 'second-factor' } });
        throw tooManyRequests({ allowed: false, count: 0, retryAfterSeconds: gate.retryAfterSeconds });
      }
      let methods: string[] | undefined;
      let factorId: string | undefined;
      if (input.method === 'passkey') {
        const outcome = await deps.passkeys.verifyAssertion('second-factor', input.binding, parseCredential(input.credential), now());
        if ('methods' in outcome && outcome.factor.userId === subject.userId) {
          methods = outcome.methods;
          factorId = outcome.factor.id;
        } else if ('clone' in outcome && outcome.clone) await auditClone(outcome.factor, client);
      } else if (input.method === 'totp') {
        const factor = await verifyTotp(subject.userId, input.code.trim());
        if (factor) {
          methods = ['otp'];
          factorId = factor.id;
          await store.markUsed(factor.id, now());
        }
      } else if (input.code.trim().length <= 64 && (await store.consumeRecoveryCode(subject.userId, hashRecoveryCode(input.code.trim()), now()))) {
        methods = [];
      }
      if (!methods) {
        await audit.record({ type: 'mfa-challenge', outcome: 'failure', userId: subject.userId, ip: client.ip, userAgent: client.userAgent, detail: { method: input.method } });
        throw apiError('invalid_mfa_code', input.method === 'passkey' ? 'That passkey could not be verified.' : 'That code is not correct.');
      }
      await deps.lockout.succeeded(accountKey, subject.trustedDeviceNonce);
      await audit.record({ type: 'mfa-challenge', outcome: 'success', userId: subject.userId, ip: client.ip, userAgent: client.userAgent, detail: { method: input.method, ...(factorId ? { factor_id: factorId } : {}) } });
      if (input.method === 'recovery_code') notify(subject.email, 'recovery-code-used');
      return { methods };
    },

    /** Adds a passkey from a registration answer; the first factor also gets recovery codes (returned once). */
    async addPasskey(user: { id: string; email: string }, input: { credential: string; binding: string | undefined; name?: string | undefined }, client: ClientInfo): Promise<{ factor: FactorView; recoveryCodes: string[] | undefined; methods: string[] }> {
      const decision = await deps.limiter.hit(enrolRule, user.id);
      if (!decision.allowed) throw tooManyRequests(decision);
      const existing = await store.listFactors(user.id);
      if (existing.length >= MAX_FACTORS) throw apiError('conflict', `At most ${MAX_FACTORS} second factors per account.`);
      const { userVerified, ...credential } = await deps.passkeys.verifyRegistration(user.id, input.binding, parseCredential(input.credential)).catch(async (error: unknown) => {
        await audit.record({ type: 'mfa-enrolled', outcome: 'failure', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { kind: 'passkey', reason: 'not verified' } });
        throw error;
      });
      const at = now();
      const factor: Factor = { id: newId(at), userId: user.id, kind: 'passkey', name: cleanName(input.name, 'Passkey'), createdAt: at, lastUsedAt: null, secretSealed: null, ...credential };
      await store.insertFactor(factor);
      await audit.record({ type: 'mfa-enrolled', outcome: 'success', userId: user.id, ip: client.ip, userAgent: client.userAgent, detail: { kind: 'passkey', factor_id: factor.id, device_type: factor.deviceType ?? 'unknown' } });
      notify(user.email, 'passkey-added', factor.name);
      const recoveryCodes = existing.length === 0 || (await store.remainingRecoveryCodes(user.id)) === 0 ? await newRecoveryCodes(user.id) : undefined;
      // RFC 8176 values of the registration itself (possession of the new key; `user` with UV), for an enrolment that completes a sign-in.
      return { factor: view(factor), recoveryCodes, methods: passkeyMethods(factor, userVerified) };
    },

    /**
     * Passwordless sign-in with a discoverable passkey: a complete sign-in only when the
     * authenticator verified the user (PIN or biometrics: possession + knowledge/inherence, so
     * `mfa`); without user verification it is refused (the password is the way then).
     */
    async passwordless(input: { credential: string; binding: string | undefined }, client: ClientInfo): Promise<{ userId: string; methods: string[] }> {
      const ipDecision = await deps.limiter.hit(ipRule, clientKey(client.ip));
      if (!ipDecision.allowed) throw tooManyRequests(ipDecision);
      const outcome = await deps.passkeys.verifyAssertion('passwordless', input.binding, parseCredential(input.credential), now());
      if (!('methods' in outcome)) {
        if (outcome.clone) await auditClone(outcome.factor, client);
        else if (outcome.factor) await audit.record({ type: 'sign-in', outcome: 'failure', userId: outcome.factor.userId, ip: client.ip, userAgent: client.userAgent, detail: { method: 'passkey', reason: 'not verified' } });
        throw apiError('invalid_credentials', 'That passkey could not be verified.');
      }
      if (!outcome.userVerified) throw apiError('invalid_credentials', 'Your passkey did not verify you (PIN or biometrics). Sign in with your password.');
      return { userId: outcome.factor.userId, methods: [...outcome.methods, 'mfa'] };
    },

    /** Operator reset (CLI, admin API): every factor and recovery code of the user goes; audited and mailed. */
    async reset(userId: string, actor: string): Promise<number> {
      const user = await deps.users.findById(userId);
      if (!user) return 0;
      const { removed, mail } = await resetAllFactors({ store, audit, mailer: deps.mailer }, user, actor);
      void mail.catch((error: unknown) => deps.onBackgroundError(error, 'mfa notification mail'));
      return removed;
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
