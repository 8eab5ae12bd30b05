/**
 * Helpers for the webhook and back-channel logout tests: a scriptable receiver on loopback
 * (answers, fails, hangs, redirects), an app built like test/support/app.ts but with the
 * options these tests need (a DNS resolver hook, a database URL), and admin requests.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { openStorage, type Storage } from '../../src/storage/open.ts';
import { createMemoryStore } from '../../src/storage/ephemeral/memory.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import type { OutgoingMail } from '../../src/features/email/mailer.ts';
import type { Resolver } from '../../src/features/webhooks/destination.ts';
import { capturingMailer, TEST_MASTER_KEY, type TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';

export type ReceiverMode = 'ok' | 'fail' | 'hang' | 'redirect';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  mode: ReceiverMode;
  /** Milliseconds before answering (to let concurrent senders overlap). */
  delayMs: number;
  /** TCP connections accepted so far (kept-alive connections are reused across deliveries). */
  connections: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<import('node:http').ServerResponse>();
  const receiver: Receiver = { url: '', port: 0, received: [], mode: 'ok', delayMs: 0, connections: 0, close: async () => {} };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receiver.received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = () => {
        if (receiver.mode === 'hang') return void hanging.add(response);
        if (receiver.mode === 'redirect') return void response.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
        response.writeHead(receiver.mode === 'ok' ? 200 : 500).end(receiver.mode === 'ok' ? 'ok' : 'down');
      };
      if (receiver.delayMs > 0) setTimeout(answer, receiver.delayMs);
      else answer();
    });
  });
  server.on('connection', () => {
    receiver.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.port = port;
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.close = async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** Loopback allowed explicitly, no background polling (tests drive `runDue`). */
export const LOOPBACK_ALLOWED = { GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', GATEHOUSE_WEBHOOK_POLL_INTERVAL_MS: '0' };

export async function createWebhookTestApp(options: { env?: Record<string, string>; now?: () => number; resolveHost?: Resolver } = {}): Promise<TestApp> {
  const config = loadConfig({
    env: {
      GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
      GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY,
      GATEHOUSE_LOG_LEVEL: 'debug',
      GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '100000',
      GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000',
      ...options.env,
    },
  });
  const opened = await openStorage(config);
  const frozen = options.now && !config.redisUrl ? createMemoryStore({ now: options.now }) : undefined;
  const storage: Storage = frozen ? { ...opened, ephemeral: frozen, close: async () => { await frozen.close(); await opened.close(); } } : opened;
  const lines: string[] = [];
  const logStream = new Writable({ write(chunk: Buffer, _encoding, callback) { lines.push(chunk.toString('utf8')); callback(); } });
  const mails: OutgoingMail[] = [];
  const app = await createApp({
    mailer: capturingMailer(mails),
    ...(options.now ? { now: options.now } : {}),
    ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
    config,
    database: storage.database,
    ephemeral: storage.ephemeral,
    masterKey: resolveMasterKey(config),
    logStream,
  });
  await app.ready();
  return { app, config, storage, mails, logText: () => lines.join(''), close: async () => { await app.close(); await storage.close(); } };
}

export function adminRequest(t: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, cookie: string, body?: unknown): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { origin: new URL(t.config.publicUrl).origin, cookie };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return t.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
}

/** Signs `email` up and in and grants the admin role (grey-box, as `users create --admin` would). */
export async function signedInAdmin(t: TestApp, email = 'admin@example.com'): Promise<string> {
  const cookie = await registerAndSignIn(t, email);
  const users = createSqlUserStore(t.storage.database.db);
  const user = await users.findByEmail(email);
  assert.ok(user);
  await users.setRoles(user.id, ['admin'], Date.now());
  return cookie;
}

/** Registers a webhook endpoint through the admin API; returns its id and (generated) secret. */
export async function subscribe(t: TestApp, cookie: string, url: string, events: string[]): Promise<{ id: string; secret: string }> {
  const response = await adminRequest(t, 'POST', '/api/admin/webhooks', cookie, { url, events });
  assert.equal(response.statusCode, 201, response.body);
  const body = response.json() as { id: string; secret: string };
  assert.match(body.secret, /^whsec_/);
  return body;
}

/** Waits (bounded) until `check` holds; for the one test that uses the background worker. */
export async function eventually(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
