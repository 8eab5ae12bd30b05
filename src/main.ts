import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { createApp } from './app.ts';
import { loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { reportStartupError } from './startup-error.ts';
import { parseArgs } from 'node:util';
import { resolveMasterKey } from './crypto/master-key.ts';
import { openStorage } from './storage/open.ts';

export interface RunningServer {
  app: FastifyInstance;
  /** The address actually bound (port 0 resolves to a real port). */
  url: string;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the stores. */
  close(): Promise<void>;
}

/** loadConfig → openStorage → createApp → listen. */
export async function startServer(config: Config, options: { logStream?: DestinationStream } = {}): Promise<RunningServer> {
  const masterKey = resolveMasterKey(config);
  const storage = await openStorage(config);
  let app: FastifyInstance;
  try {
    app = await createApp({
      config,
      database: storage.database,
      ephemeral: storage.ephemeral,
      masterKey,
      ...(options.logStream ? { logStream: options.logStream } : {}),
    });
    await app.listen({ port: config.port, host: config.host });
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
    `Gatehouse is ready at ${config.publicUrl}`,
  );

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close: () => {
      closing ??= (async () => {
        const timer = setTimeout(() => {
          app.log.warn('shutdown timed out; closing remaining connections');
          app.server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        try {
          await app.close();
        } finally {
          clearTimeout(timer);
          await storage.close();
        }
      })();
      return closing;
    },
  };
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
