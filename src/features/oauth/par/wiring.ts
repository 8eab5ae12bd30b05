import type { FastifyInstance } from 'fastify';
import type { Config } from '../../../config/schema.ts';
import type { EphemeralStore } from '../../../storage/ephemeral/types.ts';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import type { ClientStore } from '../../clients/store.ts';
import { pushedRequestResolver } from './resolve.ts';
import { registerPushedAuthorizationEndpoint } from './route.ts';
import { createPushedRequestState } from './state.ts';

/**
 * Pushed authorization requests (RFC 9126): registers `/oauth/par` and returns what the
 * authorization endpoint needs to accept the `request_uri`s it hands out.
 */
export function registerPushedAuthorizationRequests(app: FastifyInstance, deps: {
  config: Pick<Config, 'pushedAuthorizationRequestTtlSeconds' | 'requirePushedAuthorizationRequests'>;
  ephemeral: EphemeralStore;
  issuer: string;
  authenticator: ClientAuthenticator;
  clients: ClientStore;
  now: () => number;
}): ReturnType<typeof pushedRequestResolver> {
  const state = createPushedRequestState(deps.ephemeral, { ttlSeconds: deps.config.pushedAuthorizationRequestTtlSeconds, now: deps.now });
  registerPushedAuthorizationEndpoint(app, { issuer: deps.issuer, authenticator: deps.authenticator, clients: deps.clients, state });
  return pushedRequestResolver({ state, requiredEverywhere: deps.config.requirePushedAuthorizationRequests });
}
