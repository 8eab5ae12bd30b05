import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../../../config/schema.ts';
import type { DatabaseSchema } from '../../../storage/sql/schema.ts';
import type { AdminAccess } from '../../admin/access.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ClientRegistry } from '../../clients/registry.ts';
import type { RateLimiter } from '../../rate-limit/limiter.ts';
import { registerDynamicRegistrationRoutes, registerInitialAccessTokenRoute } from './routes.ts';
import { createInitialTokenIssuer, createRegistrationService } from './service.ts';
import { createRegistrationStore } from './store.ts';

/**
 * Dynamic client registration (RFC 7591/7592, docs/oauth.md): `/oauth/register` answers only
 * when `dynamicRegistration` is not `off` (404 otherwise; the routes stay in the OpenAPI
 * document); the admin route for initial access tokens always, so they can be prepared first.
 */
export function registerDynamicRegistration(app: FastifyInstance, deps: {
  config: Pick<Config, 'dynamicRegistration' | 'dynamicRegistrationsPerIp' | 'idTokenSigningAlgorithm'>;
  db: Kysely<DatabaseSchema>;
  registry: ClientRegistry;
  audit: AuditLog;
  limiter: RateLimiter;
  access: AdminAccess;
  issuer: string;
  now: () => number;
}): void {
  const store = createRegistrationStore(deps.db);
  registerInitialAccessTokenRoute(app, { issuer: createInitialTokenIssuer({ store, audit: deps.audit, now: deps.now }), access: deps.access });
  const service = createRegistrationService({
    mode: deps.config.dynamicRegistration,
    registry: deps.registry,
    store,
    issuer: deps.issuer,
    idTokenSigningAlgorithm: deps.config.idTokenSigningAlgorithm,
    now: deps.now,
  });
  registerDynamicRegistrationRoutes(app, { service, limiter: deps.limiter, config: deps.config, enabled: deps.config.dynamicRegistration !== 'off' });
}
