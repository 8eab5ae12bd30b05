import type { FastifyInstance } from 'fastify';
import type { Shared } from '../shared.ts';
import { createClientAuthenticator, type ClientAuthenticator } from './authenticate.ts';
import { applyConfiguredClients } from './config.ts';
import { createClientRegistry, type ClientRegistry } from './registry.ts';
import { createClientStore, type ClientStore } from './store.ts';

export interface ClientsFeature {
  store: ClientStore;
  /** The one registry the admin API, the CLI, dynamic registration and the config file go through. */
  registry: ClientRegistry;
  /** Client authentication, called first by every back-channel endpoint. */
  authenticator: ClientAuthenticator;
}

/**
 * OAuth clients: the registry (with the clients declared in the config file applied) and
 * back-channel client authentication. No routes of its own: the admin API and `/oauth/register`
 * go through the registry.
 */
export async function registerClientsFeature(_app: FastifyInstance, shared: Shared, parts: {
  /** Deleting a client first revokes every token issued to it. */
  beforeDelete: (clientId: string) => Promise<void>;
}): Promise<ClientsFeature> {
  const { database, audit, now } = shared;
  const store = createClientStore(database.db);
  // development: branding URLs may be loopback http (validation.ts); production: https only.
  const registry = createClientRegistry({ store, db: database.db, audit, now, beforeDelete: parts.beforeDelete, environment: shared.config.env });
  await applyConfiguredClients(registry, shared.config.clients);
  const authenticator = createClientAuthenticator({ store, ephemeral: shared.ephemeral, issuer: shared.issuer, now });
  return { store, registry, authenticator };
}
