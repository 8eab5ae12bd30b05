import { hash } from 'node:crypto';

/**
 * The ephemeral-store key for one counter: `<namespace>:<hash>`, where the hash is SHA-256 of the
 * caller's key (base64url, 22 characters = 132 bits). Identifiers such as e-mail addresses and
 * client addresses never sit in the store in clear, and every key has a bounded length whatever
 * the input.
 */
export function storeKey(namespace: string, key: string): string {
  const digest = hash('sha256', key, 'base64url');
  return `${namespace}:${digest.slice(0, 22)}`;
}
