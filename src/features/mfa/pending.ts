import { hashSecret, randomToken } from '../../crypto/random.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';

/**
 * The half-signed-in state between the first factor and the second (SEC-ASVS-09): in the
 * ephemeral store (shared by every instance), under the SHA-256 of a random token that only its
 * owner holds — an HttpOnly `__Host-` cookie for browsers, `mfa_token` for a first-party app,
 * which must present it with the same `client_id`. It is not a session: nothing but the
 * second-step endpoints reads it, it lives 5 minutes, and it is consumed once.
 */
export interface PendingSignIn {
  userId: string;
  /** The address the first factor was checked for: the lockout's account key. */
  email: string;
  /** RFC 8176 values of the first factor (`pwd`, `fed`). */
  methods: string[];
  createdAt: number;
  /** Which holder may finish it: `cookie`, or `client:<client_id>` for token sign-in. */
  channel: string;
  /** The device cookie / device token presented at the first step (verified again at the end). */
  presentedDevice?: string | undefined;
  /** The nonce of a device cookie that was valid for this login: its own lockout budget. */
  trustedDeviceNonce?: string | undefined;
  sessionLifetimeMs?: number | undefined;
  /** Policy requires a factor the user does not have yet: the second step is an enrolment. */
  enrol: boolean;
}

export const PENDING_TTL_MS = 5 * 60_000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const key = (token: string) => `mfa:pending:${hashSecret(token)}`;

export function createPendingStore(ephemeral: EphemeralStore) {
  return {
    async begin(pending: PendingSignIn): Promise<string> {
      const token = randomToken(32);
      await ephemeral.set(key(token), JSON.stringify(pending), PENDING_TTL_MS);
      return token;
    },
    /** The pending sign-in behind `token` if `channel` may finish it (read only: a wrong code does not use it up). */
    async read(token: string | undefined, channel: string): Promise<PendingSignIn | undefined> {
      if (token === undefined || !TOKEN.test(token)) return undefined;
      const text = await ephemeral.get(key(token));
      if (text === null) return undefined;
      const pending = JSON.parse(text) as PendingSignIn;
      return pending.channel === channel ? pending : undefined;
    },
    /** Exactly once: of concurrent completions, one gets the record. */
    async consume(token: string): Promise<PendingSignIn | undefined> {
      const text = await ephemeral.consume(key(token));
      return text === null ? undefined : (JSON.parse(text) as PendingSignIn);
    },
    /** Replaces the record (the enrolment step turns into a normal second step), keeping its end. */
    async update(token: string, pending: PendingSignIn, now: number): Promise<void> {
      await ephemeral.set(key(token), JSON.stringify(pending), Math.max(1000, pending.createdAt + PENDING_TTL_MS - now));
    },
  };
}

export type PendingStore = ReturnType<typeof createPendingStore>;
