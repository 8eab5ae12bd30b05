import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { MasterKey } from '../crypto/master-key.ts';
import { createPasswordHasher, type PasswordHasher } from '../crypto/passwords/hasher.ts';
import type { AuthMetrics } from '../http/auth-metrics.ts';
import { registerApiGuard } from '../http/api-guard.ts';
import { createCsrf, type Csrf } from '../http/csrf.ts';
import type { Database } from '../storage/sql/database.ts';
import type { EphemeralStore } from '../storage/ephemeral/types.ts';
import { createAuditLog, type AuditLog } from './audit/audit-log.ts';
import { registerAuditRequestContext } from './audit/request-context.ts';
import { AUDIT_MAC_PURPOSE, startAuditChain } from './audit/wiring.ts';
import { createDevOutbox, createSmtpMailer, type Mailer } from './email/mailer.ts';
import { buildRoleCatalog } from './admin/wiring.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit/limiter.ts';
import { createLockout, type Lockout } from './rate-limit/lockout.ts';
import type { RoleCatalog } from './roles/catalog.ts';
import type { Resolver } from './webhooks/destination.ts';
import { createOutbox, type Outbox } from './webhooks/outbox.ts';

/**
 * What every feature may use, built once by `createShared` before any feature (src/app.ts).
 * A feature's entry point takes `(app, shared, parts)`: `shared` is this, `parts` only what it
 * needs from features registered before it.
 */
export interface Shared {
  config: Config;
  database: Database;
  ephemeral: EphemeralStore;
  masterKey: MasterKey;
  /** The clock (ms since epoch); tests freeze it. */
  now: () => number;
  /** Our issuer identifier: the public URL. */
  issuer: string;
  /** Reports failures of fire-and-forget work without secrets. */
  onBackgroundError: (error: unknown, what: string) => void;
  metrics: AuthMetrics;
  csrf: Csrf;
  /** The durable outbox behind webhooks and back-channel logout. */
  outbox: Outbox;
  /** The audit log; mapped events also queue webhooks (through the outbox). */
  audit: AuditLog;
  mailer: Mailer;
  hasher: PasswordHasher;
  limiter: RateLimiter;
  lockout: Lockout;
  /** The role catalog: permissions reach access tokens, ID tokens (roles scope) and the session API. */
  roles: RoleCatalog;
}

export interface SharedDeps {
  config: Config;
  database: Database;
  ephemeral: EphemeralStore;
  masterKey: MasterKey;
  now: () => number;
  mailer?: Mailer | undefined;
  passwordHasher?: PasswordHasher | undefined;
  resolveHost?: Resolver | undefined;
}

/** The shared context, and the request hooks every feature relies on (CSRF guard, audit context, audit chain). */
export function createShared(app: FastifyInstance, deps: SharedDeps, parts: { metrics: AuthMetrics }): Shared {
  const { config, database, ephemeral, masterKey, now } = deps;
  const csrf = createCsrf({ key: masterKey.derive('csrf'), publicUrl: config.publicUrl, firstPartyOrigins: config.firstPartyOrigins });
  registerApiGuard(app, csrf);

  // Webhooks and back-channel logout: one durable outbox; mapped audit events queue webhooks.
  const outbox = createOutbox({ database, config, sealKey: masterKey.derive('webhook-secrets'), now, ...(deps.resolveHost ? { resolve: deps.resolveHost } : {}), onError: (error, what) => onBackgroundError(error, what) });
  registerAuditRequestContext(app);
  const audit = outbox.observe(createAuditLog(database.db, { now, onRecorded: parts.metrics.observeAuditEvent, macKey: masterKey.derive(AUDIT_MAC_PURPOSE) }));
  startAuditChain(app, { database, masterKey, config, now });
  const onBackgroundError = (error: unknown, what: string): void => app.log.warn({ what, reason: error instanceof Error ? error.message : 'error' }, 'background task failed');

  const mailer = deps.mailer ?? (config.smtpUrl ? createSmtpMailer({ url: config.smtpUrl, from: config.mailFrom, logger: app.log }) : createDevOutbox({ logger: app.log }));
  app.addHook('onClose', () => mailer.close());
  return {
    config,
    database,
    ephemeral,
    masterKey,
    now,
    issuer: config.publicUrl,
    onBackgroundError,
    metrics: parts.metrics,
    csrf,
    outbox,
    audit,
    mailer,
    hasher: deps.passwordHasher ?? createPasswordHasher(
      { memoryKiB: config.argon2MemoryKiB, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism },
      { concurrency: config.passwordHashConcurrency, queueMax: config.passwordHashQueueMax, queueWaitMs: config.passwordHashQueueWaitMs },
    ),
    limiter: createRateLimiter(ephemeral),
    lockout: createLockout(ephemeral, {
      threshold: config.lockoutThreshold,
      baseDelayMs: config.lockoutBaseDelaySeconds * 1000,
      maxDelayMs: config.lockoutMaxDelaySeconds * 1000,
      windowMs: 15 * 60_000,
    }, now),
    roles: buildRoleCatalog({ db: database.db, audit, now }),
  };
}
