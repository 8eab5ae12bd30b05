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
import { registerHealthRoutes } from './features/health/routes.ts';
import { newId } from './crypto/random.ts';
import packageJson from '../package.json' with { type: 'json' };

/** Everything the app needs from outside; `createApp` itself does no I/O. */
export interface AppDeps {
  config: Config;
  database: Database;
  ephemeral: EphemeralStore;
  masterKey: MasterKey;
  /** Where logs go (default stdout); tests pass a capture stream. */
  logStream?: DestinationStream;
  /** The clock (ms since epoch); tests freeze it. */
  now?: () => number;
}

export const VERSION: string = packageJson.version;

export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
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
  await registerOpenAPI(app, { publicUrl: config.publicUrl, version: VERSION });
  registerMetrics(app);
  registerHealthRoutes(app, deps);
  return app;
}
