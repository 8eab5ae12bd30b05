import { basicAuthorization, FetchFailure, isRecord, requestJSON } from './http.ts';
import type { KitEvent } from './types.ts';

export type IntrospectionVerdict = 'active' | 'inactive' | 'unavailable';

export interface Introspector {
  /** Asks Gatehouse about a token that passed every local check; `jti` keys the short cache. */
  check(token: string, jti: string): Promise<IntrospectionVerdict>;
}

const MAX_CACHED = 10_000;

/**
 * The fallback while the revocation stream is down (`whenUnavailable: 'introspect'`): RFC 7662
 * `POST /oauth/introspect` with the resource server's client credentials. Only `active: true`
 * lets a token through; any failure to get an answer is `unavailable` (the caller answers 503).
 * Answers are reused for `cacheMs` per token id so a busy API makes one call per token per window.
 */
export function createIntrospector(deps: { url: string; clientId: string; clientSecret: string; cacheMs: number; timeoutMs: number; now: () => number; onEvent: (event: KitEvent) => void }): Introspector {
  const authorization = basicAuthorization(deps.clientId, deps.clientSecret);
  const cache = new Map<string, { verdict: 'active' | 'inactive'; at: number }>();
  return {
    async check(token, jti) {
      const cached = cache.get(jti);
      if (cached && deps.now() - cached.at < deps.cacheMs) return cached.verdict;
      let verdict: 'active' | 'inactive';
      try {
        const response = await requestJSON(deps.url, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
          timeoutMs: deps.timeoutMs,
          maxBytes: 64 * 1024,
        });
        if (response.status !== 200 || !isRecord(response.body) || typeof response.body.active !== 'boolean') throw new FetchFailure(`introspection answered ${response.status}`);
        verdict = response.body.active === true && response.body.jti === jti ? 'active' : 'inactive';
      } catch (error) {
        deps.onEvent({ type: 'introspection-failed', detail: error instanceof Error ? error.message : 'failed' });
        return 'unavailable';
      }
      if (deps.cacheMs > 0) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(jti, { verdict, at: deps.now() });
      }
      return verdict;
    },
  };
}
