/**
 * Picks the ephemeral store from configuration: Redis when a URL is configured (required for
 * more than one instance), in-process memory otherwise.
 */
import { createMemoryStore } from './memory.ts';
import { createRedisStore } from './redis.ts';
import type { EphemeralStore } from './types.ts';

export interface OpenEphemeralStoreOptions {
  redisUrl?: string | undefined;
  /** Key and channel prefix in Redis; unused by the memory store. */
  redisPrefix: string;
}

export async function openEphemeralStore(options: OpenEphemeralStoreOptions): Promise<EphemeralStore> {
  if (options.redisUrl) {
    return createRedisStore({ url: options.redisUrl, prefix: options.redisPrefix });
  }
  return createMemoryStore();
}
