import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { createHash } from 'node:crypto';
import { apiError } from '../../errors/catalog.ts';
import { constantTimeEqual, hashSecret, randomBuffer } from '../../crypto/random.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { Factor, MfaStore } from './store.ts';

/** The relying party: RP ID = the public URL's hostname, origin = its origin (WebAuthn §5.1.4.1, §7.1 steps 9 and 13). */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export function relyingPartyOf(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, origin: url.origin, name: `Gatehouse (${url.host})` };
}

/** Why a ceremony exists: a challenge issued for one purpose is refused for any other. */
export type CeremonyPurpose = 'register' | 'second-factor' | 'passwordless';

export const CEREMONY_TTL_MS = 5 * 60_000;
const BINDING = /^[A-Za-z0-9_-]{43}$/;
const challengeKey = (challenge: string) => `mfa:webauthn:${challenge}`;

interface Ceremony {
  purpose: CeremonyPurpose;
  /** SHA-256 of the browser's binding cookie: the challenge is good only in the browser it was issued to. */
  binding: string;
  userId: string | null;
}

export interface VerifiedAssertion {
  factor: Factor;
  userVerified: boolean;
  /** RFC 8176 values the assertion adds to `amr`. */
  methods: string[];
}

/** RFC 8176 §2: `swk` for a synced (multi-device) passkey, `hwk` for a device-bound one; `user` when the authenticator verified the user. */
export function passkeyMethods(factor: Pick<Factor, 'deviceType'>, userVerified: boolean): string[] {
  return [factor.deviceType === 'multiDevice' ? 'swk' : 'hwk', ...(userVerified ? ['user'] : [])];
}

function challengeOf(clientDataJSON: unknown): string | undefined {
  if (typeof clientDataJSON !== 'string' || clientDataJSON.length > 4096) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && /^[A-Za-z0-9_-]{43}$/.test(parsed.challenge) ? parsed.challenge : undefined;
  } catch {
    return undefined;
  }
}

export function parseCredential<T extends RegistrationResponseJSON | AuthenticationResponseJSON>(text: string): T {
  if (text.length > 16_384) throw apiError('invalid_request', 'That passkey response is too large.');
  try {
    const value = JSON.parse(text) as T;
    if (typeof value?.id !== 'string' || typeof value.response?.clientDataJSON !== 'string') throw new Error('shape');
    return value;
  } catch {
    throw apiError('invalid_request', 'That passkey response could not be read.');
  }
}

/**
 * A ceremony binding (43 base64url characters, kept hashed with the challenge) derived from a
 * secret only the caller holds: the pending sign-in's token, the session, or an app's ceremony
 * token together with its client_id. A challenge issued for one holder is refused for any other.
 */
export function derivedBinding(holder: string, secret: string): string {
  return createHash('sha256').update(`gatehouse-webauthn\u0000${holder}\u0000${secret}`).digest('base64url');
}

/** The binding of a ceremony of a pending sign-in (second step, required enrolment): only the holder of its cookie or mfa_token may answer it. */
export const pendingBinding = (token: string | undefined): string | undefined => (token === undefined ? undefined : derivedBinding('pending', token));

const refused = () => apiError('invalid_mfa_code', 'That passkey could not be verified. Try again.');

/**
 * WebAuthn ceremonies through @simplewebauthn/server: options with a fresh challenge kept in the
 * ephemeral store (shared across instances), single use and bound to the browser, then the
 * verification of the answer against our RP ID and origin, and the signature counter check.
 */
export function createPasskeys(deps: { store: MfaStore; ephemeral: EphemeralStore; rp: RelyingParty }) {
  const { store, ephemeral, rp } = deps;

  async function begin(purpose: CeremonyPurpose, binding: string, userId: string | null): Promise<string> {
    if (!BINDING.test(binding)) throw new Error('bad ceremony binding');
    const challenge = randomBuffer(32).toString('base64url');
    const ceremony: Ceremony = { purpose, binding: hashSecret(binding), userId };
    await ephemeral.set(challengeKey(challenge), JSON.stringify(ceremony), CEREMONY_TTL_MS);
    return challenge;
  }

  /** Uses up the challenge the answer names (GETDEL: once, on any instance) if this browser and purpose own it. */
  async function take(purpose: CeremonyPurpose, binding: string | undefined, clientDataJSON: unknown): Promise<{ challenge: string; userId: string | null }> {
    const challenge = challengeOf(clientDataJSON);
    if (!challenge || binding === undefined || !BINDING.test(binding)) throw refused();
    const text = await ephemeral.consume(challengeKey(challenge));
    const ceremony = text === null ? undefined : (JSON.parse(text) as Ceremony);
    if (!ceremony || ceremony.purpose !== purpose || !constantTimeEqual(ceremony.binding, hashSecret(binding))) throw refused();
    return { challenge, userId: ceremony.userId };
  }

  const passkeysOf = async (userId: string) => (await store.listFactors(userId)).filter((factor) => factor.kind === 'passkey' && factor.credentialId);
  const descriptor = (factor: Factor) => ({ id: factor.credentialId!, transports: factor.transports as AuthenticatorTransport[] });

  return {
    rp,

    async registrationOptions(user: { id: string; email: string; name: string | null }, binding: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const challenge = await begin('register', binding, user.id);
      return generateRegistrationOptions({
        rpName: rp.name,
        rpID: rp.id,
        userName: user.email,
        userDisplayName: user.name ?? user.email,
        // The user handle is our opaque user id (WebAuthn §14.6.1: no personal data).
        userID: new TextEncoder().encode(user.id),
        challenge: Buffer.from(challenge, 'base64url'),
        timeout: CEREMONY_TTL_MS,
        attestationType: 'none',
        excludeCredentials: (await passkeysOf(user.id)).map(descriptor),
        // Discoverable when the authenticator can (passwordless sign-in); user verification preferred.
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      });
    },

    /** Verifies a registration answer; returns the new credential's stored fields (not yet saved). */
    async verifyRegistration(userId: string, binding: string | undefined, response: RegistrationResponseJSON): Promise<Pick<Factor, 'credentialId' | 'publicKey' | 'signCount' | 'transports' | 'deviceType'> & { userVerified: boolean }> {
      const { challenge, userId: owner } = await take('register', binding, response.response?.clientDataJSON);
      if (owner !== userId) throw refused();
      const result = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: false }).catch(() => undefined);
      if (!result?.verified) throw refused();
      const { credential, credentialDeviceType, userVerified } = result.registrationInfo;
      if (await store.findByCredentialId(credential.id)) throw apiError('conflict', 'This passkey is already registered.');
      return { credentialId: credential.id, publicKey: Buffer.from(credential.publicKey).toString('base64url'), signCount: credential.counter, transports: credential.transports ?? [], deviceType: credentialDeviceType, userVerified };
    },

    /** Options for an assertion: the user's passkeys (second factor), or any discoverable one (passwordless). */
    async authenticationOptions(purpose: 'second-factor' | 'passwordless', binding: string, userId: string | null): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const challenge = await begin(purpose, binding, userId);
      const allow = userId === null ? [] : (await passkeysOf(userId)).map(descriptor);
      return generateAuthenticationOptions({ rpID: rp.id, challenge: Buffer.from(challenge, 'base64url'), timeout: CEREMONY_TTL_MS, userVerification: 'preferred', allowCredentials: allow });
    },

    /**
     * Verifies an assertion. The counter check is ours (WebAuthn §7.2 step 21): a counter that does
     * not move forward, unless both are 0, means a cloned authenticator — `clone: true` on the
     * refusal so that the caller audits it. The stored counter only moves forward (conditional UPDATE).
     */
    async verifyAssertion(purpose: 'second-factor' | 'passwordless', binding: string | undefined, response: AuthenticationResponseJSON, at: number): Promise<VerifiedAssertion | { refused: true; clone: boolean; factor?: Factor }> {
      const { challenge, userId } = await take(purpose, binding, response.response?.clientDataJSON);
      const factor = typeof response.id === 'string' && response.id.length <= 1024 ? await store.findByCredentialId(response.id) : undefined;
      if (!factor || !factor.publicKey || (userId !== null && factor.userId !== userId)) return { refused: true, clone: false };
      // Passwordless: the user handle, when sent, must name the credential's owner (§7.2 step 6).
      const handle = response.response.userHandle;
      if (handle && Buffer.from(handle, 'base64url').toString('utf8') !== factor.userId) return { refused: true, clone: false, factor };
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        credential: { id: factor.credentialId!, publicKey: Buffer.from(factor.publicKey, 'base64url'), counter: 0, transports: factor.transports as AuthenticatorTransport[] },
        requireUserVerification: false,
      }).catch(() => undefined);
      if (!result?.verified) return { refused: true, clone: false, factor };
      const { newCounter, userVerified } = result.authenticationInfo;
      if ((newCounter > 0 || factor.signCount > 0) && newCounter <= factor.signCount) return { refused: true, clone: true, factor };
      if (!(await store.markUsed(factor.id, at, newCounter))) return { refused: true, clone: true, factor };
      return { factor, userVerified, methods: passkeyMethods(factor, userVerified) };
    },
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;
