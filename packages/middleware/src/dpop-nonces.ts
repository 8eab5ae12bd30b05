import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long one nonce is current; the previous one is still accepted (RFC 9449 §9). */
const SLOT_MS = 5 * 60_000;
const NONCE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{24})$/;

export interface DPoPNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(): string;
  /** True for the current or the previous slot's nonce. */
  valid(nonce: string): boolean;
}

/**
 * Stateless resource-server nonces (RFC 9449 §9): `slot.mac`, the MAC being HMAC-SHA-256 over
 * the time slot under `secret`, so instances that share the secret issue and accept the same
 * nonces without shared state. A nonce is good for its 5-minute slot and the next one. Without
 * a secret, a random one per process: fine for one instance.
 */
export function createDPoPNonces(options: { secret: string | undefined; now: () => number }): DPoPNonces {
  const key = options.secret === undefined ? randomBytes(32) : Buffer.from(`gatehouse-kit-dpop-nonce:${options.secret}`, 'utf8');
  const mac = (slot: number): Buffer => createHmac('sha256', key).update(`dpop-nonce:${slot}`).digest().subarray(0, 18);
  const slotNow = (): number => Math.floor(options.now() / SLOT_MS);
  return {
    current: () => {
      const slot = slotNow();
      return `${slot.toString(36)}.${mac(slot).toString('base64url')}`;
    },
    valid(nonce) {
      const match = NONCE.exec(nonce);
      if (!match) return false;
      const slot = Number.parseInt(match[1]!, 36);
      const current = slotNow();
      if (slot !== current && slot !== current - 1) return false;
      const presented = Buffer.from(match[2]!, 'base64url');
      const expected = mac(slot);
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    },
  };
}
