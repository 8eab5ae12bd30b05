import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from './config/schema.ts';
import type { MasterKey } from './crypto/master-key.ts';
import type { Database } from './storage/sql/database.ts';
import type { EphemeralStore } from './storage/ephemeral/types.ts';
import { loggerOptions } from './http/logging.ts';
import { registerErrorHandling } from './http/errors.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerOpenAPI } from './http/openapi.ts';
import { registerApiGuard, registerFormParser } from './http/api-guard.ts';
import { createCsrf } from './http/csrf.ts';
import { registerHealthRoutes } from './features/health/routes.ts';
import { newId } from './crypto/random.ts';
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
    genReqId: () => newId(),
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

  const sessions = createSessionService({ store: createSqlSessionStore(database.db), ephemeral, config, now });
  await sessions.start();
  app.addHook('onClose', () => sessions.stop());
  const auth = createSessionAuth({ sessions, cookieName: config.sessionCookieName });

  const mailer = deps.mailer ?? (config.smtpUrl ? createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom, logger: app.log }) : createDevOutbox({ logger: app.log }));
  app.addHook('onClose', () => mailer.close());
  const audit = createAuditLog(database.db, { now });
  const context = {
    config,
    users: createSqlUserStore(database.db),
    oneTimeTokens: createSqlOneTimeTokenStore(database.db),
    sessions,
    hasher: createPasswordHasher({ memoryKiB: config.argon2MemoryKiB, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism }),
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
    onBackgroundError: (error: unknown, what: string) => app.log.warn({ what, reason: error instanceof Error ? error.message : 'error' }, 'background task failed'),
  };
  const accounts = createAccountsService(context);
  const login = createPasswordLogin(context);

  registerSessionRoutes(app, { sessions, auth, audit });
  registerAccountRoutes(app, { accounts, login, auth });
  registerPages(app, { config, csrf, auth, sessions, accounts, login, audit });
  // The outbox page shows live links: development mode only, never in production.
  if (config.env === 'development' && isDevOutbox(mailer)) registerDevOutboxRoute(app, mailer);

  return app;
}
