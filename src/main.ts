import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { createApp } from './app.ts';
import { loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { reportStartupError } from './startup-error.ts';
import { parseArgs } from 'node:util';
import { resolveMasterKey } from './crypto/master-key.ts';
import { openStorage } from './storage/open.ts';
import { startAdminListener, type AdminListener } from './http/admin-listener.ts';

export interface RunningServer {
  app: FastifyInstance;
  /** The address actually bound (port 0 resolves to a real port). */
  url: string;
  /** The admin listener (/metrics, /healthz, /readyz), when `adminPort` is set. */
  adminUrl: string | undefined;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the stores. */
  close(): Promise<void>;
}

/** loadConfig → openStorage → createApp → listen. */
export async function startServer(config: Config, options: { logStream?: DestinationStream } = {}): Promise<RunningServer> {
  const masterKey = resolveMasterKey(config);
  const storage = await openStorage(config);
  let app: FastifyInstance;
  let admin: AdminListener | undefined;
  try {
    app = await createApp({
      config,
      database: storage.database,
      ephemeral: storage.ephemeral,
      masterKey,
      ...(options.logStream ? { logStream: options.logStream } : {}),
    });
    // The bind address only, without a scheme: the one URL to browse is the ready line's.
    await app.listen({ port: config.port, host: config.host, listenTextResolver: (address) => `bound to ${address.replace(/^https?:\/\//, '')}` });
    if (config.adminPort !== undefined) {
      const started = app;
      admin = await startAdminListener(started, { port: config.adminPort, host: config.adminHost }).catch(async (error: unknown) => {
        await started.close();
        throw error;
      });
    }
  } catch (error) {
    await storage.close();
    throw error;
  }
  const address = app.server.address();
  const url = typeof address === 'object' && address !== null ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : config.publicUrl;
  if (storage.applied.length > 0) app.log.info({ migrations: storage.applied }, 'database migrated');
  if (masterKey.createdFile) app.log.info({ dataDir: config.dataDir }, 'generated a development master key (master.key, mode 0600) — keep it with the database');
  app.log.info(
    { database: storage.database.dialect, ephemeral: storage.ephemeral.kind, env: config.env },
    `Gatehouse is ready at ${announcedUrl(config.publicUrl, typeof address === 'object' && address !== null ? address.port : undefined)}`,
  );

  if (admin) app.log.info({ url: admin.url }, `admin listener (metrics, health) at ${admin.url}`);

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    adminUrl: admin?.url,
    close: () => {
      closing ??= (async () => {
        const timer = setTimeout(() => {
          app.log.warn('shutdown timed out; closing remaining connections');
          app.server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        try {
          await Promise.all([app.close(), admin?.close()]);
        } finally {
          clearTimeout(timer);
          await storage.close();
        }
      })();
      return closing;
    },
  };
}

/**
 * The one URL printed at start-up: the public URL, so that the page an operator opens and the
 * links in mails share one origin (and one set of cookies). A public URL derived from port 0
 * (tests) names the port actually bound instead, so the printed address is always reachable.
 */
export function announcedUrl(publicUrl: string, boundPort: number | undefined): string {
  const url = new URL(publicUrl);
  if (url.port !== '0' || boundPort === undefined) return publicUrl;
  url.port = String(boundPort);
  return url.toString().replace(/\/$/, '');
}

/** Runs the server until SIGTERM/SIGINT; start-up problems print one line and exit non-zero. */
export async function runServer(options: { configFile?: string | undefined } = {}): Promise<void> {
  let server: RunningServer;
  try {
    const config = loadConfig({ env: process.env, configFile: options.configFile });
    server = await startServer(config);
  } catch (error) {
    reportStartupError(error);
    return;
  }
  const stop = (signal: NodeJS.Signals): void => {
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.main) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { config: { type: 'string' } }, strict: false });
  await runServer({ configFile: typeof values.config === 'string' ? values.config : undefined });
}
