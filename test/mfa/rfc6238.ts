/**
 * RFC 6238 TOTP, written for the tests on node:crypto alone (independent of src/features/mfa/totp.ts):
 * T = floor((time - T0) / X), HOTP (RFC 4226 §5.3) over T as an 8-byte big-endian counter with
 * dynamic truncation. Checked against the RFC 6238 Appendix B vectors in openid-client-step-up.test.ts.
 */
import { createHmac } from 'node:crypto';

export function rfc6238(secret: Buffer, unixSeconds: number, options: { digits?: number; algorithm?: 'sha1' | 'sha256' | 'sha512'; step?: number } = {}): string {
  const digits = options.digits ?? 6;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / (options.step ?? 30))));
  const mac = createHmac(options.algorithm ?? 'sha1', secret).update(counter).digest();
  // RFC 4226 §5.3: the low 4 bits of the last byte give the offset of a 31-bit big-endian number.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}
