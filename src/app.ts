import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from './config/schema.ts';
import type { MasterKey } from './crypto/master-key.ts';
import type { Database } from './storage/sql/database.ts';
import type { EphemeralStore } from './storage/ephemeral/types.ts';
import { lazyChildLoggerFactory, loggerOptions } from './http/logging.ts';
import { registerErrorHandling } from './http/errors.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerOpenAPI } from './http/openapi.ts';
import { registerApiGuard, registerFormParser } from './http/api-guard.ts';
import { createCsrf } from './http/csrf.ts';
import { registerHealthRoutes } from './features/health/routes.ts';
import { requestIdGenerator } from './crypto/random.ts';
import { createPasswordHasher } from './crypto/passwords/hasher.ts';
import { createSqlSessionStore } from './features/sessions/store.ts';
import { createSessionService } from './features/sessions/service.ts';
import { createSessionAuth } from './features/sessions/http.ts';
import { registerSessionRoutes } from './features/sessions/routes.ts';
import { createSqlOneTimeTokenStore, createSqlUserStore } from './features/accounts/store.ts';
import { createAccountsService } from './features/accounts/service.ts';
import { registerAccountRoutes } from './features/accounts/routes.ts';
import { createPasswordLogin } from './features/password-login/service.ts';
import { createAuditLog } from './features/audit/audit-log.ts';
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
import { registerDiscoveryRoutes } from './features/oauth/discovery/route.ts';
import { registerEndSessionRoutes } from './features/oauth/end-session/route.ts';
import { listApplications, registerApplicationRoutes, revokeApplication } from './features/oauth/applications/routes.ts';
import { createIdentityStore, createProviderStore } from './features/social/store.ts';
import { createProviderRegistry } from './features/social/registry.ts';
import { createUpstreamClient } from './features/social/upstream.ts';
import { createSocialLogin } from './features/social/service.ts';
import { registerAdminIdentityProviderRoutes } from './features/admin/identity-providers-routes.ts';
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

  registerErrorHandling(app);
  registerSecurityHeaders(app, { production: config.env === 'production' });
  registerFormParser(app);
  await registerOpenAPI(app, { publicUrl: config.publicUrl, version: VERSION });
  registerMetrics(app);
  registerHealthRoutes(app, deps);

  const csrf = createCsrf({ key: masterKey.derive('csrf'), publicUrl: config.publicUrl, firstPartyOrigins: config.firstPartyOrigins });
  registerApiGuard(app, csrf);

  const audit = createAuditLog(database.db, { now });
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
    onRotated: (key) => audit.record({ type: 'signing-key-rotated', outcome: 'success', detail: { kid: key.kid, alg: key.alg, activates_at: key.activatesAt } }),
  });
  await keys.start();
  app.addHook('onClose', () => keys.stop());

  const tokenStore = createSqlTokenStore(database.db);
  const revocations = createRevocationService({ store: tokenStore, ephemeral, audit, accessTokenMaxTtlSeconds: config.accessTokenMaxTtlSeconds, now });

  // Ending a session (sign-out, revoke, password change) revokes the tokens issued with it.
  const sessions = createSessionService({ store: createSqlSessionStore(database.db), ephemeral, config, now, onEnded: (ids, userId) => revocations.sessionsEnded(ids, userId) });
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
    hasher: createPasswordHasher({ memoryKiB: config.argon2MemoryKiB, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism }, { concurrency: config.passwordHashConcurrency }),
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
    onBackgroundError,
  };
  const accounts = createAccountsService(context);
  const login = createPasswordLogin(context, { deviceKey: masterKey.derive('device-cookie') });

  // OAuth clients: the registry (admin API, CLI and config file agree) and back-channel authentication.
  const clientStore = createClientStore(database.db);
  const clients = createClientRegistry({ store: clientStore, db: database.db, audit, now, beforeDelete: (clientId) => revocations.revokeClient(clientId) });
  await applyConfiguredClients(clients, config.clients);
  const authenticator = createClientAuthenticator({ store: clientStore, ephemeral, issuer, now });

  // Tokens: RFC 9068 access tokens, rotating refresh tokens, revocation that reaches verifiers.
  const signer = createJWTSigner(keys);
  const jwtVerifier = createJWTVerifier(keys, { issuer, now });
  const accessTokens = createAccessTokenIssuer({ signer, issuer, defaultTtlSeconds: config.accessTokenTtlSeconds, maxTtlSeconds: config.accessTokenMaxTtlSeconds, now });
  const refreshTokens = createRefreshTokenService({ db: database.db, sealKey: masterKey.derive('refresh-token-successors'), config, revocations, audit, now, sessionLive: (id) => sessions.touchIfLive(id) });
  const verifier = createAccessTokenVerifier({ jwt: jwtVerifier, revocations, maxLifetimeSeconds: config.accessTokenMaxTtlSeconds });
  const firstPartyTokens = createFirstPartyTokens({ clients: clientStore, accessTokens, refreshTokens, issuer });

  registerSessionRoutes(app, { sessions, auth, audit });
  registerAccountRoutes(app, { accounts, login, auth, firstPartyTokens });
  registerJWKSRoute(app, { keys, cacheSeconds: config.jwksCacheSeconds });
  // OpenID Connect provider: authorization code + PKCE, consent, ID tokens, userinfo, discovery, logout.
  const authorizationState = createAuthorizationState(ephemeral, { codeTtlSeconds: config.authorizationCodeTtlSeconds, now });
  const consents = createConsentStore(database.db);
  const idTokens = createIdTokenIssuer({ signer: createJWTSigner(keys, config.idTokenSigningAlgorithm), issuer, ttlSeconds: config.idTokenTtlSeconds, now });
  const authorizationCode = createAuthorizationCodeGrant({ state: authorizationState, tokenStore, revocations, idTokens, sessionLive: (id) => sessions.touchIfLive(id), audit, codeTtlSeconds: config.authorizationCodeTtlSeconds, now });
  registerTokenEndpoint(app, { issuer, accessTokens, refreshTokens, users: context.users, authenticator, grants: { authorization_code: authorizationCode } });
  registerAuthorizeRoutes(app, { issuer, clients: clientStore, consents, state: authorizationState, auth, csrf, audit, firstPartySkipConsent: config.firstPartySkipConsent, jwt: jwtVerifier, now });
  registerUserinfoRoute(app, { issuer, verifier, users: context.users });
  registerDiscoveryRoutes(app, { issuer, idTokenSigningAlgorithm: config.idTokenSigningAlgorithm });
  registerEndSessionRoutes(app, { issuer, clients: clientStore, jwt: jwtVerifier, auth, sessions, csrf, audit });
  const applicationDeps = { auth, consents, tokenStore, clients: clientStore, revocations, audit, now };
  registerApplicationRoutes(app, applicationDeps);
  registerRevocationEndpoint(app, { issuer, authenticator, refreshTokens, revocations, verifier });
  registerIntrospectionEndpoint(app, { issuer, authenticator, refreshTokens, verifier, limiter: context.limiter, inactiveLimit: config.introspectionInactiveLimit });
  registerRevocationStream(app, { issuer, authenticator, revocations, store: tokenStore, now });
  registerAdminClientRoutes(app, { registry: clients, auth, users: context.users });

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
  registerAdminIdentityProviderRoutes(app, { registry: providers, auth, users: context.users, publicUrl: config.publicUrl });
  registerPages(app, {
    social, config, csrf, auth, sessions, accounts, login, audit, formActionFor: authorizationFormAction(authorizationState),
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
  // The outbox page shows live links: development mode only, never in production.
  if (config.env === 'development' && isDevOutbox(mailer)) registerDevOutboxRoute(app, mailer);

  return app;
}
