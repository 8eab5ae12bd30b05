import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from './config/schema.ts';
import type { MasterKey } from './crypto/master-key.ts';
import type { PasswordHasher } from './crypto/passwords/hasher.ts';
import { registerPasswordHashMetrics } from './crypto/passwords/metrics.ts';
import type { Database } from './storage/sql/database.ts';
import type { EphemeralStore } from './storage/ephemeral/types.ts';
import { lazyChildLoggerFactory, loggerOptions } from './http/logging.ts';
import { registerErrorHandling } from './http/errors.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerAuthMetrics } from './http/auth-metrics.ts';
import { registerOpenAPI } from './http/openapi.ts';
import { registerFormParser } from './http/api-guard.ts';
import { requestIdGenerator } from './crypto/random.ts';
import { sendNotFoundPage } from './ui/error-page.ts';
import type { Mailer } from './features/email/mailer.ts';
import type { Resolver } from './features/webhooks/destination.ts';
import { registerHealthRoutes } from './features/health/routes.ts';
import { createShared } from './features/shared.ts';
import { registerKeysFeature } from './keys/wiring.ts';
import { registerClientsFeature } from './features/clients/wiring.ts';
import { registerTokensFeature } from './features/tokens/wiring.ts';
import { registerAccountsFeature } from './features/accounts/wiring.ts';
import { createAdminAccessFor, registerAdminFeature } from './features/admin/feature.ts';
import { registerBrandingSettings } from './features/admin/branding.ts';
import { registerOAuthProvider } from './features/oauth/wiring.ts';
import { registerSocialFeature } from './features/social/wiring.ts';
import { registerWebhooksFeature } from './features/webhooks/wiring.ts';
import { registerPagesFeature } from './ui/wiring.ts';
import { registerTheme } from './ui/theme/index.ts';
import { registerHousekeeping } from './features/housekeeping/wiring.ts';
import { registerMailTemplates } from './features/email/overrides.ts';
import { registerSelfService } from './features/accounts/self-service/wiring.ts';
import { adminConsoleDeps, registerAdminConsole } from './features/admin/console/wiring.ts';
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
  const { config } = deps;
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
  const metrics = registerAuthMetrics(app, metricsRegistry, { passwordHashQueueDepth: () => shared.hasher.queueDepth() });
  registerPasswordHashMetrics(metricsRegistry, { stats: () => shared.hasher.stats() });
  registerHealthRoutes(app, deps);

  // The features, in order. Each is one call: `registerXxx(app, shared, parts)` registers its own
  // routes and hooks and returns only what later features need (docs/architecture.md#composition).
  // A feature that needs one registered after it takes a function (a closure over the later const).

  // Shared context: config, stores, clock, CSRF guard, audit (+ chain, webhooks), mail, limits, roles.
  const shared = createShared(app, { ...deps, now: deps.now ?? Date.now }, { metrics });
  // Theme and language: the brand (files under /assets/brand/, the page script), the default locale (docs/branding.md).
  registerTheme(app, config);
  // Mail template overrides (mailTemplateDir), checked at start-up (docs/branding.md#mail-templates).
  registerMailTemplates(app, config);
  // Signing keys (started before any route) and the JWKS route.
  const keys = await registerKeysFeature(app, shared);
  // OAuth clients: the registry (admin API, CLI, config file) and back-channel client authentication.
  const clients = await registerClientsFeature(app, shared, { beforeDelete: (clientId) => tokens.revocations.revokeClient(clientId) });
  // Tokens: access and refresh tokens, revocation and its stream.
  const tokens = registerTokensFeature(app, shared, { keys, clients, sessionLive: (id) => accounts.sessions.touchIfLive(id) });
  // Accounts, sessions, password sign-in and MFA; ended sessions revoke tokens, then log out relying parties.
  const accounts = await registerAccountsFeature(app, shared, { tokens, onSessionsEnded: (ids) => oauth.backchannelLogout.sessionsEnded(ids) });
  // One admin access check (admin session or admin:* client token) for every /api/admin/ route.
  const adminAccess = createAdminAccessFor(shared, { accounts, tokens, clients });
  // OpenID Connect provider: authorize, token (+ device, exchange, DPoP, PAR), userinfo, logout, DCR …
  const oauth = registerOAuthProvider(app, shared, { keys, clients, tokens, accounts, adminAccess });
  // Webhooks: configured subscriptions, their admin API, the delivery worker.
  await registerWebhooksFeature(app, shared, { accounts });
  // Social login: upstream providers (config file + admin API) and linked identities.
  const social = registerSocialFeature(app, shared, { accounts, tokens });
  // Admin API: clients, identity providers, users, roles, audit, keys.
  registerAdminFeature(app, shared, { access: adminAccess, keys, clients, tokens, accounts, oauth, social });
  // Branding from the admin API and console: stored text settings over the config, on every instance.
  await registerBrandingSettings(app, shared, { access: adminAccess, auth: accounts.auth });
  // Admin console: /admin pages over the admin API's services (docs/admin.md#console).
  registerAdminConsole(app, adminConsoleDeps(shared, { access: adminAccess, keys, clients, tokens, accounts, oauth, social }));
  // Self-service: change email (verified, undoable), delete my account, download my data.
  const selfService = registerSelfService(app, shared, { accounts, tokens, clients, oauth });
  // Pages: sign-in, sign-up, account, social, MFA steps (+ the development mail outbox).
  registerPagesFeature(app, shared, { accounts, tokens, oauth, social, selfService });
  // Housekeeping: deletes rows nothing can use again, in small batches (docs/operations.md#housekeeping).
  registerHousekeeping(app, shared);
  // New features go here (or earlier, if a later one needs them): one commented line each.

  return app;
}
