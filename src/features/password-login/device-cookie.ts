/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"; SEC-PWD-14).
 *
 * A browser (or app) that signed in successfully, or completed a password reset, holds one
 * entry per account: `NONCE.SIGNATURE`, where NONCE is 128 random bits and SIGNATURE is
 * HMAC-SHA256(key, login ‖ NONCE) over the normalised login it is valid for. The login itself
 * is not in the value (a device cookie does not tell which accounts were used on the device):
 * an entry is valid for a login when its signature checks out for that login. Entries that
 * are forged, damaged or signed for another login are simply not trusted — the attempt falls
 * under the untrusted-device rules, exactly like a browser with no cookie (no enumeration:
 * entries exist only for logins that succeeded, and checking costs the same for any login).
 *
 * The value is a `~`-separated list, newest first, of at most `MAX_ENTRIES` entries, so a
 * browser shared by a few accounts stays trusted for each.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEVICE_COOKIE_NAME = '__Host-gatehouse-device';
/** Kept for a year; every successful sign-in renews it with a fresh nonce. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
/** Accounts remembered per device; older entries drop off. */
export const MAX_ENTRIES = 5;
/** Longest value accepted (5 entries of 66 characters and separators); anything longer is ignored. */
const MAX_VALUE_LENGTH = MAX_ENTRIES * 67;
const ENTRY = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export interface DeviceCookies {
  /** The nonce of the entry in `presented` that is valid for `login`, or undefined (untrusted). */
  trustedNonce(presented: string | undefined, login: string): string | undefined;
  /**
   * The value to send back: a fresh entry for `login` first, then the other entries that were
   * presented (its previous one dropped), at most `MAX_ENTRIES`.
   */
  issue(presented: string | undefined, login: string): string;
}

/** `key`: a 32-byte MAC key, `masterKey.derive('device-cookie')`. */
export function createDeviceCookies(key: Buffer): DeviceCookies {
  if (key.length < 32) throw new RangeError('the device-cookie key must be at least 32 bytes');

  const sign = (login: string, nonce: string): Buffer => createHmac('sha256', key).update(`${login}\n${nonce}`).digest();

  function entries(presented: string | undefined): { raw: string; nonce: string; signature: Buffer }[] {
    if (presented === undefined || presented.length > MAX_VALUE_LENGTH) return [];
    const parsed: { raw: string; nonce: string; signature: Buffer }[] = [];
    for (const raw of presented.split('~').slice(0, MAX_ENTRIES)) {
      const match = ENTRY.exec(raw);
      if (match) parsed.push({ raw, nonce: match[1]!, signature: Buffer.from(match[2]!, 'base64url') });
    }
    return parsed;
  }

  function validFor(entry: { nonce: string; signature: Buffer }, login: string): boolean {
    const expected = sign(login, entry.nonce);
    return entry.signature.length === expected.length && timingSafeEqual(entry.signature, expected);
  }

  return {
    trustedNonce(presented, login) {
      return entries(presented).find((entry) => validFor(entry, login))?.nonce;
    },

    issue(presented, login) {
      const nonce = randomBytes(16).toString('base64url');
      const fresh = `${nonce}.${sign(login, nonce).toString('base64url')}`;
      const others = entries(presented).filter((entry) => !validFor(entry, login)).map((entry) => entry.raw);
      return [fresh, ...others].slice(0, MAX_ENTRIES).join('~');
    },
  };
}
