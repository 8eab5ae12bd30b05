// W6 for the peer harness (../shared/peers): Gatehouse's resource-server kit behind Express,
// verifying Gatehouse's ES256 access tokens on `GET /api/me` (scope api:read) — the counterpart of
// express-classic's W6/W6b (jsonwebtoken HS256). The measured process is the kit's Express server
// (bench/kit-express.ts); it starts its own Gatehouse as a child on GH_KIT_GATEHOUSE_PORT (4119),
// which only serves the JWKS and the revocation stream during the run.
//   node bench/bench.mjs --targets express-classic,/path/to/gatehouse/bench/peers/gatehouse-kit.mjs --workloads W6,W6b
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..', '..');
const HARNESS = process.env.PEERS_HARNESS || path.join(ROOT, '..', 'shared', 'peers');
const { basic, form, mapLimit, request } = await import(pathToFileURL(path.join(HARNESS, 'bench', 'lib', 'http.mjs')).href);

/** The target; `cache` is the kit's verified-token cache size (0: every request verifies the signature). */
export function kitTarget({ cache = 1000, port = 4109, gatehousePort = 4119 } = {}) {
  return {
    name: cache === 0 ? 'gatehouse-kit-nocache' : 'gatehouse-kit',
    server: () => ({
      command: [path.join(ROOT, 'node_modules', '.bin', 'node'), '--disable-warning=ExperimentalWarning', path.join(ROOT, 'bench', 'kit-express.ts')],
      cwd: ROOT,
      port,
      env: { KIT_GATEHOUSE_PORT: String(gatehousePort), KIT_VERIFIED_TOKEN_CACHE: String(cache) },
      readyPath: '/healthz',
      stores: [],
    }),

    async workloads() {
      const gatehouse = `http://127.0.0.1:${gatehousePort}`;
      async function token() {
        const r = await request(`${gatehouse}/oauth/token`, { method: 'POST', headers: { authorization: basic('cc-client', 'cc-secret'), 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'client_credentials', scope: 'api:read', resource: 'urn:peer:api' }) });
        if (r.status !== 200) throw new Error(`client_credentials failed: ${r.status} ${r.text}`);
        return `Bearer ${r.json.access_token}`;
      }
      await token();
      return [
        {
          id: 'W6', name: 'the kit (ES256, Gatehouse JWKS + revocation stream) behind Express GET /api/me',
          method: 'GET', path: '/api/me',
          headers: { Authorization: '{{POOL}}' },
          // One token per connection (+4), as express-classic has one JWT per login; minted before
          // each run (access tokens live 10 minutes).
          pool: { mode: 'rr' },
          refill: (n) => mapLimit(Array.from({ length: n }), 4, token),
          expectBody: '"sub":"client:cc-client"',
        },
      ];
    },
  };
}

export default kitTarget();
