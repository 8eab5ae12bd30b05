/**
 * The console tests' app: the real `createApp` (the console is wired in src/app.ts) with the
 * registered test clients of test/support/oauth.ts.
 */
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import type { OutgoingMail } from '../../src/features/email/mailer.ts';
import { openStorage } from '../../src/storage/open.ts';
import { capturingMailer, TEST_MASTER_KEY, type TestApp } from '../support/app.ts';
import { clientsEnv } from '../support/oauth.ts';

/** `createTestApp` / `createOAuthApp` (test/support) with the test clients. */
export async function createConsoleTestApp(options: { env?: Record<string, string> } = {}): Promise<TestApp> {
  const config = loadConfig({
    env: {
      GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
      GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY,
      GATEHOUSE_LOG_LEVEL: 'debug',
      GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '100000',
      GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000',
      ...clientsEnv(),
      ...options.env,
    },
  });
  const storage = await openStorage(config);
  const lines: string[] = [];
  const logStream = new Writable({ write(chunk: Buffer, _encoding, callback) { lines.push(chunk.toString('utf8')); callback(); } });
  const mails: OutgoingMail[] = [];
  const app = await createApp({ mailer: capturingMailer(mails), config, database: storage.database, ephemeral: storage.ephemeral, masterKey: resolveMasterKey(config), logStream });
  await app.ready();
  return { app, config, storage, mails, logText: () => lines.join(''), close: async () => { await app.close(); await storage.close(); } };
}
