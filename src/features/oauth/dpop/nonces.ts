import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long one server nonce is current; the previous one is still accepted (RFC 9449 §8). */
const SLOT_MS = 5 * 60_000;

export interface DPoPNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(): string;
  /** True for the current or the previous nonce. */
  valid(nonce: string): boolean;
}

/**
 * Stateless server nonces (RFC 9449 §8): `slot.mac` where the MAC is HMAC-SHA-256 over the time
 * slot under a key derived from the master key, so every instance issues and accepts the same
 * nonces without shared state. A nonce is good for its slot and the next one (5 to 10 minutes).
 */
export function createDPoPNonces(deps: { key: Buffer; now: () => number }): DPoPNonces {
  const mac = (slot: number) => createHmac('sha256', deps.key).update(`dpop-nonce:${slot}`).digest().subarray(0, 18);
  const spell = (slot: number) => `${slot.toString(36)}.${mac(slot).toString('base64url')}`;
  return {
    current: () => spell(Math.floor(deps.now() / SLOT_MS)),
    valid(nonce) {
      const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{24})$/.exec(nonce);
      if (!match) return false;
      const slot = Number.parseInt(match[1]!, 36);
      const currentSlot = Math.floor(deps.now() / SLOT_MS);
      if (slot !== currentSlot && slot !== currentSlot - 1) return false;
      const presented = Buffer.from(match[2]!, 'base64url');
      const expected = mac(slot);
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    },
  };
}
