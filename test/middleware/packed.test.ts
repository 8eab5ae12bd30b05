/**
 * The kit as a user gets it: `npm pack` of packages/middleware (its `prepack` builds the ES
 * module and CommonJS builds), installed from the tarball into fresh `npm init -y` projects
 * outside the repository: alone (no dependency comes with it, no engine warning on Node.js 20),
 * then with Express 5, Express 4, Fastify 5 and Hono 4 from the npm registry. A CommonJS app
 * (require: Express 5 and 4) and an ES module app (import: Hono and Fastify) authenticate
 * requests against a real listening Gatehouse, on Node.js 20 and on the pinned Node.js 24;
 * consumers of both module kinds type-check against the shipped declarations. Every step is
 * printed as a diagnostic.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SECRETS, clientToken } from '../support/oauth.ts';
import { CAN_FETCH_NODE, ROOT, nodeBinary, nodeVersion, npm, npmEnv, pack } from '../support/packing.ts';
import { startGatehouse, type Gatehouse } from './support.ts';

const run = promisify(execFile);
const CI = process.env.CI === 'true';
const KIT = join(ROOT, 'packages', 'middleware');

/** Node.js 20, the lowest line in the kit's engines: the system one when it is 20, else an exact binary. */
async function node20(): Promise<string | undefined> {
  if ((await nodeVersion('/usr/bin/node'))?.startsWith('20.')) return '/usr/bin/node';
  return CAN_FETCH_NODE || CI ? nodeBinary('20.20.2') : undefined;
}

const SERVE = `
const ports = {};
const listen = (name, server) => new Promise((resolve) => server.on('listening', () => { ports[name] = server.address().port; resolve(); }));
`;

/** A CommonJS app (what \`npm init -y\` makes): require() of the kit, Express 5 and Express 4. */
const APP_CJS = `
const express = require('express');
const express4 = require('express4');
const { createAuthenticator } = require('@gatehouse/middleware');
const { createExpressAuth } = require('@gatehouse/middleware/express');
${SERVE}
const gatehouse = createAuthenticator({
  issuer: process.env.GATEHOUSE_URL,
  audience: 'https://api.example',
  revocations: { clientId: 'rs', clientSecret: process.env.RS_CLIENT_SECRET },
});
(async () => {
  await gatehouse.ready();
  for (const [name, make] of [['express5', express], ['express4', express4]]) {
    const auth = createExpressAuth(gatehouse);
    const app = make();
    app.get('/me', auth.requireAuth(), (req, res) => res.json(req.auth));
    app.get('/write', auth.requireScope('write'), (req, res) => res.json(req.auth));
    await listen(name, app.listen(0, '127.0.0.1'));
  }
  console.log('READY ' + JSON.stringify(ports));
})();
process.on('SIGTERM', () => process.exit(0));
`;

/** An ES module app: import of the kit, Hono (with @hono/node-server) and Fastify. */
const APP_ESM = `
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import Fastify from 'fastify';
import { createAuthenticator } from '@gatehouse/middleware';
import { createHonoAuth } from '@gatehouse/middleware/hono';
import { createFastifyAuth } from '@gatehouse/middleware/fastify';
${SERVE}
const gatehouse = createAuthenticator({
  issuer: process.env.GATEHOUSE_URL,
  audience: 'https://api.example',
  revocations: { clientId: 'rs', clientSecret: process.env.RS_CLIENT_SECRET },
});
await gatehouse.ready();
const auth = createHonoAuth(gatehouse);
const hono = new Hono();
hono.get('/me', auth.requireAuth(), (c) => c.json(c.get('auth')));
hono.get('/write', auth.requireScope('write'), (c) => c.json(c.get('auth')));
await listen('hono', serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }));
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
import { createAuthenticator, requireScope, type AuthResult, type Principal } from '@gatehouse/middleware';
import { createExpressAuth } from '@gatehouse/middleware/express';
import { createHonoAuth, type AuthEnv } from '@gatehouse/middleware/hono';
import { Hono } from 'hono';

const gatehouse = createAuthenticator({ issuer: 'https://id.example.com', audience: 'https://api.example', revocations: false, session: false });
export async function check(): Promise<void> {
  const result: AuthResult = await gatehouse.authenticate({ authorization: 'Bearer x' });
  const subject: string | undefined = result.ok ? result.principal.subject : result.description;
  const kind: Principal['kind'] = 'client';
  const status: 400 | 401 | 403 | 503 | undefined = result.ok ? gatehouse.authorize(result.principal, requireScope('read'))?.status : result.status;
  void [subject, kind, status];
}
const expressAuth = createExpressAuth(gatehouse).requireScope('read');
const app = new Hono<AuthEnv>();
app.get('/', createHonoAuth(gatehouse).requireAuth(), (c) => c.json({ subject: c.get('auth')?.subject ?? null }));
// @ts-expect-error — the options are typed: audience is required
createAuthenticator({ issuer: 'https://id.example.com', revocations: false });
void expressAuth;
`;

describe('@gatehouse/middleware packed (npm pack → npm install in npm init -y projects → CommonJS Express, ES module Hono and Fastify)', { timeout: 1_200_000 }, () => {
  let g: Gatehouse;
  let work: string;
  let tarball: string;
  let project: string;
  const nodes = new Map<string, string | undefined>();

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'gatehouse-kit-packed-'));
    const [packed, gatehouse, lowest] = await Promise.all([pack(KIT, work), startGatehouse(), node20()]);
    tarball = packed;
    g = gatehouse;
    nodes.set('Node.js 20', lowest);
    nodes.set(`Node.js ${process.versions.node.split('.')[0]} (pinned)`, process.execPath);
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await g?.close();
  });

  it('the tarball holds the ES module and CommonJS builds with declarations, README and LICENSE, and no sources', { timeout: 60_000 }, (t) => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8', timeout: 50_000 }).trim().split('\n').map((name) => name.replace(/^package\//, ''));
    t.diagnostic(`${files.length} files in ${tarball}`);
    for (const kind of ['esm', 'cjs']) {
      for (const file of ['index', 'express', 'fastify', 'hono']) {
        assert.ok(files.includes(`dist/${kind}/${file}.js`), `dist/${kind}/${file}.js`);
        assert.ok(files.includes(`dist/${kind}/${file}.d.ts`), `dist/${kind}/${file}.d.ts`);
      }
    }
    assert.ok(files.includes('dist/cjs/package.json'));
    for (const file of ['README.md', 'LICENSE', 'package.json']) assert.ok(files.includes(file), file);
    assert.deepEqual(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), [], 'no TypeScript sources');
    assert.match(readFileSync(join(KIT, 'LICENSE'), 'utf8'), /Copyright 2026 The Gatehouse authors/);
  });

  it('installs alone into an empty npm init -y project on Node.js 20: nothing but the kit, no engine warning', { timeout: 300_000 }, async (t) => {
    const node = nodes.get('Node.js 20');
    if (node === undefined) return t.skip('no Node.js 20 here');
    const alone = join(work, 'alone');
    mkdirSync(alone);
    const env = npmEnv({ pathFirst: dirname(node) });
    await npm('npm', ['init', '-y'], { cwd: alone, timeoutMs: 60_000, env });
    t.diagnostic(`PATH=${dirname(node)}:$PATH npm install ${tarball}`);
    const { stderr } = await npm('npm', ['install', '--no-audit', '--no-fund', '--loglevel=warn', tarball], { cwd: alone, timeoutMs: 240_000, env });
    assert.doesNotMatch(stderr, /EBADENGINE/, stderr);
    assert.deepEqual(readdirSync(join(alone, 'node_modules')).filter((name) => !name.startsWith('.')), ['@gatehouse']);
    assert.deepEqual(readdirSync(join(alone, 'node_modules', '@gatehouse')), ['middleware']);
    const lock = JSON.parse(readFileSync(join(alone, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    assert.deepEqual(Object.keys(lock.packages).filter((path) => path !== ''), ['node_modules/@gatehouse/middleware'], '0 dependencies');
    const manifest = JSON.parse(readFileSync(join(alone, 'node_modules', '@gatehouse', 'middleware', 'package.json'), 'utf8')) as { engines: { node: string }; dependencies?: unknown };
    assert.equal(manifest.engines.node, '>=20');
    assert.equal(manifest.dependencies, undefined);
  });

  it('installs into an npm init -y project with express 5, express 4, fastify 5, hono 4 from the registry', { timeout: 600_000 }, async (t) => {
    project = join(work, 'app');
    mkdirSync(project);
    await npm('npm', ['init', '-y'], { cwd: project, timeoutMs: 60_000 });
    const packages = [tarball, 'express@5', 'express4@npm:express@4', 'fastify@5', 'hono@4', '@hono/node-server@2'];
    t.diagnostic(`cd ${project} && npm install ${packages.join(' ')}`);
    await npm('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packages], { cwd: project, timeoutMs: 590_000 });
    const { stdout } = await npm('npm', ['ls', '--depth=0'], { cwd: project, timeoutMs: 60_000 });
    t.diagnostic(stdout.trim().split('\n').join(' | '));
    assert.match(stdout, /@gatehouse\/middleware@0\.1\.0/);
  });

  it('an ES module and a CommonJS consumer type-check against the shipped declarations (no @types/node, no skipLibCheck)', { timeout: 180_000 }, async (t) => {
    writeFileSync(join(project, 'consumer-esm.mts'), CONSUMER);
    writeFileSync(join(project, 'consumer-cjs.cts'), CONSUMER);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: [], skipLibCheck: false, lib: ['es2022', 'dom'] }, files: ['consumer-esm.mts', 'consumer-cjs.cts'] }));
    t.diagnostic('tsc -p tsconfig.json (the repository’s TypeScript)');
    try {
      await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(project, 'tsconfig.json')], { cwd: project, timeout: 170_000 });
    } catch (error) {
      assert.fail(`tsc: ${(error as { stdout?: string }).stdout ?? String(error)}`);
    }
  });

  for (const line of ['Node.js 20', `Node.js ${process.versions.node.split('.')[0]} (pinned)`]) {
    for (const [file, source, names] of [['app.cjs', APP_CJS, 'Express 5 and 4 (CommonJS, require)'], ['app.mjs', APP_ESM, 'Hono and Fastify (ES module, import)']] as const) {
      it(`on ${line}: ${names} authenticate: a valid token → 200 with the principal, none → 401, a missing scope → 403`, { timeout: 120_000 }, async (t) => {
        const node = nodes.get(line);
        if (node === undefined) return t.skip(`no ${line} here`);
        writeFileSync(join(project, file), source);
        t.diagnostic(`${node} ${file} (v${await nodeVersion(node)}, GATEHOUSE_URL=${g.base})`);
        const child = spawn(node, [file], { cwd: project, env: { PATH: process.env.PATH ?? '', GATEHOUSE_URL: g.base, RS_CLIENT_SECRET: SECRETS.rs! }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
        try {
          const deadline = Date.now() + 60_000;
          let ready: RegExpExecArray | null;
          while (!(ready = /READY (\{.*\})/.exec(output))) {
            assert.ok(child.exitCode === null, `${file} exited before READY: ${output}`);
            assert.ok(Date.now() < deadline, `${file} printed no READY within 60 s: ${output}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          const ports = JSON.parse(ready[1]!) as Record<string, number>;
          assert.equal(Object.keys(ports).length, 2, JSON.stringify(ports));
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
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
      });
    }
  }
});
