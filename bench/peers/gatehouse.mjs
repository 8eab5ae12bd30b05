// Gatehouse as a target of the peer harness in ../shared/peers (see bench/README.md):
//   node bench/bench.mjs --targets oidc-provider,better-auth,express-classic,/path/to/gatehouse/bench/peers/gatehouse.mjs
// GH_BENCH_BACKEND=scaled runs it on the harness's PostgreSQL + Redis instead of SQLite;
// gatehouse-scaled.mjs is that variant as its own target, to run both in one invocation.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// The harness's request helpers, from the harness checkout (default: ../shared/peers beside the project).
const HARNESS = process.env.PEERS_HARNESS || path.join(HERE, '..', '..', '..', 'shared', 'peers');
const { basic, form, mapLimit, request } = await import(pathToFileURL(path.join(HARNESS, 'bench', 'lib', 'http.mjs')).href);
const EMAIL = 'bench@example.com';
const PASSWORD = 'correct horse battery staple';

/** The target: embedded (SQLite + in-process store) or scaled (the harness's PostgreSQL + Redis). */
export function gatehouseTarget({ scaled }) {
  return {
    name: scaled ? 'gatehouse-pg-redis' : 'gatehouse',
    server: (cfg) => ({
      command: ['bash', path.join(HERE, 'start-gatehouse.sh')],
      cwd: path.join(HERE, '..', '..'),
      port: cfg.port('GH_BENCH_PORT', scaled ? 4108 : 4107),
      env: { GH_BENCH_BACKEND: scaled ? 'scaled' : 'embedded' },
      readyPath: '/readyz',
      stores: scaled ? ['redis', 'postgres'] : [],
    }),

    async workloads({ base, cfg }) {
      const signIn = JSON.stringify({ email: EMAIL, password: PASSWORD });
      const origin = new URL(base).origin.replace('127.0.0.1', 'localhost');
      async function session() {
        const r = await request(`${base}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: signIn });
        const c = (r.headers.getSetCookie?.() ?? []).find((l) => l.startsWith('__Host-gatehouse='));
        if (r.status !== 200 || !c) throw new Error(`sign-in failed: ${r.status} ${r.text}`);
        return c.split(';')[0];
      }
      async function refreshToken() {
        const r = await request(`${base}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ email: EMAIL, password: PASSWORD, client_id: 'rt-client' }) });
        if (r.status !== 200 || !r.json?.refresh_token) throw new Error(`token sign-in failed: ${r.status} ${r.text}`);
        return r.json.refresh_token;
      }
      const cookies = await mapLimit(Array.from({ length: cfg.connections + 4 }), 4, session);
      // Access tokens live 10 minutes: W3 mints its own right before each run (as the harness does
      // for oidc-provider's opaque tokens), one per connection.
      async function accessToken() {
        const r = await request(`${base}/oauth/token`, { method: 'POST', headers: { authorization: basic('cc-client', 'cc-secret'), 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'client_credentials', scope: 'api:read', resource: 'urn:peer:api' }) });
        if (r.status !== 200) throw new Error(`client_credentials failed: ${r.status} ${r.text}`);
        return form({ token: r.json.access_token });
      }
      await accessToken();

      return [
        {
          id: 'W1', name: 'client_credentials grant, ES256 JWT access token',
          method: 'POST', path: '/oauth/token',
          headers: { Authorization: basic('cc-client', 'cc-secret'), 'Content-Type': 'application/x-www-form-urlencoded' },
          body: form({ grant_type: 'client_credentials', scope: 'api:read', resource: 'urn:peer:api' }),
          expectBody: 'access_token',
        },
        {
          id: 'W2', name: 'refresh_token grant, rotation on every use',
          method: 'POST', path: '/oauth/token',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=refresh_token&client_id=rt-client&refresh_token={{POOL}}',
          pool: { mode: 'rotate', extractJsonField: 'refresh_token' },
          refill: (n) => mapLimit(Array.from({ length: n }), 4, refreshToken),
          expectBody: 'refresh_token',
        },
        {
          id: 'W3', name: 'introspection of a JWT access token',
          method: 'POST', path: '/oauth/introspect',
          headers: { Authorization: basic('cc-client', 'cc-secret'), 'Content-Type': 'application/x-www-form-urlencoded' },
          body: '{{POOL}}',
          pool: { mode: 'rr' },
          refill: (n) => mapLimit(Array.from({ length: n }), 4, accessToken),
          expectBody: '"active":true',
        },
        {
          id: 'W4', name: 'GET /api/auth/session (session cookie)',
          method: 'GET', path: '/api/auth/session',
          headers: { Cookie: '{{POOL}}' },
          pool: { mode: 'rr', values: cookies },
          expectBody: '"session"',
        },
        {
          id: 'W5', name: 'POST /api/auth/sign-in (argon2id m=19 MiB t=2 p=1)', kind: 'password',
          method: 'POST', path: '/api/auth/sign-in',
          headers: { 'Content-Type': 'application/json', Origin: origin },
          body: signIn,
        },
      ];
    },
  };
}

export default gatehouseTarget({ scaled: process.env.GH_BENCH_BACKEND === 'scaled' });
