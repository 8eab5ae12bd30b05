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
import type { Mailer, OutgoingMail } from '../../src/features/email/mailer.ts';
import type { PasswordHasher } from '../../src/crypto/passwords/hasher.ts';
import { createMemoryStore } from '../../src/storage/ephemeral/memory.ts';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  storage: Storage;
  /** Every mail the app sent, in order. */
  mails: OutgoingMail[];
  /** Every log line written so far, raw. */
  logText(): string;
  close(): Promise<void>;
}

/** A mailer that keeps every mail in memory, as a capturing SMTP server would. */
export function capturingMailer(mails: OutgoingMail[]): Mailer {
  return { kind: 'dev-outbox', send: async (mail) => void mails.push(mail), close: async () => {} };
}

export async function createTestApp(options: { env?: Record<string, string>; beforeReady?: (app: FastifyInstance) => void; now?: () => number; passwordHasher?: PasswordHasher } = {}): Promise<TestApp> {
  const config = loadConfig({
    env: {
      GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
      GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY,
      GATEHOUSE_LOG_LEVEL: 'debug',
      // Tests sign up and in far more often than people do; throttling tests set their own limits.
      GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '100000',
      GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000',
      // The OWASP minimum cost is the default; tests use it too (no weakened hashing).
      ...options.env,
    },
  });
  const opened = await openStorage(config);
  // With a frozen clock, the in-process store must follow the same clock (TTLs, lockouts).
  const frozen = options.now && !config.redisUrl ? createMemoryStore({ now: options.now }) : undefined;
  const storage: Storage = frozen
    ? { ...opened, ephemeral: frozen, close: async () => { await frozen.close(); await opened.close(); } }
    : opened;
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const mails: OutgoingMail[] = [];
  const app = await createApp({
    mailer: capturingMailer(mails),
    ...(options.passwordHasher ? { passwordHasher: options.passwordHasher } : {}),
    ...(options.now ? { now: options.now } : {}),
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
    mails,
    logText: () => lines.join(''),
    close: async () => {
      await app.close();
      await storage.close();
    },
  };
}
