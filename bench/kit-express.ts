/**
 * W6 server: the resource-server kit (`gatehouse/middleware/express`) in front of one Express 5
 * route, as an API would use it — the counterpart of the peer's `GET /api/me` with jsonwebtoken
 * HS256. Verifies Gatehouse's ES256 access tokens (JWKS fetched from Gatehouse, revocations
 * followed on its stream), requires scope `api:read`, answers `{ sub, client_id }`.
 *
 * Env: PORT, HOST (loopback), GATEHOUSE_URL (the issuer), KIT_CLIENT_ID / KIT_CLIENT_SECRET
 * (a confidential client for the revocation stream), KIT_VERIFIED_TOKEN_CACHE (default 1000; 0 = off).
 * Without GATEHOUSE_URL it starts its own Gatehouse (bench/peers/start-gatehouse.sh, embedded, on
 * KIT_GATEHOUSE_PORT, default 4119) as a child and stops it on exit — how the peer harness runs it
 * (bench/peers/gatehouse-kit.mjs): the harness measures this process, the kit, alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { startGatehouse, type StartedProcess } from './lib/gatehouse.ts';
import { createAuthenticator } from '../packages/middleware/src/index.ts';
import { createExpressAuth } from '../packages/middleware/src/express.ts';

const port = Number(process.env.PORT ?? 4109);
const host = process.env.HOST ?? '127.0.0.1';
let own: StartedProcess | undefined;
if (!process.env.GATEHOUSE_URL) {
  const gatehousePort = Number(process.env.KIT_GATEHOUSE_PORT ?? 4119);
  own = await startGatehouse({ port: gatehousePort, dataRoot: mkdtempSync(path.join(process.env.PEERS_DIR ?? tmpdir(), 'gatehouse-kit-')) });
}
const issuer = process.env.GATEHOUSE_URL ?? `http://localhost:${process.env.KIT_GATEHOUSE_PORT ?? 4119}`;

const authenticator = createAuthenticator({
  issuer,
  audience: 'urn:peer:api',
  revocations: { clientId: process.env.KIT_CLIENT_ID ?? 'cc-client', clientSecret: process.env.KIT_CLIENT_SECRET ?? 'cc-secret' },
  verifiedTokenCacheSize: Number(process.env.KIT_VERIFIED_TOKEN_CACHE ?? 1000),
});
await authenticator.ready();
const auth = createExpressAuth(authenticator);

const app = express();
app.disable('x-powered-by');
app.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});
app.get('/api/me', auth.requireScope('api:read'), (req, res) => {
  res.json({ sub: req.auth!.subject, client_id: req.auth!.clientId });
});
const server = app.listen(port, host);
const stop = (): void => {
  server.close();
  server.closeAllConnections();
  void authenticator
    .close()
    .then(() => own?.stop())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
