/**
 * Helpers for black-box OAuth tests (token, revocation, introspection endpoints, first-party
 * native sign-in, the revocation stream): fixture clients declared through configuration, form
 * requests with the registered client authentication, a real listening server whose issuer
 * matches its address, and a few clearly-labelled grey-box helpers (reading the test database,
 * signing with the server's own key to simulate a compromised issuer).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { hashSecret } from '../../src/crypto/random.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { createKeyService, type KeyService } from '../../src/keys/service.ts';
import { createAuditLog, type StoredAuditEvent } from '../../src/features/audit/audit-log.ts';
import { createClientStore } from '../../src/features/clients/store.ts';
import { createRefreshTokenService } from '../../src/features/tokens/refresh.ts';
import { createRevocationService } from '../../src/features/tokens/revocation.ts';
import { createSqlTokenStore } from '../../src/features/tokens/store.ts';
import { createTestApp, type TestApp } from './app.ts';
import { postJSON, registerAndSignIn, PASSWORD } from './auth.ts';

export const API = 'https://api.example';
export const FILES = 'https://files.example';
export const OTHER = 'https://other.example';

/** Client secrets of the fixture clients (only their SHA-256 goes into the configuration). */
export const SECRETS: Readonly<Record<string, string>> = Object.freeze({
  svc: 'svc-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  svc2: 'svc2-secret-8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d',
  poster: 'poster-secret-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d',
  rs: 'rs-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  rs2: 'rs2-secret-5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b',
  confrt: 'confrt-secret-2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e',
  confrt2: 'confrt2-secret-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f',
});

type ClientEntry = Record<string, unknown>;

/**
 * The fixture clients (security-requirements §0.2):
 * - `svc`, `svc2`: confidential client-credentials clients (`client_secret_basic`);
 * - `poster`: confidential, `client_secret_post`;
 * - `rs`, `rs2`: resource servers (confidential; `rs` serves `https://api.example`);
 * - `mobile`, `mobile2`: first-party public native apps (`none`, refresh_token);
 * - `confrt`: a confidential client allowed refresh_token (its grants are made grey-box, the
 *   authorization-code grant that would make them does not exist yet).
 */
export function fixtureClients(overrides: { mobile?: ClientEntry; extra?: ClientEntry[] } = {}): ClientEntry[] {
  const confidential = (id: string, rest: ClientEntry): ClientEntry => ({
    client_id: id,
    name: id,
    type: 'confidential',
    token_endpoint_auth_method: 'client_secret_basic',
    client_secret_hash: hashSecret(SECRETS[id]!),
    ...rest,
  });
  return [
    confidential('svc', { grant_types: ['client_credentials'], scopes: ['read', 'write'], audiences: [API, FILES] }),
    confidential('svc2', { grant_types: ['client_credentials'], scopes: ['read'], audiences: [OTHER] }),
    confidential('poster', { token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials'], scopes: ['read'], audiences: [API] }),
    confidential('rs', { grant_types: ['client_credentials'], scopes: [], audiences: [API] }),
    confidential('rs2', { grant_types: ['client_credentials'], scopes: [], audiences: [OTHER] }),
    confidential('confrt', { grant_types: ['refresh_token', 'client_credentials'], scopes: ['read', 'write'], audiences: [API] }),
    confidential('confrt2', { grant_types: ['refresh_token', 'client_credentials'], scopes: ['read', 'write'], audiences: [API] }),
    {
      client_id: 'mobile',
      name: 'Mobile',
      type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['refresh_token'],
      scopes: ['openid', 'profile', 'email'],
      audiences: [API],
      first_party: true,
      ...overrides.mobile,
    },
    { client_id: 'mobile2', name: 'Mobile 2', type: 'public', token_endpoint_auth_method: 'none', grant_types: ['refresh_token'], scopes: ['openid', 'profile'], audiences: [API], first_party: true },
    ...(overrides.extra ?? []),
  ];
}

export function clientsEnv(clients: ClientEntry[] = fixtureClients()): Record<string, string> {
  return { GATEHOUSE_CLIENTS: JSON.stringify(clients) };
}

/** An app with the fixture clients (plus `env`). */
export function createOAuthApp(options: { env?: Record<string, string>; now?: () => number; clients?: ClientEntry[] } = {}): Promise<TestApp> {
  return createTestApp({ env: { ...clientsEnv(options.clients), ...options.env }, ...(options.now ? { now: options.now } : {}) });
}

/** RFC 6749 §2.3.1: id and secret are form-encoded, joined with ":", then base64. */
export function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export interface ClientCredentials {
  headers: Record<string, string>;
  params: Record<string, string>;
}

/** The registered authentication of a fixture client: Basic, client_secret_post, or client_id only. */
export function credentialsOf(clientId: string): ClientCredentials {
  if (clientId === 'poster') return { headers: {}, params: { client_id: 'poster', client_secret: SECRETS.poster! } };
  const secret = SECRETS[clientId];
  if (secret !== undefined) return { headers: { authorization: basic(clientId, secret) }, params: {} };
  return { headers: {}, params: { client_id: clientId } };
}

export type FormParams = Record<string, string> | [string, string][] | string;

function encodeForm(params: FormParams): string {
  return typeof params === 'string' ? params : new URLSearchParams(params).toString();
}

/** A form-encoded POST, exactly as given (no credentials added). */
export function postForm(t: TestApp, url: string, params: FormParams, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: encodeForm(params) });
}

/** A form-encoded POST authenticated as `clientId` (its registered method); `null` = no authentication. */
export function postAs(t: TestApp, url: string, clientId: string | null, params: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const credentials = clientId === null ? { headers: {}, params: {} } : credentialsOf(clientId);
  return postForm(t, url, { ...credentials.params, ...params }, { ...credentials.headers, ...headers });
}

export function tokenRequest(t: TestApp, clientId: string | null, params: Record<string, string>): Promise<LightMyRequestResponse> {
  return postAs(t, '/oauth/token', clientId, params);
}

export function clientCredentials(t: TestApp, clientId: string, params: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return tokenRequest(t, clientId, { grant_type: 'client_credentials', ...params });
}

export function refresh(t: TestApp, clientId: string | null, refreshToken: string, params: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return tokenRequest(t, clientId, { grant_type: 'refresh_token', refresh_token: refreshToken, ...params });
}

export function introspect(t: TestApp, token: string, clientId: string | null = 'rs', params: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return postAs(t, '/oauth/introspect', clientId, { token, ...params });
}

export function revoke(t: TestApp, token: string, clientId: string | null, params: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return postAs(t, '/oauth/revoke', clientId, { token, ...params });
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

/** Asserts a 200 token response and returns it. */
export function tokens(response: LightMyRequestResponse): TokenResponse {
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json() as TokenResponse;
  assert.equal(typeof body.access_token, 'string');
  return body;
}

/** A client-credentials access token of `clientId`. */
export async function clientToken(t: TestApp, clientId = 'svc', params: Record<string, string> = {}): Promise<string> {
  return tokens(await clientCredentials(t, clientId, params)).access_token;
}

/** Asserts exactly `{"active":false}` (RFC 7662 §2.2, SEC-OAUTH-24) with status 200. */
export function assertInactive(response: LightMyRequestResponse, what = ''): void {
  assert.equal(response.statusCode, 200, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.equal(response.body, '{"active":false}', `${what}: exactly {"active":false}`);
}

export function assertActive(response: LightMyRequestResponse, what = ''): Record<string, unknown> {
  assert.equal(response.statusCode, 200, `${what}: ${response.body}`);
  const body = response.json() as Record<string, unknown>;
  assert.equal(body.active, true, `${what}: active (${response.body})`);
  return body;
}

/** Asserts an OAuth error response (RFC 6749 §5.2) with the given code, and no token in it. */
export function assertOAuthError(response: LightMyRequestResponse, error: string, status = error === 'invalid_client' ? 401 : 400, what = ''): void {
  assert.equal(response.statusCode, status, `${what}: ${response.statusCode} ${response.body}`);
  const body = response.json() as Record<string, unknown>;
  assert.equal(body.error, error, `${what}: ${response.body}`);
  assert.ok(!('access_token' in body) && !('refresh_token' in body), `${what}: no token in an error`);
}

export function claims(token: string): Record<string, unknown> {
  return decodeJwt(token) as Record<string, unknown>;
}

export interface NativeSession {
  email: string;
  /** A browser session cookie of the same user (for the account API). */
  cookie: string;
  access_token: string;
  refresh_token: string;
  scope: string;
  expires_in: number;
  sid: string;
  gid: string;
  sub: string;
}

/** Registers `email` (unless `existing`) and signs in through the first-party native app `clientId`. */
export async function nativeSignIn(t: TestApp, email: string, options: { clientId?: string; existing?: boolean; password?: string } = {}): Promise<NativeSession> {
  const password = options.password ?? PASSWORD;
  const cookie = options.existing ? '' : await registerAndSignIn(t, email, password);
  const response = await postJSON(t, '/api/auth/sign-in', { email, password, client_id: options.clientId ?? 'mobile' });
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json() as { access_token: string; refresh_token: string; scope: string; expires_in: number; token_type: string };
  assert.equal(body.token_type, 'Bearer');
  assert.equal(typeof body.refresh_token, 'string');
  const payload = claims(body.access_token);
  return {
    email,
    cookie,
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    scope: body.scope,
    expires_in: body.expires_in,
    sid: String(payload.sid),
    gid: String(payload.gid),
    sub: String(payload.sub),
  };
}

/** A TCP port that was free a moment ago (for a server whose issuer URL must name its port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real listening Gatehouse whose public URL (the `iss` of its tokens) is its own address, so
 * external verifiers (`jose` `createRemoteJWKSet`) see exactly what a resource server would.
 */
export async function listeningApp(options: { env?: Record<string, string>; now?: () => number; clients?: ClientEntry[] } = {}): Promise<{ t: TestApp; base: string }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const t = await createOAuthApp({ ...options, env: { GATEHOUSE_PUBLIC_URL: base, ...options.env } });
    try {
      await t.app.listen({ port, host: '127.0.0.1' });
      return { t, base };
    } catch (error) {
      await t.close();
      // Someone took the port between the probe and listen: try another.
      if (attempt >= 3 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}

/**
 * Grey-box: a second KeyService over the app's own database, ephemeral store and master key —
 * what `gatehouse keys rotate` does from another process. `tick()` loads the keys without
 * starting timers. Also gives tests the server's private key, to simulate a compromised issuer
 * (SEC-JWT-14) or to sign claim variants that only the signature check would otherwise stop.
 */
export async function serverKeys(t: TestApp, now?: () => number): Promise<KeyService> {
  const keys = createKeyService({
    db: t.storage.database.db,
    ephemeral: t.storage.ephemeral,
    sealKey: resolveMasterKey(t.config).derive('signing-keys'),
    config: t.config,
    ...(now ? { now } : {}),
  });
  await keys.tick();
  return keys;
}

/**
 * Grey-box: a grant and its first refresh token for `clientId`, made the way the (not yet built)
 * authorization-code grant will make them — the only way to give a confidential client a
 * refresh token today. Uses the app's own database, master key and configuration.
 */
export async function grantFor(t: TestApp, clientId: string, options: { userId?: string | null; sessionId?: string | null; scope: string[]; now?: () => number }): Promise<{ grantId: string; refreshToken: string }> {
  const db = t.storage.database.db;
  const now = options.now ?? Date.now;
  const audit = createAuditLog(db, { now });
  const revocations = createRevocationService({ store: createSqlTokenStore(db), ephemeral: t.storage.ephemeral, audit, accessTokenMaxTtlSeconds: t.config.accessTokenMaxTtlSeconds, now });
  const service = createRefreshTokenService({ db, sealKey: resolveMasterKey(t.config).derive('refresh-token-successors'), config: t.config, revocations, audit, now });
  const client = await createClientStore(db).get(clientId);
  assert.ok(client, `client ${clientId} exists`);
  const { grant, refreshToken } = await service.createGrant({ client, userId: options.userId ?? null, sessionId: options.sessionId ?? null, scope: options.scope });
  return { grantId: grant.id, refreshToken };
}

/** Grey-box: audit events of `type`, newest first. */
export function auditEvents(t: TestApp, type: StoredAuditEvent['type']): Promise<StoredAuditEvent[]> {
  return createAuditLog(t.storage.database.db).query({ type, limit: 1000 });
}

/** Grey-box: refresh-token rows of a grant that were never rotated (the live end of the chain). */
export async function unrotatedRefreshTokens(t: TestApp, grantId: string): Promise<number> {
  const rows = await t.storage.database.db.selectFrom('refresh_tokens').select('id').where('grant_id', '=', grantId).where('rotated_at', 'is', null).execute();
  return rows.length;
}

/** Grey-box: is the grant marked revoked? */
export async function grantRevoked(t: TestApp, grantId: string): Promise<boolean> {
  const row = await t.storage.database.db.selectFrom('grants').select('revoked_at').where('id', '=', grantId).executeTakeFirst();
  assert.ok(row, `grant ${grantId} exists`);
  return row.revoked_at !== null;
}

/** One parsed Server-Sent Event. */
export interface SSEEvent {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Reads a `text/event-stream` response body and hands every event to the caller. `next(pred,
 * timeoutMs)` resolves with the first event (past or future) matching `pred`, or undefined after
 * the timeout. `close()` aborts the request.
 */
export function readEvents(response: Response, abort: AbortController): {
  events: SSEEvent[];
  comments: string[];
  next(predicate: (event: SSEEvent) => boolean, timeoutMs: number): Promise<SSEEvent | undefined>;
  /** Aborts the request and waits until the connection is released. */
  close(): Promise<void>;
} {
  const events: SSEEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SSEEvent = { data: '' };
          let isEvent = false;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id:')) ((event.id = line.slice(3).trim()), (isEvent = true));
            else if (line.startsWith('event:')) ((event.event = line.slice(6).trim()), (isEvent = true));
            else if (line.startsWith('data:')) (data.push(line.slice(5).trimStart()), (isEvent = true));
          }
          event.data = data.join('\n');
          if (isEvent) events.push(event);
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    comments,
    async next(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(predicate);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
    async close() {
      abort.abort();
      await reader.cancel().catch(() => {});
      await pump;
      // Give the client a moment to drop the socket, so the server's close never waits on it.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

/** The parsed `data` of a revocation event. */
export function revocationData(event: SSEEvent): { kind: string; value: string; expires_at: number } {
  return JSON.parse(event.data) as { kind: string; value: string; expires_at: number };
}
