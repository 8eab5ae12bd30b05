import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random secret of `bytes` bytes (default 32 = 256 bits), base64url, for tokens and ids. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A time-ordered, non-secret identifier: 12 hex digits of milliseconds, then 80 random bits.
 * Sorts by creation time, which keeps audit pages and index inserts in order.
 */
export function newId(now: number = Date.now()): string {
  return now.toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
}

/** SHA-256 of a high-entropy secret (session token, refresh token, link token), base64url. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'base64url');
}

/**
 * Request ids for logs and the `x-request-id` header: a random per-process prefix (tells
 * instances apart) and a counter. Not secret and not unguessable — nothing may rely on them —
 * so no random bytes per request (those cost ~5 % of a cheap request's CPU).
 */
export function requestIdGenerator(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}

/** Constant-time equality of two strings (different lengths compare unequal, still in constant time per length). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
