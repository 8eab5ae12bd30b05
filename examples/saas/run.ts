/**
 * Starts the example's API (port 4000) and the third-party web app (port 4001) against a local
 * Gatehouse (http://localhost:3000, started with examples/saas/gatehouse.config.json).
 *
 *   npx node examples/saas/run.ts
 *
 * The secrets below are the example's own (their SHA-256 is in gatehouse.config.json): fine on
 * your laptop, never anywhere else. Override with the environment variables.
 */
import type { Server } from 'node:http';
import { createApi } from './api.ts';
import { createWebApp } from './webapp.ts';

const GATEHOUSE_URL = process.env.GATEHOUSE_URL ?? 'http://localhost:3000';
const API_PORT = Number(process.env.API_PORT ?? 4000);
const WEB_PORT = Number(process.env.WEB_PORT ?? 4001);
const API_URL = `http://127.0.0.1:${API_PORT}`;
const WEB_URL = `http://127.0.0.1:${WEB_PORT}`;

const { app: api, gatehouse } = createApi({
  issuer: GATEHOUSE_URL,
  clientId: 'saas-api',
  clientSecret: process.env.API_CLIENT_SECRET ?? 'saas-api-example-secret-DO-NOT-USE-IN-PRODUCTION',
});
const web = createWebApp({
  issuer: GATEHOUSE_URL,
  clientId: 'reports-app',
  clientSecret: process.env.REPORTS_CLIENT_SECRET ?? 'reports-app-example-secret-DO-NOT-USE-IN-PRODUCTION',
  baseUrl: WEB_URL,
  apiUrl: API_URL,
});

try {
  await gatehouse.ready(); // JWKS loaded, revocation stream followed
} catch (error) {
  console.error(`Cannot reach Gatehouse at ${GATEHOUSE_URL} (is it running with examples/saas/gatehouse.config.json?): ${(error as Error).message}`);
  await gatehouse.close();
  process.exit(1);
}

const listen = (app: { listen(port: number, host: string, done: () => void): Server }, port: number) =>
  new Promise<Server>((resolve) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
  });
const servers = [await listen(api, API_PORT), await listen(web, WEB_PORT)];
console.log(`Projects API      ${API_URL}   (GET /me, GET|POST /projects, GET /admin/users)`);
console.log(`Acme Reports app  ${WEB_URL}/   (Log in with Gatehouse)`);

const stop = () => {
  for (const server of servers) server.close();
  void gatehouse.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
