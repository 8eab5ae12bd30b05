import type { FastifyInstance } from 'fastify';
import type { KeysFeature } from '../../keys/wiring.ts';
import type { AccountsFeature } from '../accounts/wiring.ts';
import type { AdminAccess } from '../admin/access.ts';
import type { ClientsFeature } from '../clients/wiring.ts';
import { clientForReturnTo } from '../../ui/return-to.ts';
import type { ClientBrand } from '../../ui/layout.ts';
import type { Shared } from '../shared.ts';
import type { TokensFeature } from '../tokens/wiring.ts';
import { listApplications, registerApplicationRoutes, revokeApplication, type AuthorisedApplication } from './applications/routes.ts';
import { authorizationFormAction, registerAuthorizeRoutes } from './authorize/routes.ts';
import { createAuthorizationState } from './authorize/state.ts';
import { createParticipantStore, recordingParticipants } from './backchannel-logout/participants.ts';
import { createBackchannelLogout } from './backchannel-logout/service.ts';
import { createConsentStore, type ConsentStore } from './consents/store.ts';
import { DEVICE_CODE_GRANT, registerDeviceFlow } from './device/wiring.ts';
import { registerDiscoveryRoutes } from './discovery/route.ts';
import { registerEndSessionRoutes } from './end-session/route.ts';
import { createIdTokenIssuer } from './id-token.ts';
import { registerIntrospectionEndpoint } from './introspect/route.ts';
import { registerPushedAuthorizationRequests } from './par/wiring.ts';
import { registerDynamicRegistration } from './register/wiring.ts';
import { registerRevocationEndpoint } from './revoke/route.ts';
import { createAuthorizationCodeGrant } from './token/grants/authorization-code.ts';
import { createTokenExchangeGrant } from './token/grants/token-exchange.ts';
import { parseTokenExchangePolicies } from './token/grants/token-exchange-policy.ts';
import { registerTokenEndpoint } from './token/route.ts';
import { registerUserinfoRoute } from './userinfo/route.ts';

export interface OAuthProvider {
  consents: ConsentStore;
  /** Back-Channel Logout 1.0: tells the relying parties of ended sessions. */
  backchannelLogout: { sessionsEnded(sessionIds: readonly string[]): Promise<void> };
  /** Extra form-action sources for a sign-in page that returns into an authorization in progress. */
  formActionFor: (returnTo: string | undefined) => Promise<string[]>;
  /** The applications a user authorised, for /account. */
  applications: {
    list(userId: string): Promise<AuthorisedApplication[]>;
    /** False when the user never authorised that client. */
    revoke(userId: string, clientId: string): Promise<boolean>;
  };
  /** The client a sign-in page's return_to continues to ("Sign in to continue to Acme Notes"), when one is identifiable. */
  clientFor: (returnTo: string) => Promise<ClientBrand | undefined>;
}

/**
 * The OAuth 2.1 / OpenID Connect provider: authorization code + PKCE, consent, ID tokens, the
 * token endpoint with one handler per grant (authorization code, device code, token exchange),
 * DPoP, PAR, userinfo, discovery, end-session, back-channel logout, the user's applications,
 * revocation, introspection and dynamic client registration.
 */
export function registerOAuthProvider(app: FastifyInstance, shared: Shared, parts: {
  keys: KeysFeature;
  clients: ClientsFeature;
  tokens: TokensFeature;
  accounts: AccountsFeature;
  /** Guards the admin route for initial access tokens of dynamic registration. */
  adminAccess: AdminAccess;
}): OAuthProvider {
  const { config, database, ephemeral, masterKey, audit, csrf, limiter, issuer, now } = shared;
  const { keys, tokens } = parts;
  const { auth, sessions, users } = parts.accounts;
  const { authenticator, store: clients } = parts.clients;
  const sessionLive = (id: string): Promise<boolean> => sessions.touchIfLive(id);

  const authorizationState = createAuthorizationState(ephemeral, { codeTtlSeconds: config.authorizationCodeTtlSeconds, now });
  const consents = createConsentStore(database.db);
  const participants = createParticipantStore(database.db);
  const idTokens = recordingParticipants(createIdTokenIssuer({ signer: keys.idTokenSigner, issuer, ttlSeconds: config.idTokenTtlSeconds, now, permissionsOf: shared.roles.permissionsOf }), participants, now);
  // Back-Channel Logout 1.0: logout tokens (ID-token keys, typ logout+jwt) through the outbox.
  const backchannelLogout = createBackchannelLogout({ outbox: shared.outbox, participants, clients, signer: keys.idTokenSigner, issuer, now });
  const authorizationCode = createAuthorizationCodeGrant({ state: authorizationState, tokenStore: tokens.store, revocations: tokens.revocations, idTokens, sessionLive, audit, codeTtlSeconds: config.authorizationCodeTtlSeconds, now });
  // Device authorization grant (RFC 8628): /oauth/device_authorization, /device, and its grant.
  const deviceFlow = registerDeviceFlow(app, { config, ephemeral, issuer, authenticator, clients, consents, auth, csrf, audit, limiter, revocations: tokens.revocations, idTokens, sessionLive, now });
  // DPoP (RFC 9449): sender-constrained tokens; token exchange (RFC 8693) by per-client policy.
  const { dpop } = tokens;
  const tokenExchange = createTokenExchangeGrant({ policies: parseTokenExchangePolicies(config.tokenExchangePolicies), verifier: tokens.verifier, jwt: keys.jwtVerifier, revocations: tokens.revocations, audit, now });
  registerTokenEndpoint(app, { issuer, accessTokens: tokens.accessTokens, refreshTokens: tokens.refreshTokens, users, authenticator, dpop, grants: { authorization_code: authorizationCode, [DEVICE_CODE_GRANT]: deviceFlow.grant, 'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchange } });
  // Pushed authorization requests (RFC 9126): /oauth/par, and request_uri at /oauth/authorize.
  const pushedRequests = registerPushedAuthorizationRequests(app, { config, ephemeral, issuer, authenticator, clients, now });
  registerAuthorizeRoutes(app, { issuer, clients, consents, state: authorizationState, auth, csrf, audit, firstPartySkipConsent: config.firstPartySkipConsent, jwt: keys.jwtVerifier, now, pushedRequests });
  registerUserinfoRoute(app, { issuer, verifier: tokens.verifier, users, dpop });
  registerDiscoveryRoutes(app, { issuer, idTokenSigningAlgorithm: config.idTokenSigningAlgorithm, requirePushedAuthorizationRequests: config.requirePushedAuthorizationRequests, registrationEndpoint: config.dynamicRegistration !== 'off' });
  registerEndSessionRoutes(app, { issuer, clients, jwt: keys.jwtVerifier, auth, sessions, csrf, audit });
  const applicationDeps = { auth, consents, tokenStore: tokens.store, clients, revocations: tokens.revocations, audit, now };
  registerApplicationRoutes(app, applicationDeps);
  registerRevocationEndpoint(app, { issuer, authenticator, refreshTokens: tokens.refreshTokens, revocations: shared.metrics.counting(tokens.revocations), verifier: tokens.verifier });
  registerIntrospectionEndpoint(app, { issuer, authenticator, refreshTokens: tokens.refreshTokens, verifier: tokens.verifier, limiter, inactiveLimit: config.introspectionInactiveLimit, onResult: shared.metrics.introspection });
  // Dynamic client registration (RFC 7591/7592), off by default; clients registered there are never first-party.
  registerDynamicRegistration(app, { config, db: database.db, registry: parts.clients.registry, audit, limiter, access: parts.adminAccess, issuer, now });

  return {
    consents,
    backchannelLogout,
    formActionFor: authorizationFormAction(authorizationState),
    clientFor: clientForReturnTo({ client: (id) => clients.get(id), interactionClientId: async (id) => (await authorizationState.interaction(id))?.request.clientId }),
    applications: {
      list: (userId) => listApplications(userId, applicationDeps),
      revoke: async (userId, clientId) => {
        if (!(await listApplications(userId, applicationDeps)).some((item) => item.client_id === clientId)) return false;
        await revokeApplication(userId, clientId, applicationDeps);
        return true;
      },
    },
  };
}
