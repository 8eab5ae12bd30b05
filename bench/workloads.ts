/**
 * Gatehouse's W1–W6 for `npm run bench` (same requests as bench/peers/gatehouse.mjs drives
 * through the peer harness). `prepare` creates the state a workload needs (sessions, refresh
 * tokens, an access token) through the public API and returns request specs for bench/lib/load.ts.
 */
import type { RequestSpec } from './lib/load.ts';

export const EMAIL = 'bench@example.com';
export const PASSWORD = 'correct horse battery staple';
const CC_BASIC = `Basic ${Buffer.from('cc-client:cc-secret').toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';
export const CC_BODY = 'grant_type=client_credentials&scope=api%3Aread&resource=urn%3Apeer%3Aapi';

export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W5 floor' | 'W6';

export interface Workload {
  id: WorkloadId;
  name: string;
  /** Which process serves it: Gatehouse, the kit behind Express (W6), or the bare argon2id server (the W5 floor). */
  server: 'gatehouse' | 'kit' | 'argon2';
  connections: number;
  /** Fresh state per run (rotation pools are used up). */
  spec(): Promise<RequestSpec>;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; cookies: string[] }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the status says what happened
  }
  return { status: response.status, json, cookies: response.headers.getSetCookie() };
}

async function mapLimit<T>(count: number, limit: number, make: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let started = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (started < count) {
      started++;
      out.push(await make());
    }
  }));
  return out;
}

/** The bench user signed in through the browser API: its session cookie. */
export async function signIn(base: string): Promise<string> {
  const origin = base.replace('127.0.0.1', 'localhost');
  const response = await post(`${base}/api/auth/sign-in`, JSON.stringify({ email: EMAIL, password: PASSWORD }), { 'content-type': 'application/json', origin });
  const cookie = response.cookies.find((line) => line.startsWith('__Host-gatehouse='));
  if (response.status !== 200 || !cookie) throw new Error(`sign-in failed: ${response.status} ${JSON.stringify(response.json)}`);
  return cookie.split(';')[0]!;
}

/** A first-party refresh token for `rt-client` (native sign-in). */
export async function refreshToken(base: string): Promise<string> {
  const origin = base.replace('127.0.0.1', 'localhost');
  const response = await post(`${base}/api/auth/sign-in`, JSON.stringify({ email: EMAIL, password: PASSWORD, client_id: 'rt-client' }), { 'content-type': 'application/json', origin });
  if (response.status !== 200 || typeof response.json.refresh_token !== 'string') throw new Error(`token sign-in failed: ${response.status} ${JSON.stringify(response.json)}`);
  return response.json.refresh_token;
}

export async function clientToken(base: string): Promise<string> {
  const response = await post(`${base}/oauth/token`, CC_BODY, { authorization: CC_BASIC, 'content-type': FORM });
  if (response.status !== 200 || typeof response.json.access_token !== 'string') throw new Error(`client_credentials failed: ${response.status} ${JSON.stringify(response.json)}`);
  return response.json.access_token;
}

/** W1–W6 against a Gatehouse at `base` and the kit server at `kitBase`. */
export async function workloads(options: { base: string; kitBase: string; connections: number; passwordConnections: number }): Promise<Workload[]> {
  const { base, connections } = options;
  const origin = base.replace('127.0.0.1', 'localhost');
  const cookies = await mapLimit(connections + 4, 4, () => signIn(base));
  return [
    {
      id: 'W1', name: 'client_credentials → ES256 JWT', server: 'gatehouse', connections,
      spec: async () => ({ method: 'POST', path: '/oauth/token', headers: { authorization: CC_BASIC, 'content-type': FORM }, body: CC_BODY, expectBody: '"access_token"' }),
    },
    {
      id: 'W2', name: 'refresh_token rotation', server: 'gatehouse', connections,
      spec: async () => ({
        method: 'POST', path: '/oauth/token', headers: { 'content-type': FORM },
        body: 'grant_type=refresh_token&client_id=rt-client&refresh_token={{POOL}}',
        pool: { mode: 'rotate', values: await mapLimit(connections + 4, 4, () => refreshToken(base)), extractJsonField: 'refresh_token' },
        expectBody: '"refresh_token"',
      }),
    },
    {
      id: 'W3', name: 'introspection of a JWT access token', server: 'gatehouse', connections,
      // A fresh token per run: access tokens live 10 minutes.
      spec: async () => ({ method: 'POST', path: '/oauth/introspect', headers: { authorization: CC_BASIC, 'content-type': FORM }, body: `token=${await clientToken(base)}`, expectBody: '"active":true' }),
    },
    {
      id: 'W4', name: 'GET /api/auth/session (cookie)', server: 'gatehouse', connections,
      spec: async () => ({ method: 'GET', path: '/api/auth/session', headers: { cookie: '{{POOL}}' }, pool: { mode: 'rr', values: cookies }, expectBody: '"session"' }),
    },
    {
      id: 'W5', name: 'password sign-in (argon2id 19 MiB t=2)', server: 'gatehouse', connections: options.passwordConnections,
      spec: async () => ({ method: 'POST', path: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }), expectBody: '"user"' }),
    },
    {
      id: 'W5 floor', name: 'raw argon2id verify, bare node:http', server: 'argon2', connections: options.passwordConnections,
      spec: async () => ({ method: 'POST', path: '/verify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }), expectBody: '"user"' }),
    },
    {
      id: 'W6', name: 'bearer JWT route: the kit behind Express', server: 'kit', connections,
      spec: async () => {
        const tokens = await mapLimit(connections + 4, 4, () => clientToken(base));
        return { method: 'GET', path: '/api/me', headers: { authorization: 'Bearer {{POOL}}' }, pool: { mode: 'rr', values: tokens }, expectBody: '"sub":"client:cc-client"' };
      },
    },
  ];
}
