import { hashSecret, randomToken } from '../../../crypto/random.ts';
import type { EphemeralStore } from '../../../storage/ephemeral/types.ts';
import { generateUserCode, normalizeUserCode } from './user-code.ts';

/** What a device code stands for (RFC 8628 §3.2); stored under the code's SHA-256. */
export interface DeviceGrantRecord {
  clientId: string;
  scope: string[];
  audience: string[];
  createdAt: number;
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied';
  /** Set when the user answered on `/device`. */
  userId?: string;
  sessionId?: string;
  authTime?: number;
  amr?: string[];
  answeredAt?: number;
}

/** A user on `/device` who entered a valid code and now signs in and confirms (bound to one browser session). */
export interface DeviceInteraction {
  id: string;
  deviceKey: string;
  userCodeKey: string;
  userCode: string;
  expiresAt: number;
  sessionId?: string;
}

export type PollOutcome =
  | { kind: 'unknown' }
  | { kind: 'expired' }
  | { kind: 'slow_down'; interval: number }
  | { kind: 'pending' }
  | { kind: 'denied' }
  | { kind: 'approved'; record: DeviceGrantRecord };

/** The record stays readable this long after expiry, so that late polls get `expired_token`. */
const EXPIRED_GRACE_MS = 10 * 60_000;
const SLOW_DOWN_STEP_SECONDS = 5;
const DEVICE_CODE = /^[A-Za-z0-9_-]{43}$/;
const INTERACTION_ID = /^[A-Za-z0-9_-]{32}$/;

interface PollState {
  at: number;
  interval: number;
}

/**
 * Device-flow state in the ephemeral store, so that every instance sees the same codes (Redis):
 *
 * - `oidc:device:<sha256(device_code)>` → the grant record; only the user's answer writes it
 *   (once: guarded by the consume of the user code) and the one successful poll consumes it;
 * - `oidc:device-user:<sha256(user code)>` → the device key; consumed when the user answers
 *   (single use);
 * - `oidc:device-poll:<device key>` → time and interval of the last poll, plus a claim per poll
 *   (`setIfAbsent`), so that two polls racing from one device cannot both pass (slow_down).
 */
export function createDeviceState(ephemeral: EphemeralStore, options: { ttlSeconds: number; intervalSeconds: number; now: () => number }) {
  const ttlMs = options.ttlSeconds * 1000;
  const recordKey = (deviceKey: string) => `oidc:device:${deviceKey}`;
  const pollKey = (deviceKey: string) => `oidc:device-poll:${deviceKey}`;

  async function readRecord(deviceKey: string): Promise<DeviceGrantRecord | undefined> {
    const text = await ephemeral.get(recordKey(deviceKey));
    return text ? (JSON.parse(text) as DeviceGrantRecord) : undefined;
  }

  async function writeInteraction(interaction: DeviceInteraction): Promise<void> {
    await ephemeral.set(`oidc:device-interaction:${interaction.id}`, JSON.stringify(interaction), Math.max(1000, interaction.expiresAt - options.now()));
  }

  return {
    intervalSeconds: options.intervalSeconds,

    /** A new device code and user code for `clientId` (RFC 8628 §3.2). */
    async start(grant: { clientId: string; scope: string[]; audience: string[] }): Promise<{ deviceCode: string; userCode: string; expiresIn: number }> {
      const now = options.now();
      const deviceCode = randomToken(32);
      const deviceKey = hashSecret(deviceCode);
      const record: DeviceGrantRecord = { ...grant, createdAt: now, expiresAt: now + ttlMs, status: 'pending' };
      await ephemeral.set(recordKey(deviceKey), JSON.stringify(record), ttlMs + EXPIRED_GRACE_MS);
      // Two live codes never share a user code: the first writer wins, the second draws again.
      for (let attempt = 0; attempt < 8; attempt++) {
        const userCode = generateUserCode();
        if (await ephemeral.setIfAbsent(`oidc:device-user:${hashSecret(normalizeUserCode(userCode)!)}`, deviceKey, ttlMs)) {
          return { deviceCode, userCode, expiresIn: options.ttlSeconds };
        }
      }
      throw new Error('no free user code');
    },

    /** The pending grant a typed user code names, without using the code up. */
    async lookup(typed: string): Promise<{ userCodeKey: string; deviceKey: string; record: DeviceGrantRecord } | undefined> {
      const normalized = normalizeUserCode(typed);
      if (!normalized) return undefined;
      const userCodeKey = hashSecret(normalized);
      const deviceKey = await ephemeral.get(`oidc:device-user:${userCodeKey}`);
      if (!deviceKey) return undefined;
      const record = await readRecord(deviceKey);
      if (!record || record.status !== 'pending' || record.expiresAt <= options.now()) return undefined;
      return { userCodeKey, deviceKey, record };
    },

    async record(deviceKey: string): Promise<DeviceGrantRecord | undefined> {
      return readRecord(deviceKey);
    },

    async saveInteraction(interaction: Omit<DeviceInteraction, 'id'>): Promise<DeviceInteraction> {
      const saved: DeviceInteraction = { ...interaction, id: randomToken(24) };
      await writeInteraction(saved);
      return saved;
    },
    updateInteraction: writeInteraction,
    async interaction(id: string): Promise<DeviceInteraction | undefined> {
      if (!INTERACTION_ID.test(id)) return undefined;
      const text = await ephemeral.get(`oidc:device-interaction:${id}`);
      return text ? (JSON.parse(text) as DeviceInteraction) : undefined;
    },

    /**
     * The user's answer. The user code is consumed first (atomic), so of two answers — two tabs,
     * two instances — exactly one is recorded; false when the code was used or has expired.
     */
    async answer(interaction: DeviceInteraction, answer: { approved: boolean; userId: string; sessionId: string; authTime: number; amr: string[] }): Promise<boolean> {
      await ephemeral.delete(`oidc:device-interaction:${interaction.id}`);
      const owner = await ephemeral.consume(`oidc:device-user:${interaction.userCodeKey}`);
      if (owner !== interaction.deviceKey) return false;
      const record = await readRecord(interaction.deviceKey);
      const now = options.now();
      if (!record || record.status !== 'pending' || record.expiresAt <= now) return false;
      const answered: DeviceGrantRecord = {
        ...record,
        status: answer.approved ? 'approved' : 'denied',
        userId: answer.userId,
        sessionId: answer.sessionId,
        authTime: answer.authTime,
        amr: answer.amr,
        answeredAt: now,
      };
      await ephemeral.set(recordKey(interaction.deviceKey), JSON.stringify(answered), record.expiresAt - now + EXPIRED_GRACE_MS);
      return true;
    },

    /**
     * One poll of the token endpoint (RFC 8628 §3.4, §3.5). Polling faster than the interval
     * answers `slow_down` and adds 5 seconds to the interval for this device code from then on.
     * An answered grant is consumed here: exactly one poll receives the tokens (or the denial).
     */
    async poll(deviceCode: string, clientId: string): Promise<PollOutcome> {
      if (!DEVICE_CODE.test(deviceCode)) return { kind: 'unknown' };
      const deviceKey = hashSecret(deviceCode);
      const record = await readRecord(deviceKey);
      // Bound to its client: another client's poll learns nothing (RFC 8628 §3.4).
      if (!record || record.clientId !== clientId) return { kind: 'unknown' };
      const now = options.now();
      if (record.expiresAt <= now) return { kind: 'expired' };

      const pollText = await ephemeral.get(pollKey(deviceKey));
      const previous = pollText ? (JSON.parse(pollText) as PollState) : undefined;
      let interval = previous?.interval ?? options.intervalSeconds;
      const remaining = record.expiresAt - now + EXPIRED_GRACE_MS;
      // One claim per previous poll: of two racing polls, the second sees the claim taken.
      const claimed = await ephemeral.setIfAbsent(`${pollKey(deviceKey)}:${previous?.at ?? 'first'}`, '1', remaining);
      const tooSoon = !claimed || (previous !== undefined && now - previous.at < previous.interval * 1000);
      if (tooSoon) interval += SLOW_DOWN_STEP_SECONDS;
      await ephemeral.set(pollKey(deviceKey), JSON.stringify({ at: now, interval } satisfies PollState), remaining);
      if (tooSoon) return { kind: 'slow_down', interval };

      if (record.status === 'pending') return { kind: 'pending' };
      const consumed = await ephemeral.consume(recordKey(deviceKey));
      if (!consumed) return { kind: 'unknown' };
      const final = JSON.parse(consumed) as DeviceGrantRecord;
      return final.status === 'approved' ? { kind: 'approved', record: final } : { kind: 'denied' };
    },
  };
}

export type DeviceState = ReturnType<typeof createDeviceState>;
