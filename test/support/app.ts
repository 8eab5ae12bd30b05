/**
 * An in-process Gatehouse for black-box tests through `app.inject()`: embedded SQLite in memory
 * (or a given database URL), in-process ephemeral store (or Redis), logs captured as parsed
 * JSON lines so tests can assert that no secret was ever written.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { openStorage, type Storage } from '../../src/storage/open.ts';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  storage: Storage;
  /** Every log line written so far, raw. */
  logText(): string;
  close(): Promise<void>;
}

export async function createTestApp(options: { env?: Record<string, string>; beforeReady?: (app: FastifyInstance) => void } = {}): Promise<TestApp> {
  const config = loadConfig({
    env: {
      GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
      GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY,
      GATEHOUSE_LOG_LEVEL: 'debug',
      ...options.env,
    },
  });
  const storage = await openStorage(config);
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const app = await createApp({
    config,
    database: storage.database,
    ephemeral: storage.ephemeral,
    masterKey: resolveMasterKey(config),
    logStream,
  });
  options.beforeReady?.(app);
  await app.ready();
  return {
    app,
    config,
    storage,
    logText: () => lines.join(''),
    close: async () => {
      await app.close();
      await storage.close();
    },
  };
}
