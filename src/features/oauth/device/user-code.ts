import { randomInt } from 'node:crypto';

/**
 * RFC 8628 §6.1: user codes are typed by people on a second device. Twenty consonants, no
 * vowels (no words), no digits (so no 0/O, 1/I, 5/S confusion); eight of them are ~34.5 bits,
 * which, with the attempt limit on `/device` and a lifetime of minutes, makes guessing a live
 * code hopeless. Shown as `XXXX-XXXX`; compared case-insensitively, ignoring dashes and spaces.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A fresh user code in display form (`BDFH-JKLM`). */
export function generateUserCode(): string {
  let code = '';
  for (let index = 0; index < USER_CODE_LENGTH; index++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return displayUserCode(code);
}

/** `BDFHJKLM` → `BDFH-JKLM`. */
export function displayUserCode(normalized: string): string {
  return `${normalized.slice(0, 4)}-${normalized.slice(4)}`;
}

/**
 * What a person typed, in canonical form (upper case, without separators), or undefined when it
 * cannot be a user code at all (wrong length, a character outside the alphabet).
 */
export function normalizeUserCode(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const character of code) if (!USER_CODE_ALPHABET.includes(character)) return undefined;
  return code;
}
