import { createHmac } from 'node:crypto';
import { randomToken } from '../../crypto/random.ts';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"):
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, where the
 * secret is the base64 after `whsec_`. Verified in the tests by the reference library.
 */

const SECRET_PREFIX = 'whsec_';
/** 24 to 64 bytes, as the specification recommends. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + Buffer.from(randomToken(32), 'base64url').toString('base64');
}

/** Why a supplied secret is refused, or undefined when it is a valid `whsec_` secret. */
export function webhookSecretProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(SECRET_PREFIX)) return 'must be whsec_ followed by base64';
  const encoded = value.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return 'must be whsec_ followed by base64';
  const length = Buffer.from(encoded, 'base64').length;
  if (length < MIN_SECRET_BYTES || length > MAX_SECRET_BYTES) return `must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes`;
  return undefined;
}

/** The three Standard Webhooks headers for one attempt (`timestamp` in seconds). */
export function signWebhook(secret: string, message: { id: string; timestamp: number; body: string }): Record<string, string> {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${message.id}.${message.timestamp}.${message.body}`, 'utf8').digest('base64');
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': `v1,${signature}`,
  };
}
