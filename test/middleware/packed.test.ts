/**
 * The kit as a user gets it: `npm pack` of this repository (its `prepack` builds
 * dist/middleware), then a fresh project outside the repository installs the tarball with
 * Express 5, Express 4 and Hono from the npm registry (Fastify comes with the package), imports `gatehouse/middleware` and its
 * adapters as compiled JavaScript, type-checks a consumer against the shipped declarations, and
 * authenticates requests against a real listening Gatehouse. Bounded by timeouts; every step is
 * printed as a diagnostic.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SECRETS, clientToken } from '../support/oauth.ts';
import { startGatehouse, type Gatehouse } from './support.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/** npm without the variables an enclosing `npm test` sets (they would change what npm install does). */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_') || ['npm_config_registry', 'npm_config_cache'].includes(name.toLowerCase())) env[name] = value;
  }
  return env;
}

const APP = `
import express from 'express';
import express4 from 'express4';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { createAuthenticator } from 'gatehouse/middleware';
import { createExpressAuth } from 'gatehouse/middleware/express';
import { createHonoAuth } from 'gatehouse/middleware/hono';
import { createFastifyAuth } from 'gatehouse/middleware/fastify';
import Fastify from 'fastify';

const gatehouse = createAuthenticator({
  issuer: process.env.GATEHOUSE_URL,
  audience: 'https://api.example',
  revocations: { clientId: 'rs', clientSecret: process.env.RS_CLIENT_SECRET },
});
await gatehouse.ready();
const ports = {};
const listen = (name, server) => new Promise((resolve) => server.on('listening', () => { ports[name] = server.address().port; resolve(); }));

for (const [name, make] of [['express5', express], ['express4', express4]]) {
  const auth = createExpressAuth(gatehouse);
  const app = make();
  app.get('/me', auth.requireAuth(), (req, res) => res.json(req.auth));
  app.get('/write', auth.requireScope('write'), (req, res) => res.json(req.auth));
  await listen(name, app.listen(0, '127.0.0.1'));
}
const auth = createHonoAuth(gatehouse);
const hono = new Hono();
hono.get('/me', auth.requireAuth(), (c) => c.json(c.get('auth')));
hono.get('/write', auth.requireScope('write'), (c) => c.json(c.get('auth')));
await listen('hono', serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }));
// Fastify comes with gatehouse itself (a dependency of the server).
const fastifyAuth = createFastifyAuth(gatehouse);
const fastify = Fastify();
await fastify.register(fastifyAuth.plugin);
fastify.get('/me', { onRequest: fastifyAuth.requireAuth() }, async (request) => request.auth);
fastify.get('/write', { onRequest: fastifyAuth.requireScope('write') }, async (request) => request.auth);
await fastify.listen({ port: 0, host: '127.0.0.1' });
ports.fastify = fastify.server.address().port;
console.log('READY ' + JSON.stringify(ports));
process.on('SIGTERM', () => process.exit(0));
`;

const CONSUMER = `
import { createAuthenticator, requireScope, type AuthResult, type Principal } from 'gatehouse/middleware';
import { createExpressAuth } from 'gatehouse/middleware/express';
import { createHonoAuth, type AuthEnv } from 'gatehouse/middleware/hono';
import { Hono } from 'hono';

const gatehouse = createAuthenticator({ issuer: 'https://id.example.com', audience: 'https://api.example', revocations: false, session: false });
const result: AuthResult = await gatehouse.authenticate({ authorization: 'Bearer x' });
const subject: string | undefined = result.ok ? result.principal.subject : result.description;
const kind: Principal['kind'] = 'client';
const guard = requireScope('read');
const status: 400 | 401 | 403 | 503 | undefined = result.ok ? gatehouse.authorize(result.principal, guard)?.status : result.status;
const expressAuth = createExpressAuth(gatehouse).requireScope('read');
const app = new Hono<AuthEnv>();
app.get('/', createHonoAuth(gatehouse).requireAuth(), (c) => c.json({ subject: c.get('auth')?.subject ?? null }));
// @ts-expect-error — the options are typed: audience is required
createAuthenticator({ issuer: 'https://id.example.com', revocations: false });
void [subject, kind, status, expressAuth];
`;

describe('the packed tarball in a fresh project (npm pack → npm install → Express 5, Express 4, Hono, Fastify)', { timeout: 900_000 }, () => {
  let g: Gatehouse;
  let work: string;
  let project: string;

  before(async () => {
    g = await startGatehouse();
    work = mkdtempSync(join(tmpdir(), 'gatehouse-packed-'));
    project = join(work, 'app');
    mkdirSync(project);
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await g.close();
  });

  it('npm pack builds dist/middleware and the tarball holds it', { timeout: 180_000 }, async (t) => {
    t.diagnostic(`npm pack --pack-destination ${work}`);
    await run('npm', ['pack', '--pack-destination', work], { cwd: root, env: npmEnv(), timeout: 170_000, maxBuffer: 32 * 1024 * 1024 });
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    assert.ok(tarball, 'a tarball was written');
    const { stdout } = await run('tar', ['-tzf', join(work, tarball)], { timeout: 30_000, maxBuffer: 32 * 1024 * 1024 });
    for (const file of ['index.js', 'index.d.ts', 'express.js', 'fastify.js', 'hono.js', 'hono.d.ts']) assert.ok(stdout.includes(`package/dist/middleware/${file}`), `the tarball has dist/middleware/${file}`);
    assert.ok(!/\.test\.ts$/m.test(stdout), 'no test files in the package');
    t.diagnostic(`packed ${tarball}`);
  });

  it('installs into a fresh project outside the repository with express, express 4 and hono from the registry', { timeout: 600_000 }, async (t) => {
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))!;
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'kit-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
    const packages = [join(work, tarball), 'express@5', 'express4@npm:express@4', 'hono@4', '@hono/node-server'];
    t.diagnostic(`cd ${project} && npm install --no-audit --no-fund ${packages.join(' ')}`);
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packages], { cwd: project, env: npmEnv(), timeout: 590_000, maxBuffer: 32 * 1024 * 1024 });
    const { stdout } = await run('npm', ['ls', '--depth=0'], { cwd: project, env: npmEnv(), timeout: 60_000 });
    t.diagnostic(stdout.trim().split('\n').join(' | '));
    assert.match(stdout, /gatehouse@/);
    assert.match(stdout, /express4@npm:express@4\./);
  });

  it('a consumer type-checks against the shipped declarations (no @types/node, no skipLibCheck)', { timeout: 120_000 }, async (t) => {
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: [], skipLibCheck: false, lib: ['es2022', 'dom'] }, files: ['consumer.ts'] }));
    t.diagnostic('tsc -p tsconfig.json (the repository’s TypeScript)');
    try {
      await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(project, 'tsconfig.json')], { cwd: project, timeout: 110_000 });
    } catch (error) {
      assert.fail(`tsc: ${(error as { stdout?: string }).stdout ?? String(error)}`);
    }
  });

  it('the Express 5, Express 4, Hono and Fastify apps authenticate a request: a valid token → 200 with the principal, none → 401', { timeout: 120_000 }, async (t) => {
    writeFileSync(join(project, 'app.mjs'), APP);
    t.diagnostic(`node app.mjs (GATEHOUSE_URL=${g.base})`);
    const child = spawn(process.execPath, ['app.mjs'], { cwd: project, env: { ...process.env, GATEHOUSE_URL: g.base, RS_CLIENT_SECRET: SECRETS.rs! }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 60_000;
      let ready: RegExpExecArray | null;
      while (!(ready = /READY (\{.*\})/.exec(output))) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the app did not start: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const ports = JSON.parse(ready[1]!) as Record<string, number>;
      const token = await clientToken(g.t, 'svc', { scope: 'read' });
      for (const [name, port] of Object.entries(ports)) {
        const none = await fetch(`http://127.0.0.1:${port}/me`);
        assert.equal(none.status, 401, `${name}: no token`);
        assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="gatehouse"', name);
        await none.body?.cancel();
        const me = await fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(me.status, 200, `${name}: valid token`);
        const principal = (await me.json()) as Record<string, unknown>;
        assert.equal(principal.subject, 'client:svc', name);
        assert.deepEqual(principal.scopes, ['read'], name);
        const write = await fetch(`http://127.0.0.1:${port}/write`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(write.status, 403, `${name}: insufficient_scope`);
        assert.match(String(write.headers.get('www-authenticate')), /error="insufficient_scope".*scope="write"/);
        await write.body?.cancel();
        t.diagnostic(`${name}: none → 401, valid → 200 ${principal.subject}, missing scope → 403`);
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
