import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * TOTP (RFC 6238) over HOTP (RFC 4226), written on node:crypto's HMAC: SHA-1, 6 digits, 30 s
 * steps — the parameters every authenticator app understands. Checked against the RFC 6238
 * Appendix B vectors in `totp.test.ts`.
 */

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted on either side of the current one (clock skew, SEC-ASVS-09: ±1 only). */
export const TOTP_SKEW_STEPS = 1;

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** HOTP (RFC 4226 §5.3): dynamic truncation of HMAC(secret, counter), `digits` decimal digits. */
export function hotp(secret: Buffer, counter: number, options: { digits?: number; algorithm?: TotpAlgorithm } = {}): string {
  const digits = options.digits ?? TOTP_DIGITS;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(options.algorithm ?? 'sha1', secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(binary).padStart(digits, '0');
}

/** The RFC 6238 time step (T) at `timeMs`. */
export function totpStep(timeMs: number, stepSeconds = TOTP_STEP_SECONDS): number {
  return Math.floor(timeMs / 1000 / stepSeconds);
}

export function totp(secret: Buffer, timeMs: number, options: { digits?: number; algorithm?: TotpAlgorithm } = {}): string {
  return hotp(secret, totpStep(timeMs), options);
}

/**
 * The step whose code equals `code` within ±`TOTP_SKEW_STEPS` of `timeMs`, or undefined.
 * Every candidate is compared in constant time, and all of them are computed.
 */
export function matchTotp(secret: Buffer, code: string, timeMs: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const current = totpStep(timeMs);
  const given = Buffer.from(code, 'ascii');
  let matched: number | undefined;
  for (let offset = -TOTP_SKEW_STEPS; offset <= TOTP_SKEW_STEPS; offset += 1) {
    const step = current + offset;
    if (timingSafeEqual(Buffer.from(hotp(secret, step), 'ascii'), given) && matched === undefined) matched = step;
  }
  return matched;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (the `secret=` of otpauth URIs). */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * The `otpauth://totp/` URI authenticator apps scan (Key Uri Format): issuer and account in the
 * label and as `issuer=`, the defaults spelled out so that no app guesses.
 */
export function otpauthUri(input: { issuer: string; account: string; secret: Buffer }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.account)}`;
  const params = new URLSearchParams({ secret: base32Encode(input.secret), issuer: input.issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_STEP_SECONDS) });
  return `otpauth://totp/${label}?${params.toString()}`;
}
