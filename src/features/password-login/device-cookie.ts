/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"; SEC-PWD-14).
 *
 * A browser (or app) that signed in successfully, or completed a password reset, holds one
 * entry per account: `NONCE.ISSUED.SIGNATURE`, where NONCE is 128 random bits, ISSUED the
 * issue time (base-36 seconds) and SIGNATURE is HMAC-SHA256(key, login ‖ NONCE ‖ ISSUED ‖ EPOCH)
 * over the normalised login it is valid for. EPOCH is a digest of the account's current password
 * hash (`credentialEpoch`), so every entry issued before a password change or reset stops being
 * trusted, and an entry older than `DEVICE_COOKIE_MAX_AGE_SECONDS` is refused by the server, not
 * only dropped by the browser — a leaked entry (a kiosk, an old phone's device_token) does not
 * keep its own attempt budget for ever. The login itself
 * is not in the value (a device cookie does not tell which accounts were used on the device):
 * an entry is valid for a login when its signature checks out for that login. Entries that
 * are forged, damaged or signed for another login are simply not trusted — the attempt falls
 * under the untrusted-device rules, exactly like a browser with no cookie (no enumeration:
 * entries exist only for logins that succeeded, and checking costs the same for any login).
 *
 * The value is a `~`-separated list, newest first, of at most `MAX_ENTRIES` entries, so a
 * browser shared by a few accounts stays trusted for each.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEVICE_COOKIE_NAME = '__Host-gatehouse-device';
/** Kept for a year; every successful sign-in renews it with a fresh nonce. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
/** Accounts remembered per device; older entries drop off. */
export const MAX_ENTRIES = 5;
/** Longest value accepted (5 entries of at most 76 characters and separators); anything longer is ignored. */
const MAX_VALUE_LENGTH = MAX_ENTRIES * 77;
const ENTRY = /^([A-Za-z0-9_-]{22})\.([0-9a-z]{1,9})\.([A-Za-z0-9_-]{43})$/;
/** An entry issued this far ahead of the server's clock (another instance's skew) is still accepted. */
const FUTURE_SKEW_SECONDS = 60;

/** The account's credential epoch: changes whenever its password does (or is set or removed). */
export function credentialEpoch(passwordHash: string | null): string {
  return createHash('sha256').update(passwordHash ?? '-').digest('hex').slice(0, 32);
}

/** Who an entry is for: the normalised login and the account's `credentialEpoch`. */
export interface DeviceAccount {
  login: string;
  epoch: string;
}

export interface DeviceCookies {
  /** The nonce of the entry in `presented` that is valid for `account` now, or undefined (untrusted). */
  trustedNonce(presented: string | undefined, account: DeviceAccount): string | undefined;
  /**
   * The value to send back: a fresh entry for `account` first, then the other entries that were
   * presented (its previous one dropped), at most `MAX_ENTRIES`.
   */
  issue(presented: string | undefined, account: DeviceAccount): string;
}

interface Entry {
  raw: string;
  nonce: string;
  issued: string;
  signature: Buffer;
}

/** `key`: a 32-byte MAC key, `masterKey.derive('device-cookie')`; `now`: the clock (ms). */
export function createDeviceCookies(key: Buffer, now: () => number = Date.now): DeviceCookies {
  if (key.length < 32) throw new RangeError('the device-cookie key must be at least 32 bytes');

  const sign = (account: DeviceAccount, nonce: string, issued: string): Buffer =>
    createHmac('sha256', key).update(`${account.login}\n${nonce}\n${issued}\n${account.epoch}`).digest();

  function entries(presented: string | undefined): Entry[] {
    if (presented === undefined || presented.length > MAX_VALUE_LENGTH) return [];
    const parsed: Entry[] = [];
    for (const raw of presented.split('~').slice(0, MAX_ENTRIES)) {
      const match = ENTRY.exec(raw);
      if (match) parsed.push({ raw, nonce: match[1]!, issued: match[2]!, signature: Buffer.from(match[3]!, 'base64url') });
    }
    return parsed;
  }

  function signedFor(entry: Entry, account: DeviceAccount): boolean {
    const expected = sign(account, entry.nonce, entry.issued);
    return entry.signature.length === expected.length && timingSafeEqual(entry.signature, expected);
  }

  function current(entry: Entry): boolean {
    const issuedSeconds = Number.parseInt(entry.issued, 36);
    const nowSeconds = Math.floor(now() / 1000);
    return issuedSeconds <= nowSeconds + FUTURE_SKEW_SECONDS && nowSeconds - issuedSeconds < DEVICE_COOKIE_MAX_AGE_SECONDS;
  }

  return {
    trustedNonce(presented, account) {
      return entries(presented).find((entry) => signedFor(entry, account) && current(entry))?.nonce;
    },

    issue(presented, account) {
      const nonce = randomBytes(16).toString('base64url');
      const issued = Math.floor(now() / 1000).toString(36);
      const fresh = `${nonce}.${issued}.${sign(account, nonce, issued).toString('base64url')}`;
      // Entries of other accounts are kept (still checked against their own epochs when used);
      // this account's earlier entries are dropped (OWASP: a fresh nonce at every success).
      const others = entries(presented).filter((entry) => !signedFor(entry, account)).map((entry) => entry.raw);
      return [fresh, ...others].slice(0, MAX_ENTRIES).join('~');
    },
  };
}
