import { hashSecret, randomToken } from '../../../crypto/random.ts';
import type { EphemeralStore } from '../../../storage/ephemeral/types.ts';

/** RFC 9126 §2.2: `urn:ietf:params:oauth:request_uri:` followed by our random reference. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
const REFERENCE = /^[A-Za-z0-9_-]{43}$/;

/** A pushed authorization request: the client it belongs to and its (validated) parameters. */
export interface PushedRequest {
  clientId: string;
  params: Record<string, string>;
  expiresAt: number;
}

/**
 * Pushed requests in the ephemeral store (shared by every instance with Redis), under the
 * SHA-256 of the reference; used once through an atomic consume.
 */
export function createPushedRequestState(ephemeral: EphemeralStore, options: { ttlSeconds: number; now: () => number }) {
  return {
    ttlSeconds: options.ttlSeconds,
    async push(clientId: string, params: Record<string, string>): Promise<string> {
      const reference = randomToken(32);
      const record: PushedRequest = { clientId, params, expiresAt: options.now() + options.ttlSeconds * 1000 };
      await ephemeral.set(`oidc:par:${hashSecret(reference)}`, JSON.stringify(record), options.ttlSeconds * 1000);
      return `${REQUEST_URI_PREFIX}${reference}`;
    },
    /**
     * The pushed request named by `requestUri` for `clientId`, exactly once. Another client's
     * attempt returns nothing and leaves the request to its owner.
     */
    async take(requestUri: string, clientId: string): Promise<PushedRequest | undefined> {
      if (!requestUri.startsWith(REQUEST_URI_PREFIX)) return undefined;
      const reference = requestUri.slice(REQUEST_URI_PREFIX.length);
      if (!REFERENCE.test(reference)) return undefined;
      const key = `oidc:par:${hashSecret(reference)}`;
      const peeked = await ephemeral.get(key);
      if (!peeked || (JSON.parse(peeked) as PushedRequest).clientId !== clientId) return undefined;
      const text = await ephemeral.consume(key);
      if (!text) return undefined;
      const record = JSON.parse(text) as PushedRequest;
      return record.expiresAt > options.now() ? record : undefined;
    },
  };
}

export type PushedRequestState = ReturnType<typeof createPushedRequestState>;
