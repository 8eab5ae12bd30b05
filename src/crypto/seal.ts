import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomBuffer } from './random.ts';

/**
 * Authenticated encryption of small secrets at rest (signing keys, refresh-token successors):
 * AES-256-GCM with a random 96-bit IV, serialised as `v1.<iv>.<ciphertext>.<tag>` (base64url).
 * `context` is bound as additional authenticated data, so a sealed value copied to another row
 * (another key id, another token id) does not open there.
 */
const VERSION = 'v1';

export function seal(key: Buffer, plaintext: string, context: string): string {
  if (key.length !== 32) throw new Error('seal: the key must be 32 bytes');
  const iv = randomBuffer(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Opens a sealed value; throws when the key, the context or any byte differs. */
export function open(key: Buffer, sealed: string, context: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('open: not a sealed value');
  const [, ivText, ciphertextText, tagText] = parts as [string, string, string, string];
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== 12 || tag.length !== 16) throw new Error('open: not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
}
