/**
 * Helpers for the resource-server kit's tests: a real listening Gatehouse (the fixture clients;
 * `rs` is the resource server for `https://api.example`), kits pointed at it, a stream-blocking
 * HTTP proxy to take the revocation stream down on demand, and polling with a bound.
 */
import assert from 'node:assert/strict';
import { KeyObject } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import type { TestApp } from '../support/app.ts';
import { API, SECRETS, clientToken, listeningApp, serverKeys } from '../support/oauth.ts';
import type { JWK, JSONWebKeySet } from 'jose';
import type { Alg, Material } from './corpus.ts';
import type { KeyService } from '../../src/keys/service.ts';
import { createAuthenticator, type Authenticator, type AuthenticatorOptions, type AuthResult, type KitEvent } from '../../packages/middleware/src/index.ts';

export { API, SECRETS };

export interface Gatehouse {
  t: TestApp;
  base: string;
  close(): Promise<void>;
}

export async function startGatehouse(options: Parameters<typeof listeningApp>[0] = {}): Promise<Gatehouse> {
  const { t, base } = await listeningApp(options);
  return { t, base, close: () => t.close() };
}

/** A deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * For the differential tests against jose: a Gatehouse signing with `alg`, its key service and
 * published JWKS, and the corpus material (two valid tokens of `svc`, the real private key).
 */
export async function differentialSetup(alg: Alg): Promise<{ g: Gatehouse; keys: KeyService; jwks: JSONWebKeySet; material: Material; nowSeconds: number }> {
  const g = await startGatehouse({ env: { GATEHOUSE_SIGNING_ALGORITHM: alg } });
  const keys = await serverKeys(g.t);
  const key = keys.signingKey();
  const jwksText = await (await fetch(`${g.base}/.well-known/jwks.json`)).text();
  const jwks = JSON.parse(jwksText) as JSONWebKeySet;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const material: Material = {
    alg,
    kid: key.kid,
    privateKey: KeyObject.from(key.privateKey),
    publicJwk: jwks.keys.find((candidate) => candidate.kid === key.kid) as JWK,
    jwksText,
    issuer: g.base,
    audience: API,
    valid: await clientToken(g.t, 'svc', { scope: 'read' }),
    other: await clientToken(g.t, 'svc', { scope: 'read' }),
    canaryUrl: 'http://127.0.0.1:9',
    nowSeconds,
  };
  return { g, keys, jwks, material, nowSeconds };
}

/** A kit for `rs` at `base`, following revocations; every kit made here is closed by `closeKits`. */
const kits = new Set<Authenticator>();
export function kitFor(base: string, overrides: Partial<AuthenticatorOptions> = {}, events?: KitEvent[]): Authenticator {
  const kit = createAuthenticator({
    issuer: base,
    audience: API,
    revocations: { clientId: 'rs', clientSecret: SECRETS.rs!, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
    ...(events ? { onEvent: (event) => events.push(event) } : {}),
    ...overrides,
  });
  kits.add(kit);
  return kit;
}
export async function closeKits(): Promise<void> {
  for (const kit of kits) await kit.close();
  kits.clear();
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export function assertOk(result: AuthResult, what = ''): Extract<AuthResult, { ok: true }>['principal'] {
  assert.ok(result.ok, `${what}: expected a principal, got ${result.ok ? '' : `${result.status} ${result.code}`}`);
  return result.principal;
}

export function assertRefused(result: AuthResult, status: number, error: string, what = ''): Extract<AuthResult, { ok: false }> {
  assert.ok(!result.ok, `${what}: expected a refusal, got principal ${result.ok ? result.principal.subject : ''}`);
  assert.equal(result.status, status, `${what}: status (${result.code})`);
  assert.equal(result.error, error, `${what}: error (${result.code})`);
  return result;
}

/** Polls `check` every 20 ms until it returns true or `withinMs` passes; returns whether it did. */
export async function eventually(check: () => Promise<boolean> | boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Grey-box, as `gatehouse users create --role` would: give the user of `email` these roles. */
export async function setRoles(t: TestApp, email: string, roles: string[]): Promise<string> {
  const users = createSqlUserStore(t.storage.database.db);
  const user = await users.findByEmail(email);
  assert.ok(user, `user ${email} exists`);
  await users.setRoles(user.id, roles, Date.now());
  return user.id;
}

/**
 * An HTTP proxy in front of Gatehouse that can take the revocation stream down (drops open
 * streams, refuses new ones with a reset) while everything else — JWKS, introspection — passes.
 * Counts requests per path.
 */
export interface StreamProxy {
  url: string;
  hits: Map<string, number>;
  blockStream(blocked: boolean): void;
  close(): Promise<void>;
}

export async function streamProxy(target: string): Promise<StreamProxy> {
  const targetUrl = new URL(target);
  let blocked = false;
  const hits = new Map<string, number>();
  const streams = new Set<{ request: IncomingMessage; response: ServerResponse }>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const isStream = path === '/api/revocations/stream';
    if (isStream && blocked) {
      request.socket.destroy();
      return;
    }
    const upstream = httpRequest({ host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
    if (isStream) {
      const entry = { request, response };
      streams.add(entry);
      response.on('close', () => {
        streams.delete(entry);
        upstream.destroy();
      });
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    hits,
    blockStream(value) {
      blocked = value;
      if (value) for (const { response } of streams) response.socket?.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
