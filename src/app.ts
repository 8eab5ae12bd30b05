import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from './config/schema.ts';
import type { MasterKey } from './crypto/master-key.ts';
import type { Database } from './storage/sql/database.ts';
import type { EphemeralStore } from './storage/ephemeral/types.ts';
import { lazyChildLoggerFactory, loggerOptions } from './http/logging.ts';
import { registerErrorHandling } from './http/errors.ts';
import { sendNotFoundPage } from './ui/error-page.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerAuthMetrics } from './http/auth-metrics.ts';
import { registerPasswordHashMetrics } from './crypto/passwords/metrics.ts';
import { registerOpenAPI } from './http/openapi.ts';
import { registerApiGuard, registerFormParser } from './http/api-guard.ts';
import { createCsrf } from './http/csrf.ts';
import { registerHealthRoutes } from './features/health/routes.ts';
import { requestIdGenerator } from './crypto/random.ts';
import { createPasswordHasher, type PasswordHasher } from './crypto/passwords/hasher.ts';
import { createSqlSessionStore } from './features/sessions/store.ts';
import { createSessionService } from './features/sessions/service.ts';
import { createSessionAuth } from './features/sessions/http.ts';
import { registerSessionRoutes } from './features/sessions/routes.ts';
import { createSqlOneTimeTokenStore, createSqlUserStore } from './features/accounts/store.ts';
import { createAccountsService } from './features/accounts/service.ts';
import { registerAccountRoutes } from './features/accounts/routes.ts';
import { createPasswordLogin } from './features/password-login/service.ts';
import { createAuditLog } from './features/audit/audit-log.ts';
import { registerAuditRequestContext } from './features/audit/request-context.ts';
import { AUDIT_MAC_PURPOSE, startAuditChain } from './features/audit/wiring.ts';
import { createRateLimiter } from './features/rate-limit/limiter.ts';
import { createLockout } from './features/rate-limit/lockout.ts';
import { createDevOutbox, createSmtpMailer, isDevOutbox, type Mailer } from './features/email/mailer.ts';
import { registerDevOutboxRoute } from './features/email/dev-outbox-route.ts';
import { registerPages } from './ui/pages.ts';
import { createKeyService } from './keys/service.ts';
import { createJWTSigner, createJWTVerifier } from './keys/jwt.ts';
import { registerJWKSRoute } from './keys/routes.ts';
import { createClientStore } from './features/clients/store.ts';
import { createClientRegistry } from './features/clients/registry.ts';
import { createClientAuthenticator } from './features/clients/authenticate.ts';
import { applyConfiguredClients } from './features/clients/config.ts';
import { registerAdminClientRoutes } from './features/admin/clients-routes.ts';
import { createSqlTokenStore } from './features/tokens/store.ts';
import { createRevocationService } from './features/tokens/revocation.ts';
import { createAccessTokenIssuer } from './features/tokens/access-token.ts';
import { createRefreshTokenService } from './features/tokens/refresh.ts';
import { createAccessTokenVerifier } from './features/tokens/verify.ts';
import { createFirstPartyTokens } from './features/tokens/first-party.ts';
import { registerRevocationStream } from './features/tokens/stream-route.ts';
import { registerTokenEndpoint } from './features/oauth/token/route.ts';
import { registerRevocationEndpoint } from './features/oauth/revoke/route.ts';
import { registerIntrospectionEndpoint } from './features/oauth/introspect/route.ts';
import { createAuthorizationState } from './features/oauth/authorize/state.ts';
import { authorizationFormAction, registerAuthorizeRoutes } from './features/oauth/authorize/routes.ts';
import { createConsentStore } from './features/oauth/consents/store.ts';
import { createIdTokenIssuer } from './features/oauth/id-token.ts';
import { createAuthorizationCodeGrant } from './features/oauth/token/grants/authorization-code.ts';
import { registerUserinfoRoute } from './features/oauth/userinfo/route.ts';
import { createDPoPService } from './features/oauth/dpop/service.ts';
import { createDPoPNonces } from './features/oauth/dpop/nonces.ts';
import { createTokenExchangeGrant } from './features/oauth/token/grants/token-exchange.ts';
import { parseTokenExchangePolicies } from './features/oauth/token/grants/token-exchange-policy.ts';
import { registerDiscoveryRoutes } from './features/oauth/discovery/route.ts';
import { registerDynamicRegistration } from './features/oauth/register/wiring.ts';
import { DEVICE_CODE_GRANT, registerDeviceFlow } from './features/oauth/device/wiring.ts';
import { registerPushedAuthorizationRequests } from './features/oauth/par/wiring.ts';
import { registerEndSessionRoutes } from './features/oauth/end-session/route.ts';
import { listApplications, registerApplicationRoutes, revokeApplication } from './features/oauth/applications/routes.ts';
import { createIdentityStore, createProviderStore } from './features/social/store.ts';
import { createProviderRegistry } from './features/social/registry.ts';
import { createUpstreamClient } from './features/social/upstream.ts';
import { createSocialLogin } from './features/social/service.ts';
import { registerAdminIdentityProviderRoutes } from './features/admin/identity-providers-routes.ts';
import { buildRoleCatalog, registerAdminApi } from './features/admin/wiring.ts';
import { createAdminAccess } from './features/admin/access.ts';
import { createOutbox } from './features/webhooks/outbox.ts';
import type { Resolver } from './features/webhooks/destination.ts';
import { registerAdminWebhookRoutes } from './features/webhooks/routes.ts';
import { createBackchannelLogout } from './features/oauth/backchannel-logout/service.ts';
import { createParticipantStore, recordingParticipants } from './features/oauth/backchannel-logout/participants.ts';
import { createMfaFeature } from './features/mfa/wiring.ts';
import { registerMfaRoutes } from './features/mfa/routes.ts';
import { registerMfaPages } from './ui/pages/mfa.ts';
import { passkeySignInBlock } from './ui/pages/mfa-passwordless.ts';
import packageJson from '../package.json' with { type: 'json' };

/** Everything the app needs from outside; `createApp` itself does no I/O beyond subscribing to revocations. */
export interface AppDeps {
  config: Config;
  database: Database;
  ephemeral: EphemeralStore;
  masterKey: MasterKey;
  /** Where logs go (default stdout); tests pass a capture stream. */
  logStream?: DestinationStream;
  /** The clock (ms since epoch); tests freeze it. */
  now?: () => number;
  /** Outgoing mail; default: SMTP when configured, else the development outbox. */
  mailer?: Mailer;
  /** Password hashing; default: argon2id at the configured cost and queue bounds. Tests pass one to count its work. */
  passwordHasher?: PasswordHasher;
  /** DNS for webhook and back-channel logout requests (default: the system's); tests simulate rebinding. */
  resolveHost?: Resolver;
}

export const VERSION: string = packageJson.version;

export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database, ephemeral, masterKey } = deps;
  const now = deps.now ?? Date.now;
  const app = Fastify({
    logger: loggerOptions({ level: config.logLevel, stream: deps.logStream }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    genReqId: requestIdGenerator(),
    childLoggerFactory: lazyChildLoggerFactory,
    requestIdHeader: false,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  registerErrorHandling(app, { notFoundPage: sendNotFoundPage });
  registerSecurityHeaders(app, { production: config.env === 'production' });
  registerFormParser(app);
  await registerOpenAPI(app, { publicUrl: config.publicUrl, version: VERSION, sessionCookieName: config.sessionCookieName });
  // /metrics: the admin listener (src/main.ts); the main port too only in development without one.
  const metricsRegistry = registerMetrics(app, { onMainPort: config.env === 'development' && config.adminPort === undefined });
  const metrics = registerAuthMetrics(app, metricsRegistry, { passwordHashQueueDepth: () => context.hasher.queueDepth() });
  registerPasswordHashMetrics(metricsRegistry, { stats: () => context.hasher.stats() });
  registerHealthRoutes(app, deps);

  const csrf = createCsrf({ key: masterKey.derive('csrf'), publicUrl: config.publicUrl, firstPartyOrigins: config.firstPartyOrigins });
  registerApiGuard(app, csrf);

  // Webhooks and back-channel logout: one durable outbox; mapped audit events queue webhooks.
  const outbox = createOutbox({ database, config, sealKey: masterKey.derive('webhook-secrets'), now, ...(deps.resolveHost ? { resolve: deps.resolveHost } : {}), onError: (error, what) => onBackgroundError(error, what) });
  registerAuditRequestContext(app);
  const audit = outbox.observe(createAuditLog(database.db, { now, onRecorded: metrics.observeAuditEvent, macKey: masterKey.derive(AUDIT_MAC_PURPOSE) }));
  startAuditChain(app, { database, masterKey, config, now });
  const onBackgroundError = (error: unknown, what: string) => app.log.warn({ what, reason: error instanceof Error ? error.message : 'error' }, 'background task failed');
  const issuer = config.publicUrl;

  // Signing keys: loaded (or created) before the first request; rotation follows on every instance.
  const keys = createKeyService({
    db: database.db,
    ephemeral,
    sealKey: masterKey.derive('signing-keys'),
    config,
    now,
    onError: onBackgroundError,
    onRotated: (key, context) => audit.record({ type: 'signing-key-rotated', outcome: 'success', actorId: context?.actorId ?? null, detail: { kid: key.kid, alg: key.alg, activates_at: key.activatesAt } }),
  });
  await keys.start();
  app.addHook('onClose', () => keys.stop());

  const tokenStore = createSqlTokenStore(database.db);
  const revocations = createRevocationService({ store: tokenStore, ephemeral, audit, accessTokenMaxTtlSeconds: config.accessTokenMaxTtlSeconds, now });

  // Ending a session (sign-out, revoke, password change) revokes the tokens issued with it.
  const sessions = createSessionService({ store: createSqlSessionStore(database.db), ephemeral, config, now, onEnded: async (ids, userId) => {
    await revocations.sessionsEnded(ids, userId);
    await backchannelLogout.sessionsEnded(ids);
  } });
  await sessions.start();
  app.addHook('onClose', () => sessions.stop());
  const auth = createSessionAuth({ sessions, cookieName: config.sessionCookieName });

  const mailer = deps.mailer ?? (config.smtpUrl ? createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom, logger: app.log }) : createDevOutbox({ logger: app.log }));
  app.addHook('onClose', () => mailer.close());
  const context = {
    config,
    users: createSqlUserStore(database.db),
    oneTimeTokens: createSqlOneTimeTokenStore(database.db),
    sessions,
    hasher: deps.passwordHasher ?? createPasswordHasher(
      { memoryKiB: config.argon2MemoryKiB, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism },
      { concurrency: config.passwordHashConcurrency, queueMax: config.passwordHashQueueMax, queueWaitMs: config.passwordHashQueueWaitMs },
    ),
    mailer,
    audit,
    limiter: createRateLimiter(ephemeral),
    lockout: createLockout(ephemeral, {
      threshold: config.lockoutThreshold,
      baseDelayMs: config.lockoutBaseDelaySeconds * 1000,
      maxDelayMs: config.lockoutMaxDelaySeconds * 1000,
      windowMs: 15 * 60_000,
    }, now),
    now,
    onCredentialsChanged: (userId: string) => revocations.revokeAllOfUser(userId, 'credentials changed'),
    // docs/mfa.md: change-password needs a recent second factor (mfa is built just below).
    requireRecentSecondFactor: (record: Parameters<typeof mfa.service.requireRecentSecondFactor>[0]) => mfa.service.requireRecentSecondFactor(record),
    onBackgroundError,
  };
  const accounts = createAccountsService(context);
  // MFA (docs/mfa.md): the second step between the first factor and the session.
  const mfa = createMfaFeature({
    config, database, ephemeral, masterKey, users: context.users, sessions, audit, mailer, limiter: context.limiter, lockout: context.lockout, now, onBackgroundError,
    trustDevice: (presented, account) => login.trustDevice(presented, account),
    onSessionReplaced: (from, to) => tokenStore.moveGrants(from, to),
  });
  const login = createPasswordLogin(context, { deviceKey: masterKey.derive('device-cookie'), secondStep: mfa.gate });

  // OAuth clients: the registry (admin API, CLI and config file agree) and back-channel authentication.
  const clientStore = createClientStore(database.db);
  const clients = createClientRegistry({ store: clientStore, db: database.db, audit, now, beforeDelete: (clientId) => revocations.revokeClient(clientId) });
  await applyConfiguredClients(clients, config.clients);
  const authenticator = createClientAuthenticator({ store: clientStore, ephemeral, issuer, now });

  // Tokens: RFC 9068 access tokens, rotating refresh tokens, revocation that reaches verifiers.
  const signer = createJWTSigner(keys);
  const jwtVerifier = createJWTVerifier(keys, { issuer, now });
  // The role catalog: permissions reach access tokens, ID tokens (roles scope) and the session API.
  const roleCatalog = buildRoleCatalog({ db: database.db, audit, now });
  const accessTokens = createAccessTokenIssuer({ signer, issuer, defaultTtlSeconds: config.accessTokenTtlSeconds, maxTtlSeconds: config.accessTokenMaxTtlSeconds, now, permissionsOf: roleCatalog.permissionsOf });
  const refreshTokens = createRefreshTokenService({ db: database.db, sealKey: masterKey.derive('refresh-token-successors'), config, revocations, audit, now, sessionLive: (id) => sessions.touchIfLive(id) });
  const verifier = createAccessTokenVerifier({ jwt: jwtVerifier, revocations, maxLifetimeSeconds: config.accessTokenMaxTtlSeconds });
  const firstPartyTokens = createFirstPartyTokens({ clients: clientStore, accessTokens, refreshTokens, issuer });

  registerSessionRoutes(app, { sessions, auth, audit, permissionsOf: roleCatalog.permissionsOf });
  registerAccountRoutes(app, { accounts, login, auth, firstPartyTokens });
  registerMfaRoutes(app, { mfa: mfa.service, signIn: mfa.signIn, auth, firstPartyTokens, now });
  registerJWKSRoute(app, { keys, cacheSeconds: config.jwksCacheSeconds });
  // OpenID Connect provider: authorization code + PKCE, consent, ID tokens, userinfo, discovery, logout.
  const authorizationState = createAuthorizationState(ephemeral, { codeTtlSeconds: config.authorizationCodeTtlSeconds, now });
  const consents = createConsentStore(database.db);
  const idTokenSigner = createJWTSigner(keys, config.idTokenSigningAlgorithm);
  const participants = createParticipantStore(database.db);
  const idTokens = recordingParticipants(createIdTokenIssuer({ signer: idTokenSigner, issuer, ttlSeconds: config.idTokenTtlSeconds, now, permissionsOf: roleCatalog.permissionsOf }), participants, now);
  // Back-Channel Logout 1.0: logout tokens (ID-token keys, typ logout+jwt) through the outbox.
  const backchannelLogout = createBackchannelLogout({ outbox, participants, clients: clientStore, signer: idTokenSigner, issuer, now });
  const authorizationCode = createAuthorizationCodeGrant({ state: authorizationState, tokenStore, revocations, idTokens, sessionLive: (id) => sessions.touchIfLive(id), audit, codeTtlSeconds: config.authorizationCodeTtlSeconds, now });
  // Device authorization grant (RFC 8628): /oauth/device_authorization, /device, and its grant.
  const deviceFlow = registerDeviceFlow(app, { config, ephemeral, issuer, authenticator, clients: clientStore, consents, auth, csrf, audit, limiter: context.limiter, revocations, idTokens, sessionLive: (id) => sessions.touchIfLive(id), now });
  // DPoP (RFC 9449): sender-constrained tokens; token exchange (RFC 8693) by per-client policy.
  const dpop = createDPoPService({ config, ephemeral, nonces: createDPoPNonces({ key: masterKey.derive('dpop-nonces'), now }), now });
  const tokenExchange = createTokenExchangeGrant({ policies: parseTokenExchangePolicies(config.tokenExchangePolicies), verifier, jwt: jwtVerifier, revocations, audit, now });
  registerTokenEndpoint(app, { issuer, accessTokens, refreshTokens, users: context.users, authenticator, dpop, grants: { authorization_code: authorizationCode, [DEVICE_CODE_GRANT]: deviceFlow.grant, 'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchange } });
  // Pushed authorization requests (RFC 9126): /oauth/par, and request_uri at /oauth/authorize.
  const pushedRequests = registerPushedAuthorizationRequests(app, { config, ephemeral, issuer, authenticator, clients: clientStore, now });
  registerAuthorizeRoutes(app, { issuer, clients: clientStore, consents, state: authorizationState, auth, csrf, audit, firstPartySkipConsent: config.firstPartySkipConsent, jwt: jwtVerifier, now, pushedRequests });
  registerUserinfoRoute(app, { issuer, verifier, users: context.users, dpop });
  registerDiscoveryRoutes(app, { issuer, idTokenSigningAlgorithm: config.idTokenSigningAlgorithm, requirePushedAuthorizationRequests: config.requirePushedAuthorizationRequests, registrationEndpoint: config.dynamicRegistration !== 'off' });
  registerEndSessionRoutes(app, { issuer, clients: clientStore, jwt: jwtVerifier, auth, sessions, csrf, audit });
  const applicationDeps = { auth, consents, tokenStore, clients: clientStore, revocations, audit, now };
  registerApplicationRoutes(app, applicationDeps);
  registerRevocationEndpoint(app, { issuer, authenticator, refreshTokens, revocations: metrics.counting(revocations), verifier });
  registerIntrospectionEndpoint(app, { issuer, authenticator, refreshTokens, verifier, limiter: context.limiter, inactiveLimit: config.introspectionInactiveLimit, onResult: metrics.introspection });
  registerRevocationStream(app, { issuer, authenticator, revocations: metrics.counting(revocations), store: tokenStore, now });
  // One admin access check (session or admin-scoped client token) for every /api/admin/ area it covers.
  const adminAccess = createAdminAccess({ auth, users: context.users, verifier, clients: clientStore, issuer, permissionsOf: async (roles) => new Set(await roleCatalog.permissionsOf(roles)) });
  registerAdminClientRoutes(app, { registry: clients, access: adminAccess });
  // Dynamic client registration (RFC 7591/7592), off by default; clients registered there are never first-party.
  registerDynamicRegistration(app, { config, db: database.db, registry: clients, audit, limiter: context.limiter, access: adminAccess, issuer, now });
  await outbox.subscriptions.applyConfigured(config.webhooks);
  registerAdminWebhookRoutes(app, { subscriptions: outbox.subscriptions, store: outbox.store, auth, users: context.users, now, onReplayed: () => outbox.worker.kick() });
  app.decorate('webhookDelivery', outbox.worker);
  app.addHook('onReady', async () => outbox.worker.start());
  app.addHook('onClose', () => outbox.worker.stop());

  // Social login: upstream providers (config file + admin API) and linked identities.
  const providers = createProviderRegistry({ store: createProviderStore(database.db), sealKey: masterKey.derive('identity-provider-secrets'), configured: config.socialProviders, audit, now });
  const social = createSocialLogin({
    registry: providers,
    upstream: createUpstreamClient({ publicUrl: config.publicUrl, now }),
    identities: createIdentityStore(database.db),
    users: context.users,
    oneTimeTokens: context.oneTimeTokens,
    sessions,
    login,
    // docs/mfa.md: a social sign-in leads to the same second step as a password one.
    secondStep: mfa.gate,
    audit,
    ephemeral,
    mailer,
    limiter: context.limiter,
    tokenKey: masterKey.derive('upstream-tokens'),
    publicUrl: config.publicUrl,
    now,
    onBackgroundError,
    onTakeover: async (userId) => {
      await sessions.revokeAllForUser(userId);
      await revocations.revokeAllOfUser(userId, 'account taken over by its email owner');
    },
  });
  registerAdminIdentityProviderRoutes(app, { registry: providers, access: adminAccess, publicUrl: config.publicUrl });
  // Users (and later roles, audit, keys) administration: admin sessions or client tokens with admin scopes.
  registerAdminApi(app, { db: database.db, users: context.users, oneTimeTokens: context.oneTimeTokens, sessions, revocations, tokenStore, consents, clients: clientStore, mailer, audit, config, now, onBackgroundError, auth, verifier, issuer, keys, access: adminAccess });
  registerPages(app, {
    social, config, csrf, auth, sessions, accounts, login, audit, formActionFor: authorizationFormAction(authorizationState), passkeySignIn: passkeySignInBlock(mfa.passkeys),
    onSessionReplaced: (from, to) => tokenStore.moveGrants(from, to),
    applications: {
      list: (userId) => listApplications(userId, applicationDeps),
      revoke: async (userId, clientId) => {
        if (!(await listApplications(userId, applicationDeps)).some((item) => item.client_id === clientId)) return false;
        await revokeApplication(userId, clientId, applicationDeps);
        return true;
      },
    },
  });
  registerMfaPages(app, { config, csrf, auth, sessions, mfa: mfa.service, signIn: mfa.signIn, passkeys: mfa.passkeys, formActionFor: authorizationFormAction(authorizationState), onSessionReplaced: (from, to) => tokenStore.moveGrants(from, to), now });
  // The outbox page shows live links: development mode only, never in production.
  if (config.env === 'development' && isDevOutbox(mailer)) registerDevOutboxRoute(app, mailer);

  return app;
}
