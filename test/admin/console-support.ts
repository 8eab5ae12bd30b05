/** The console tests' app: `createTestApp` (the console is wired in src/app.ts) with the registered test clients. */
import { createTestApp, type TestApp } from '../support/app.ts';
import { clientsEnv } from '../support/oauth.ts';

export function createConsoleTestApp(options: { env?: Record<string, string> } = {}): Promise<TestApp> {
  return createTestApp({ env: { ...clientsEnv(), ...options.env } });
}
