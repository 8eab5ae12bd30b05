import { apiError, type ApiError } from '../../../errors/catalog.ts';
import { constantTimeEqual, hashSecret, newId, randomToken } from '../../../crypto/random.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import { usesSecret } from '../../clients/model.ts';
import type { ClientActor, ClientRegistry } from '../../clients/registry.ts';
import { registrationView, translateRegistration } from './metadata.ts';
import type { RegistrationStore } from './store.ts';

export type RegistrationMode = 'off' | 'open' | 'initial-access-token';

/** Longest life of an initial access token, and the defaults of the CLI and the admin API. */
export const INITIAL_TOKEN_MAX_SECONDS = 365 * 86400;
export const INITIAL_TOKEN_DEFAULT_SECONDS = 86400;

export interface RegistrationService {
  /** RFC 7591 §3: `bearer` is the initial access token, if any. */
  register(body: Readonly<Record<string, unknown>>, bearer: string | undefined, actor: ClientActor): Promise<Record<string, unknown>>;
  /** RFC 7592 §2.1. */
  read(clientId: string, bearer: string | undefined): Promise<Record<string, unknown>>;
  /** RFC 7592 §2.2: full replacement. */
  replace(clientId: string, bearer: string | undefined, body: Readonly<Record<string, unknown>>, actor: ClientActor): Promise<Record<string, unknown>>;
  /** RFC 7592 §2.3: the client goes, with its grants and tokens (as the admin delete). */
  remove(clientId: string, bearer: string | undefined, actor: ClientActor): Promise<void>;
}

export interface InitialTokenIssuer {
  issue(options: { expiresInSeconds?: number; uses?: number | null; createdBy?: string | null }): Promise<{ id: string; token: string; expiresAt: number; uses: number | null }>;
}

/** RFC 6750 §3.1: 401 invalid_token, never saying which part was wrong. */
export function invalidToken(description: string): ApiError {
  return apiError('invalid_token', description, { headers: { 'www-authenticate': 'Bearer realm="gatehouse", error="invalid_token"' } });
}

export function createInitialTokenIssuer(deps: { store: RegistrationStore; audit: AuditLog; now: () => number }): InitialTokenIssuer {
  return {
    async issue(options) {
      const seconds = options.expiresInSeconds ?? INITIAL_TOKEN_DEFAULT_SECONDS;
      if (!Number.isSafeInteger(seconds) || seconds < 60 || seconds > INITIAL_TOKEN_MAX_SECONDS) throw apiError('invalid_request', `expires_in must be 60 to ${INITIAL_TOKEN_MAX_SECONDS} seconds.`);
      const uses = options.uses === undefined ? 1 : options.uses;
      if (uses !== null && (!Number.isSafeInteger(uses) || uses < 1 || uses > 100000)) throw apiError('invalid_request', 'uses must be a whole number from 1 to 100000 (or null for unlimited).');
      const at = deps.now();
      const id = newId(at);
      const token = randomToken(32);
      const expiresAt = at + seconds * 1000;
      await deps.store.insertInitialToken({ id, tokenHash: hashSecret(token), expiresAt, usesLeft: uses, createdBy: options.createdBy ?? null, createdAt: at });
      await deps.audit.record({ type: 'initial-access-token-created', outcome: 'success', actorId: options.createdBy ?? null, detail: { id, expires_at: expiresAt, uses: uses === null ? 'unlimited' : String(uses) } });
      return { id, token, expiresAt, uses };
    },
  };
}

export function createRegistrationService(deps: {
  mode: RegistrationMode;
  registry: ClientRegistry;
  store: RegistrationStore;
  issuer: string;
  idTokenSigningAlgorithm: string;
  now: () => number;
}): RegistrationService {
  const { registry, store } = deps;
  const viewOptions = { issuer: deps.issuer, idTokenSigningAlgorithm: deps.idTokenSigningAlgorithm };

  /** RFC 7592 §3: an unknown client and a wrong token answer the same 401 (nothing leaks). */
  async function authorized(clientId: string, bearer: string | undefined) {
    if (bearer === undefined) throw invalidToken('Send the registration access token as a Bearer token.');
    const registration = await store.findRegistration(clientId);
    if (!registration || !constantTimeEqual(registration.tokenHash, hashSecret(bearer))) throw invalidToken('The registration access token is not valid for this client.');
    const client = await registry.get(clientId);
    if (!client) throw invalidToken('The registration access token is not valid for this client.');
    return { registration, client };
  }

  return {
    async register(body, bearer, actor) {
      const initialHash = bearer === undefined ? undefined : hashSecret(bearer);
      if (deps.mode === 'initial-access-token') {
        if (initialHash === undefined) throw invalidToken('This server requires an initial access token (Authorization: Bearer …) to register a client.');
        if (!(await store.initialTokenUsable(initialHash, deps.now()))) throw invalidToken('The initial access token is invalid, expired or used up.');
      }
      const { metadata, extras } = translateRegistration(body, viewOptions);
      // Validate before a use of the initial token is counted: a refused registration costs none.
      registry.check(metadata as Readonly<Record<string, unknown>>);
      if (deps.mode === 'initial-access-token' && !(await store.consumeInitialToken(initialHash!, deps.now()))) {
        throw invalidToken('The initial access token is invalid, expired or used up.');
      }
      const { client, clientSecret } = await registry.create(metadata, { source: 'dynamic', actor });
      const registrationAccessToken = randomToken(32);
      await store.insertRegistration({ clientId: client.clientId, tokenHash: hashSecret(registrationAccessToken), metadata: { ...extras }, createdAt: client.createdAt, updatedAt: client.createdAt });
      return {
        ...registrationView(client, { ...extras }, viewOptions),
        // RFC 7591 §3.2.1: the secret once, with 0 = does not expire.
        ...(clientSecret === undefined ? {} : { client_secret: clientSecret, client_secret_expires_at: 0 }),
        registration_access_token: registrationAccessToken,
      };
    },

    async read(clientId, bearer) {
      const { registration, client } = await authorized(clientId, bearer);
      return { ...registrationView(client, registration.metadata, viewOptions), ...(usesSecret(client.tokenEndpointAuthMethod) ? { client_secret_expires_at: 0 } : {}) };
    },

    async replace(clientId, bearer, body, actor) {
      const { registration } = await authorized(clientId, bearer);
      // RFC 7592 §2.2: the body carries the client_id, unchanged.
      if (body.client_id !== clientId) throw apiError('invalid_request', 'The body must carry this client’s client_id (RFC 7592 §2.2).');
      const { metadata, extras } = translateRegistration(body, viewOptions);
      // Refused metadata changes nothing, the token included.
      registry.check(metadata as Readonly<Record<string, unknown>>);
      // RFC 7592 §2.2 / §3: a successful update issues a new registration access token and the old
      // one stops working. The conditional swap claims the update: of two racing with one token,
      // only one gets through.
      const registrationAccessToken = randomToken(32);
      const rotated = await store.rotateRegistration(clientId, { currentHash: registration.tokenHash, nextHash: hashSecret(registrationAccessToken), metadata: { ...extras }, at: deps.now() });
      if (!rotated) throw invalidToken('The registration access token is not valid for this client.');
      let updated: Awaited<ReturnType<typeof registry.update>>;
      try {
        updated = await registry.update(clientId, metadata, { actor });
      } catch (error) {
        // The update failed after the swap (a lost database connection, a concurrent delete):
        // give the old token and metadata back, so the client can still manage its registration.
        await store.rotateRegistration(clientId, { currentHash: hashSecret(registrationAccessToken), nextHash: registration.tokenHash, metadata: registration.metadata, at: deps.now() }).catch(() => false);
        throw error;
      }
      const { client, clientSecret } = updated;
      return {
        ...registrationView(client, { ...extras }, viewOptions),
        ...(usesSecret(client.tokenEndpointAuthMethod) ? { client_secret_expires_at: 0 } : {}),
        ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
        registration_access_token: registrationAccessToken,
      };
    },

    async remove(clientId, bearer, actor) {
      await authorized(clientId, bearer);
      await registry.delete(clientId, { actor });
    },
  };
}
