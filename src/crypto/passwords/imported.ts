import { pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as bcryptVerify } from '@node-rs/bcrypt';

/**
 * Hashes brought in by `gatehouse users import` from other systems. They are only ever verified,
 * never created: a successful verify always asks for a rehash to argon2id (SEC-PWD-07).
 *
 * Parsing is strict and parameters are bounded, so a stored string can never make a sign-in
 * allocate gigabytes or spin for minutes; anything outside the bounds is "not recognised".
 */
export type ImportedHash =
  | { kind: 'bcrypt'; encoded: string }
  | { kind: 'scrypt'; cost: number; blockSize: number; parallelization: number; salt: Buffer; key: Buffer }
  | { kind: 'pbkdf2-sha256'; iterations: number; salt: Buffer; key: Buffer };

/** bcrypt reads at most 72 bytes of password; longer inputs are refused, never truncated (SEC-PWD-03). */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;
const BCRYPT_MAX_COST = 15; // 2^15 rounds ≈ 2–3 s; beyond is a DoS, not a password hash.
const SCRYPT_MAX_LOG2_COST = 20;
const SCRYPT_MAX_MEMORY_BYTES = 256 * 1024 * 1024; // 128 · N · r
const SCRYPT_MAX_WORK = 2 ** 22; // N · r · p: about 2 s on one core
const PBKDF2_MAX_ITERATIONS = 10_000_000;
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 128;
const MAX_SALT_BYTES = 128;

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keyLength: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

// `$2a$`/`$2b$`/`$2y$`, two-digit cost, 22 characters of salt and 31 of hash in bcrypt's base64.
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
// passlib / PHC: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>`.
const SCRYPT = /^\$scrypt\$ln=([1-9]\d?),r=([1-9]\d{0,2}),p=([1-9]\d{0,2})\$([./A-Za-z0-9+]*)\$([./A-Za-z0-9+]+)$/;
// passlib: `$pbkdf2-sha256$<iterations>$<salt ab64>$<hash ab64>`.
const PASSLIB_PBKDF2 = /^\$pbkdf2-sha256\$([1-9]\d{0,7})\$([./A-Za-z0-9]*)\$([./A-Za-z0-9]+)$/;
// Django: `pbkdf2_sha256$<iterations>$<salt text>$<hash b64, padded>`; the salt is used as text.
const DJANGO_PBKDF2 = /^pbkdf2_sha256\$([1-9]\d{0,7})\$([!-#%-~]{1,128})\$([A-Za-z0-9+/]+={0,2})$/;

/** Base64 without padding in either alphabet variant passlib writes ('.' for '+' in ab64). */
function decodeBase64(text: string): Buffer | undefined {
  const standard = text.replace(/\./g, '+').replace(/=+$/, '');
  if (standard.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(standard)) return undefined;
  return Buffer.from(standard, 'base64');
}

function keyLengthOk(key: Buffer | undefined): key is Buffer {
  return key !== undefined && key.length >= MIN_KEY_BYTES && key.length <= MAX_KEY_BYTES;
}

function saltOk(salt: Buffer | undefined): salt is Buffer {
  return salt !== undefined && salt.length <= MAX_SALT_BYTES;
}

/** Parses one of the supported import formats, or `undefined` when unknown or out of bounds. */
export function parseImportedHash(stored: string): ImportedHash | undefined {
  const bcrypt = BCRYPT.exec(stored);
  if (bcrypt) {
    const cost = Number(bcrypt[1]);
    return cost >= 4 && cost <= BCRYPT_MAX_COST ? { kind: 'bcrypt', encoded: stored } : undefined;
  }
  const scryptMatch = SCRYPT.exec(stored);
  if (scryptMatch) {
    const log2Cost = Number(scryptMatch[1]);
    const blockSize = Number(scryptMatch[2]);
    const parallelization = Number(scryptMatch[3]);
    if (log2Cost > SCRYPT_MAX_LOG2_COST) return undefined;
    const cost = 2 ** log2Cost;
    if (128 * cost * blockSize > SCRYPT_MAX_MEMORY_BYTES || cost * blockSize * parallelization > SCRYPT_MAX_WORK) return undefined;
    const salt = decodeBase64(scryptMatch[4] ?? '');
    const key = decodeBase64(scryptMatch[5] ?? '');
    if (!saltOk(salt) || !keyLengthOk(key)) return undefined;
    return { kind: 'scrypt', cost, blockSize, parallelization, salt, key };
  }
  const passlib = PASSLIB_PBKDF2.exec(stored);
  if (passlib) {
    const iterations = Number(passlib[1]);
    const salt = decodeBase64(passlib[2] ?? '');
    const key = decodeBase64(passlib[3] ?? '');
    if (iterations > PBKDF2_MAX_ITERATIONS || !saltOk(salt) || !keyLengthOk(key)) return undefined;
    return { kind: 'pbkdf2-sha256', iterations, salt, key };
  }
  const django = DJANGO_PBKDF2.exec(stored);
  if (django) {
    const iterations = Number(django[1]);
    const key = decodeBase64(django[3] ?? '');
    if (iterations > PBKDF2_MAX_ITERATIONS || !keyLengthOk(key)) return undefined;
    return { kind: 'pbkdf2-sha256', iterations, salt: Buffer.from(django[2] ?? '', 'utf8'), key };
  }
  return undefined;
}

/** Constant-time comparison of derived bytes; lengths are equal by construction. */
function sameBytes(derived: Buffer, expected: Buffer): boolean {
  return derived.length === expected.length && timingSafeEqual(derived, expected);
}

/**
 * Verifies one candidate password against a parsed imported hash. All work runs on the libuv
 * thread pool. Never throws: a library or parameter error is a failed verification.
 */
export async function verifyImported(hash: ImportedHash, candidate: string): Promise<boolean> {
  try {
    switch (hash.kind) {
      case 'bcrypt':
        // SEC-PWD-03: bcrypt ignores everything after 72 bytes, so two passwords sharing their
        // first 72 bytes would both match. Refuse longer inputs instead: such a user resets.
        if (Buffer.byteLength(candidate, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) return false;
        return await bcryptVerify(candidate, hash.encoded);
      case 'scrypt': {
        const { cost, blockSize, parallelization, salt, key } = hash;
        // maxmem: what OpenSSL needs for these parameters (128·r·(N+p+2)) plus slack, bounded above.
        const maxmem = 128 * blockSize * (cost + parallelization + 2) + 1024 * 1024;
        const derived = await scryptAsync(candidate, salt, key.length, { N: cost, r: blockSize, p: parallelization, maxmem });
        return sameBytes(derived, key);
      }
      case 'pbkdf2-sha256': {
        const derived = await pbkdf2Async(candidate, hash.salt, hash.iterations, hash.key.length, 'sha256');
        return sameBytes(derived, hash.key);
      }
    }
  } catch {
    return false;
  }
}
