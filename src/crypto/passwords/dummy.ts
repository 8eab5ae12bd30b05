import { randomBytes } from 'node:crypto';

/** Current argon2 version (0x13), the `v=` of every hash Gatehouse writes. */
export const ARGON2_VERSION = 19;
export const ARGON2_SALT_BYTES = 16;
export const ARGON2_OUTPUT_BYTES = 32;

function toPhcBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/**
 * A well-formed argon2id hash at the given parameters whose preimage nobody knows (random salt and
 * output). Verifying against it costs exactly one real argon2id computation and always fails —
 * the stand-in for unknown accounts (SEC-PWD-10; an *invalid* dummy hash returns early and leaks
 * existence through timing). Built without hashing, so the first unknown-account sign-in is not
 * slower than the next ones.
 */
export function dummyArgon2Hash(parameters: { memoryKiB: number; iterations: number; parallelism: number }): string {
  const { memoryKiB, iterations, parallelism } = parameters;
  const salt = toPhcBase64(randomBytes(ARGON2_SALT_BYTES));
  const output = toPhcBase64(randomBytes(ARGON2_OUTPUT_BYTES));
  return `$argon2id$v=${ARGON2_VERSION}$m=${memoryKiB},t=${iterations},p=${parallelism}$${salt}$${output}`;
}
