import type { FastifyRequest } from 'fastify';
import { apiError, type ApiError } from '../../errors/catalog.ts';
import { constantTimeEqual, hashSecret } from '../../crypto/random.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import { verifyClientAssertion } from './assertion.ts';
import { parseAuthorizationHeader } from './basic.ts';
import type { Client, TokenEndpointAuthMethod } from './model.ts';
import type { ClientStore, StoredClient } from './store.ts';

/**
 * Client authentication on back-channel endpoints (RFC 6749 §2.3, OAuth 2.1 §2.4, RFC 7523;
 * SEC-OAUTH-15/-16). One method per request, and only the one the client registered. Every
 * failure is the same `invalid_client` 401 — an unknown client and a wrong secret are
 * indistinguishable — with `WWW-Authenticate: Basic` when Basic was (or could have been) used.
 */
export interface ClientAuthenticator {
  authenticate(request: FastifyRequest, body: Record<string, string | string[] | undefined>, options: { endpoint: string }): Promise<Client>;
}

/** RFC 6749 §5.2: a 401 after (possible) Basic authentication carries the challenge. */
export const BASIC_CHALLENGE: Readonly<Record<string, string>> = Object.freeze({ 'www-authenticate': 'Basic realm="gatehouse"' });

/** Compared against when the client is unknown, so that both cases take the same time. */
const DUMMY_HASH = hashSecret('gatehouse: no such client');

/** Client changes made on any instance, by client_id (the cache below evicts on them). */
export const CLIENTS_CHANNEL = 'clients:changed';
/** How long a looked-up client is reused at most should a change message be lost. */
export const CLIENT_CACHE_MS = 2000;
const MAX_CACHED = 1000;

/**
 * The clients that authenticate, kept for at most `CLIENT_CACHE_MS`: a SQL lookup per request was
 * the largest single cost of client_credentials and introspection (docs/benchmarks.md). A change
 * through the store (registry: update, secret rotation, delete) evicts the client here at once and
 * is published on `clients:changed`, so other instances evict it within milliseconds; the time
 * bound covers a lost message and changes made by another process (the CLI). Unknown ids are kept
 * too, so that a known and an unknown client_id answer alike in time (SEC-OAUTH-15); the size is
 * bounded, and nothing is kept before the subscription is up.
 */
function createClientCache(deps: { store: ClientStore; ephemeral: EphemeralStore; now: () => number }): (clientId: string) => Promise<StoredClient | undefined> {
  const cache = new Map<string, { stored: StoredClient | undefined; until: number }>();
  // A lookup that started before an eviction must not put the old row back.
  let generation = 0;
  let listening: 'no' | 'pending' | 'yes' = 'no';
  const evict = (clientId: string): void => {
    generation++;
    cache.delete(clientId);
  };
  deps.store.onChange((clientId) => {
    evict(clientId);
    deps.ephemeral.publish(CLIENTS_CHANNEL, clientId).catch(() => {
      // Other instances fall back to the time bound.
    });
  });
  const listen = (): void => {
    listening = 'pending';
    deps.ephemeral.subscribe(CLIENTS_CHANNEL, evict).then(
      () => {
        listening = 'yes';
      },
      () => {
        listening = 'no';
      },
    );
  };
  return async (clientId) => {
    if (listening === 'no') listen();
    const hit = cache.get(clientId);
    if (hit && hit.until > deps.now()) return hit.stored;
    const started = generation;
    const stored = await deps.store.find(clientId);
    if (listening === 'yes' && started === generation) {
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(clientId, { stored, until: deps.now() + CLIENT_CACHE_MS });
    }
    return stored;
  };
}

export function createClientAuthenticator(deps: { store: ClientStore; ephemeral: EphemeralStore; issuer: string; now?: () => number }): ClientAuthenticator {
  const now = deps.now ?? Date.now;
  const lookup = createClientCache({ store: deps.store, ephemeral: deps.ephemeral, now });

  async function verifySecret(clientId: string, secret: string, method: TokenEndpointAuthMethod, challenge: boolean): Promise<Client> {
    const found = clientId.length <= 256 ? await lookup(clientId) : undefined;
    const presented = hashSecret(secret);
    // Style rule 6: constant-time comparison of SHA-256 hashes; both comparisons always run.
    const current = constantTimeEqual(presented, found?.secrets.secretHash ?? DUMMY_HASH);
    const previousLive = found?.secrets.previousSecretHash != null && (found.secrets.previousSecretExpiresAt ?? 0) > now();
    const previous = constantTimeEqual(presented, previousLive ? found.secrets.previousSecretHash! : DUMMY_HASH);
    if (!found || found.secrets.secretHash === null) throw failed('unknown client or no secret', challenge);
    if (found.client.tokenEndpointAuthMethod !== method || found.client.type !== 'confidential') {
      throw failed(`client is registered for ${found.client.tokenEndpointAuthMethod}, not ${method}`, challenge);
    }
    if (!current && !(previousLive && previous)) throw failed('wrong secret', challenge);
    return found.client;
  }

  return {
    async authenticate(request, body, options) {
      const header = parseAuthorizationHeader(request.headers.authorization);
      if (header.kind === 'malformed') throw failed(header.reason, true);
      const clientId = single(body, 'client_id');
      const clientSecret = single(body, 'client_secret');
      const assertion = single(body, 'client_assertion');
      const assertionType = single(body, 'client_assertion_type');
      const usedAssertion = assertion !== undefined || assertionType !== undefined;

      // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
      const methods = Number(header.kind === 'basic') + Number(clientSecret !== undefined) + Number(usedAssertion);
      if (methods > 1) throw failed('more than one client authentication method', header.kind === 'basic');

      if (header.kind === 'basic') {
        if (clientId !== undefined && clientId !== header.clientId) throw failed('client_id in the body differs from Basic', true);
        return verifySecret(header.clientId, header.clientSecret, 'client_secret_basic', true);
      }
      if (clientSecret !== undefined) {
        if (clientId === undefined) throw failed('client_secret without client_id', false);
        return verifySecret(clientId, clientSecret, 'client_secret_post', false);
      }
      if (usedAssertion) {
        return verifyClientAssertion({ assertionType, assertion, clientId }, { store: deps.store, ephemeral: deps.ephemeral, issuer: deps.issuer, endpoint: options.endpoint, now });
      }
      // No credentials: only a public client, registered for `none`, identifies itself by client_id.
      if (clientId === undefined) throw failed('no client authentication', true);
      const client = clientId.length <= 256 ? (await lookup(clientId))?.client : undefined;
      if (!client) throw failed('unknown client', true);
      if (client.type !== 'public' || client.tokenEndpointAuthMethod !== 'none') throw failed(`client is registered for ${client.tokenEndpointAuthMethod}, sent no credentials`, true);
      return client;
    },
  };
}

/** One value of a parameter; empty counts as absent, a repeated parameter is refused (SEC-ASVS-16). */
function single(body: Record<string, string | string[] | undefined>, name: string): string | undefined {
  if (!Object.hasOwn(body, name)) return undefined;
  const value = body[name];
  if (Array.isArray(value)) throw apiError('invalid_request', `The parameter ${name} appears more than once.`);
  return value === undefined || value === '' ? undefined : value;
}

function failed(detail: string, challenge: boolean): ApiError {
  return apiError('invalid_client', 'Client authentication failed.', challenge ? { detail, headers: BASIC_CHALLENGE } : { detail });
}
