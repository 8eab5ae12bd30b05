/**
 * docs/resource-servers.md shows each adapter in a snippet that a test runs: this one. Every
 * ```js snippet=NAME file=FILE block is written, as written, to FILE in its own folder of a fresh
 * `npm init -y` project (CommonJS by default) outside the repository, where the packed kit
 * (`npm pack` of packages/middleware) and Express, Fastify and Hono are installed with npm; each
 * runs as its own process against a real Gatehouse, and requests go to it over HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerAndSignIn } from '../support/auth.ts';
import { API, SECRETS, basic, fixtureClients, freePort, nativeSignIn } from '../support/oauth.ts';
import { hashSecret } from '../../src/crypto/random.ts';
import { npm, pack } from '../support/packing.ts';
import { setRoles, startGatehouse, type Gatehouse } from './support.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const doc = readFileSync(join(root, 'docs', 'resource-servers.md'), 'utf8');
/** A client-credentials client calling the documented API (`reader`). */
const READER_SECRET = 'reader-secret-4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a';
const snippets = new Map([...doc.matchAll(/^```js snippet=(\w+) file=([\w.]+)\n([\s\S]*?)^```$/gm)].map((match) => [match[1]!, { file: match[2]!, code: match[3]! }]));

describe('docs/resource-servers.md snippets, as written, in a fresh npm init -y project', { timeout: 900_000 }, () => {
  let g: Gatehouse;
  let dir: string;
  let readToken: string;
  let writeToken: string;
  let admin: string;
  let cookie: string;
  const files = new Map<string, string>();

  before(async () => {
    g = await startGatehouse({
      clients: fixtureClients({
        mobile: { scopes: ['openid', 'documents:read', 'documents:write'] },
        extra: [
          { client_id: 'reader', name: 'reader', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecret(READER_SECRET), grant_types: ['client_credentials'], scopes: ['documents:read', 'documents:write'], audiences: [API] },
        ],
      }),
    });
    const token = async (scope: string) => {
      const response = await fetch(`${g.base}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic('reader', READER_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
      });
      assert.equal(response.status, 200, await response.clone().text());
      return ((await response.json()) as { access_token: string }).access_token;
    };
    readToken = await token('documents:read');
    writeToken = await token('documents:read documents:write');
    await registerAndSignIn(g.t, 'docs-admin@example.com');
    await setRoles(g.t, 'docs-admin@example.com', ['editor']);
    admin = (await nativeSignIn(g.t, 'docs-admin@example.com', { existing: true })).access_token;
    cookie = await registerAndSignIn(g.t, 'docs-cookie@example.com');
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-kit-docs-'));
    const tarball = await pack(join(root, 'packages', 'middleware'), dir);
    const project = join(dir, 'project');
    mkdirSync(project);
    await npm('npm', ['init', '-y'], { cwd: project, timeoutMs: 60_000 });
    await npm('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, 'express@5', 'fastify@5', 'hono@4', '@hono/node-server@2'], { cwd: project, timeoutMs: 600_000 });
    for (const [name, { file, code }] of snippets) {
      mkdirSync(join(project, name));
      writeFileSync(join(project, name, file), code);
      files.set(name, join(project, name, file));
    }
  }, { timeout: 900_000 });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await g.close();
  });

  it('the page has a snippet for Express, Fastify, Hono and the core', () => {
    assert.deepEqual([...snippets.keys()].sort(), ['core', 'express', 'fastify', 'hono']);
  });

  it('the CommonJS snippets are plain require() scripts in server.js, the ES module ones server.mjs', () => {
    for (const [name, { file, code }] of snippets) {
      if (file === 'server.js') assert.doesNotMatch(code, /^import /m, `${name}: no import statement in a CommonJS file`);
      else assert.equal(file, 'server.mjs', name);
    }
  });

  for (const name of ['express', 'fastify', 'hono', 'core']) {
    it(`the ${name} snippet runs and answers as documented`, { timeout: 60_000 }, async () => {
      const port = await freePort();
      const child: ChildProcess = spawn(process.execPath, [files.get(name)!], {
        cwd: dirname(files.get(name)!),
        env: { ...process.env, GATEHOUSE_URL: g.base, RS_CLIENT_ID: 'rs', RS_CLIENT_SECRET: SECRETS.rs!, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        const deadline = Date.now() + 30_000;
        while (!output.includes(`API listening on port ${port}`)) {
          assert.ok(Date.now() < deadline && child.exitCode === null, `${name} did not start: ${output}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        const call = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
          const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers });
          const text = await response.text();
          return { status: response.status, challenge: response.headers.get('www-authenticate'), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
        };
        const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

        const none = await call('/me');
        assert.equal(none.status, 401);
        assert.equal(none.challenge, 'Bearer realm="gatehouse"');
        assert.deepEqual((await call('/me', bearer(readToken))).body, { subject: 'client:reader', kind: 'client', via: 'bearer' });
        assert.equal((await call('/me', { cookie })).body.via, 'session');
        assert.equal((await call('/me', bearer(`${readToken}x`))).status, 401);
        const documents = await call('/documents', bearer(readToken));
        assert.equal(documents.status, 200);
        assert.deepEqual(documents.body, { documents: [], owner: 'client:reader' });
        const noScope = await call('/documents', { cookie });
        assert.equal(noScope.status, 403, 'a session holds no scopes');
        assert.match(String(noScope.challenge), /error="insufficient_scope".*scope="documents:read"/);
        if (name !== 'core') {
          const readOnly = await call('/documents/1', bearer(readToken), 'DELETE');
          assert.equal(readOnly.status, 403);
          assert.equal(readOnly.body.scope, 'documents:write');
          const noRole = await call('/documents/1', bearer(writeToken), 'DELETE');
          assert.equal(noRole.status, 403, 'a client has no editor role');
          assert.equal((await call('/documents/1', bearer(admin), 'DELETE')).status, 204, 'an editor with documents:write');
        }
      } finally {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    });
  }
});
