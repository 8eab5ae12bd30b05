/**
 * Client metadata for branding (RFC 7591 §2: logo_uri, client_uri, policy_uri, tos_uri, contacts)
 * through every way a client is registered — admin API, CLI, dynamic registration — with the
 * registry's one validation; and RFC 7592 §2.2: a successful update of a dynamically registered
 * client rotates its registration access token (the old one stops working at once).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { hashSecret } from '../../src/crypto/random.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createClientStore } from '../../src/features/clients/store.ts';
import { openDatabase } from '../../src/storage/sql/database.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { runCli } from '../support/spawn-server.ts';

const BRANDING = {
  logo_uri: 'https://rp.example/logo.png',
  client_uri: 'https://rp.example/',
  policy_uri: 'https://rp.example/privacy',
  tos_uri: 'https://rp.example/terms',
  contacts: ['ops@rp.example', 'security@rp.example'],
};

function json(t: TestApp, method: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: method as 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
}

function assertRefused(response: LightMyRequestResponse, field: string, what: string): void {
  assert.equal(response.statusCode, 400, `${what}: ${response.body}`);
  assert.equal(response.json().error, 'invalid_client_metadata', what);
  assert.match(String(response.json().error_description), new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}: `), what);
}

describe('client branding metadata: admin API', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  before(async () => {
    t = await createTestApp();
    const cookie = await registerAndSignIn(t, 'brand-admin@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    await users.setRoles((await users.findByEmail('brand-admin@example.com'))!.id, ['admin'], Date.now());
    admin = { cookie, origin: new URL(t.config.publicUrl).origin };
  });
  after(() => t.close());

  it('stores, returns and patches logo_uri, client_uri, policy_uri, tos_uri and contacts', async () => {
    const created = await json(t, 'POST', '/api/admin/clients', { name: 'Branded', type: 'confidential', redirect_uris: ['https://rp.example/cb'], ...BRANDING }, admin);
    assert.equal(created.statusCode, 201, created.body);
    const view = created.json();
    for (const [name, value] of Object.entries(BRANDING)) assert.deepEqual(view[name], value, name);
    const client = await createClientStore(t.storage.database.db).get(view.client_id);
    assert.ok(client);
    // The property names the sign-in and consent pages read.
    assert.deepEqual(
      { logoUri: client.logoUri, clientUri: client.clientUri, policyUri: client.policyUri, tosUri: client.tosUri, contacts: client.contacts },
      { logoUri: BRANDING.logo_uri, clientUri: BRANDING.client_uri, policyUri: BRANDING.policy_uri, tosUri: BRANDING.tos_uri, contacts: BRANDING.contacts },
    );

    const patched = await json(t, 'PATCH', `/api/admin/clients/${view.client_id}`, { logo_uri: null, contacts: [] }, admin);
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().logo_uri, null);
    assert.deepEqual(patched.json().contacts, []);
    assert.equal(patched.json().tos_uri, BRANDING.tos_uri, 'fields not given are kept');

    // In development (the test server's environment), loopback http is allowed too.
    assert.equal(t.config.env, 'development');
    const local = await json(t, 'POST', '/api/admin/clients', { name: 'Local', type: 'confidential', grant_types: ['client_credentials'], logo_uri: 'http://localhost:5173/logo.svg', client_uri: 'http://127.0.0.1:8080/' }, admin);
    assert.equal(local.statusCode, 201, local.body);
    assert.equal(local.json().logo_uri, 'http://localhost:5173/logo.svg');

    const plain = await json(t, 'POST', '/api/admin/clients', { name: 'Plain', type: 'confidential', grant_types: ['client_credentials'] }, admin);
    assert.equal(plain.statusCode, 201, plain.body);
    for (const name of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri']) assert.equal(plain.json()[name], null, `${name} defaults to null`);
    assert.deepEqual(plain.json().contacts, []);
  });

  it('refuses what a browser must not open and what is not an email address, naming the field', async () => {
    const base = { name: 'Bad', type: 'confidential', grant_types: ['client_credentials'] };
    const cases: [Record<string, unknown>, string][] = [
      [{ logo_uri: 'http://rp.example/logo.png' }, 'logo_uri'],
      [{ logo_uri: 'javascript:alert(1)' }, 'logo_uri'],
      [{ logo_uri: 'data:image/png;base64,AAAA' }, 'logo_uri'],
      [{ client_uri: 'ftp://rp.example/' }, 'client_uri'],
      [{ policy_uri: 'https://user:pw@rp.example/privacy' }, 'policy_uri'],
      [{ tos_uri: 'https://rp.example/terms with space' }, 'tos_uri'],
      [{ tos_uri: '/terms' }, 'tos_uri'],
      // The logo's origin goes into the page's CSP img-src: a host with ; or ' would inject directives.
      [{ logo_uri: 'https://cdn.example;sandbox/logo.png' }, 'logo_uri'],
      [{ logo_uri: "https://cdn.example'unsafe-inline'/logo.png" }, 'logo_uri'],
      [{ contacts: ['not an address'] }, 'contacts[0]'],
      [{ contacts: ['ops@rp.example', 'Ops <ops@rp.example>'] }, 'contacts[1]'],
      [{ contacts: ['ops@rp.example', 'ops@rp.example'] }, 'contacts[1]'],
      [{ contacts: Array.from({ length: 11 }, (_, index) => `ops${index}@rp.example`) }, 'contacts'],
    ];
    for (const [metadata, field] of cases) {
      assertRefused(await json(t, 'POST', '/api/admin/clients', { ...base, ...metadata }, admin), field, JSON.stringify(metadata));
    }
    // Types the JSON schema lets through are still the registry's to refuse, with the field named.
    const wrongType = await json(t, 'POST', '/api/admin/clients', { ...base, contacts: 'ops@rp.example' }, admin);
    assert.equal(wrongType.statusCode, 400, wrongType.body);
  });
});

describe('client branding metadata: CLI (development accepts loopback http)', () => {
  let dir: string;
  let databaseUrl: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-branding-cli-'));
    databaseUrl = `sqlite:${join(dir, 'gatehouse.sqlite')}`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_ENV: 'development' } });

  it('create and update take the flags; "" removes a URL; bad values exit 2 naming the field', async () => {
    const created = await cli(['clients', 'create', '--name', 'Local app', '--type', 'confidential', '--grant', 'client_credentials', '--client-id', 'local-app',
      '--logo-uri', 'http://localhost:5173/logo.svg', '--client-uri', 'https://local.example/', '--policy-uri', 'https://local.example/privacy', '--tos-uri', 'https://local.example/terms',
      '--contact', 'dev@local.example', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const view = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(view.logo_uri, 'http://localhost:5173/logo.svg', 'loopback http in development');
    assert.deepEqual(view.contacts, ['dev@local.example']);

    const updated = await cli(['clients', 'update', 'local-app', '--logo-uri', '', '--contact', 'a@local.example', '--contact', 'b@local.example', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    const after = JSON.parse(updated.stdout) as Record<string, unknown>;
    assert.equal(after.logo_uri, null);
    assert.deepEqual(after.contacts, ['a@local.example', 'b@local.example']);
    assert.equal(after.tos_uri, 'https://local.example/terms');

    const shown = await cli(['clients', 'show', 'local-app']);
    assert.match(shown.stdout, /^contacts: a@local\.example b@local\.example$/m);

    for (const [args, message] of [
      [['--logo-uri', 'http://rp.example/logo.png'], /logo_uri: must use https/],
      [['--contact', 'nobody'], /contacts\[0\]: must be an email address/],
    ] as const) {
      const refused = await cli(['clients', 'update', 'local-app', ...args]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, message);
    }
    const database = openDatabase({ url: databaseUrl });
    try {
      assert.deepEqual((await createClientStore(database.db).get('local-app'))?.contacts, ['a@local.example', 'b@local.example'], 'a refused update changes nothing');
    } finally {
      await database.close();
    }
  });

  it('in production loopback http is refused as well', async () => {
    const production = {
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
      GATEHOUSE_PUBLIC_URL: 'https://auth.example',
      GATEHOUSE_SMTP_URL: 'smtp://mail.example:587',
    };
    const refused = await runCli(['clients', 'create', '--name', 'Prod app', '--type', 'confidential', '--grant', 'client_credentials', '--logo-uri', 'http://localhost:5173/logo.svg'], { cwd: dir, env: production });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /logo_uri: must be an https URL \(http to a loopback host is allowed in development only\)/);
    const accepted = await runCli(['clients', 'create', '--name', 'Prod app', '--type', 'confidential', '--grant', 'client_credentials', '--logo-uri', 'https://prod.example/logo.svg', '--json'], { cwd: dir, env: production });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal((JSON.parse(accepted.stdout) as { logo_uri: string }).logo_uri, 'https://prod.example/logo.svg');
  });
});

describe('client branding metadata: dynamic registration, and RFC 7592 token rotation', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { GATEHOUSE_DYNAMIC_REGISTRATION: 'open', GATEHOUSE_DYNAMIC_REGISTRATIONS_PER_IP: '100000' } });
  });
  after(() => t.close());
  const manage = (method: 'GET' | 'PUT' | 'DELETE', clientId: string, token: string, body?: unknown) => t.app.inject({
    method,
    url: `/oauth/register/${clientId}`,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const web = { client_name: 'RP', redirect_uris: ['https://rp.example/cb'] };

  it('stores the branding metadata and returns it on registration, read and update', async () => {
    const registered = await json(t, 'POST', '/oauth/register', { ...web, ...BRANDING });
    assert.equal(registered.statusCode, 201, registered.body);
    const body = registered.json();
    for (const [name, value] of Object.entries(BRANDING)) assert.deepEqual(body[name], value, name);
    const client = await createClientStore(t.storage.database.db).get(body.client_id);
    assert.equal(client?.logoUri, BRANDING.logo_uri);
    assert.deepEqual(client?.contacts, BRANDING.contacts);
    const read = await manage('GET', body.client_id, body.registration_access_token);
    for (const [name, value] of Object.entries(BRANDING)) assert.deepEqual(read.json()[name], value, `read ${name}`);

    // RFC 7592 §2.2 is a full replacement: what the PUT leaves out is gone.
    const replaced = await manage('PUT', body.client_id, body.registration_access_token, { client_id: body.client_id, ...web, tos_uri: 'https://rp.example/terms-2' });
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.equal(replaced.json().tos_uri, 'https://rp.example/terms-2');
    assert.equal(replaced.json().logo_uri, undefined);
    assert.equal((await createClientStore(t.storage.database.db).get(body.client_id))?.logoUri, null);

    for (const [metadata, field] of [[{ logo_uri: 'http://rp.example/l.png' }, 'logo_uri'], [{ contacts: ['x'] }, 'contacts[0]'], [{ policy_uri: 7 }, 'policy_uri']] as const) {
      assertRefused(await json(t, 'POST', '/oauth/register', { ...web, ...metadata }), field, `register ${JSON.stringify(metadata)}`);
    }
  });

  it('a successful update returns a new registration access token and the old one stops working', async () => {
    const registered = (await json(t, 'POST', '/oauth/register', web)).json();
    const first = String(registered.registration_access_token);
    const replaced = await manage('PUT', registered.client_id, first, { client_id: registered.client_id, ...web, client_name: 'RP 2' });
    assert.equal(replaced.statusCode, 200, replaced.body);
    const second = String(replaced.json().registration_access_token);
    assert.match(second, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(second, first);
    assert.equal(replaced.json().registration_client_uri, registered.registration_client_uri);

    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const old = await manage(method, registered.client_id, first, method === 'PUT' ? { client_id: registered.client_id, ...web } : undefined);
      assert.equal(old.statusCode, 401, `${method} with the old token: ${old.body}`);
      assert.equal(old.json().error, 'invalid_token');
    }
    const row = await t.storage.database.db.selectFrom('client_registrations').select('token_hash').where('client_id', '=', registered.client_id).executeTakeFirstOrThrow();
    assert.equal(row.token_hash, hashSecret(second), 'only the new token’s hash is stored');
    const read = await manage('GET', registered.client_id, second);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().client_name, 'RP 2');
    assert.equal(read.json().registration_access_token, undefined, 'a read does not rotate or repeat it');

    // A refused update rotates nothing.
    const refused = await manage('PUT', registered.client_id, second, { client_id: registered.client_id, redirect_uris: ['https://rp.example/cb#f'] });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal((await manage('GET', registered.client_id, second)).statusCode, 200);
  });

  it('two updates racing with one token: exactly one succeeds and its token is the one that works', async () => {
    const registered = (await json(t, 'POST', '/oauth/register', web)).json();
    const token = String(registered.registration_access_token);
    const answers = await Promise.all(['A', 'B'].map((name) => manage('PUT', registered.client_id, token, { client_id: registered.client_id, ...web, client_name: `RP ${name}` })));
    const ok = answers.filter((answer) => answer.statusCode === 200);
    assert.equal(ok.length, 1, answers.map((answer) => `${answer.statusCode} ${answer.body}`).join(' | '));
    assert.equal(answers.find((answer) => answer.statusCode !== 200)?.statusCode, 401);
    const winner = ok[0]!.json();
    const read = await manage('GET', registered.client_id, String(winner.registration_access_token));
    assert.equal(read.json().client_name, winner.client_name);
  });
});
