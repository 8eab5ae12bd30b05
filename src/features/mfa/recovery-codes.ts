import { hashSecret, randomBuffer } from '../../crypto/random.ts';

/**
 * Recovery codes (look-up secrets, NIST SP 800-63B §5.1.2): 10 per set, each 10 characters of a
 * 31-letter alphabet without look-alikes (≈ 49 bits), shown as `xxxxx-xxxxx`. Stored as SHA-256 of
 * the normalised form (lower case, no dash or space), so typing variations still match.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; 

export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    let code = '';
    while (code.length < 10) {
      for (const byte of randomBuffer(16)) {
        if (byte >= 248 || code.length >= 10) continue; // 248 = 8 × 31: uniform
        code += ALPHABET[byte % ALPHABET.length];
      }
    }
    codes.add(`${code.slice(0, 5)}-${code.slice(5)}`);
  }
  return [...codes];
}

export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

export function hashRecoveryCode(code: string): string {
  return hashSecret(`recovery-code:${normalizeRecoveryCode(code)}`);
}
