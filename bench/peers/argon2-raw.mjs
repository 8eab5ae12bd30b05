// The W5 floor for the peer harness (../shared/peers): one argon2id verification per request
// (m=19 MiB t=2 p=1, @node-rs/argon2 — what Gatehouse's sign-in spends most of its time on) behind
// a bare node:http server (bench/argon2-server.ts). Issue 8: Gatehouse's W5 ≥ 90 % of this rate,
// same run.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default {
  name: 'argon2id-raw',
  server: (cfg) => ({
    command: [path.join(ROOT, 'node_modules', '.bin', 'node'), '--disable-warning=ExperimentalWarning', path.join(ROOT, 'bench', 'argon2-server.ts')],
    cwd: ROOT,
    port: cfg.port('GH_ARGON2_PORT', 4111),
    env: {},
    readyPath: '/healthz',
    stores: [],
  }),
  async workloads() {
    return [
      {
        id: 'W5', name: 'one argon2id verify (m=19 MiB t=2 p=1) per request, bare node:http', kind: 'password',
        method: 'POST', path: '/verify',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ password: 'correct horse battery staple' }),
        expectBody: '"user"',
      },
    ];
  },
};
