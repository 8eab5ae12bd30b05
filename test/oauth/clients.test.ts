/**
 * The client registry through its three doors — the admin API, the CLI, the config file — and
 * the rules they share: registration-time validation (SEC-OAUTH-05), secrets shown once and
 * stored hashed (SEC-PWD-19), admin-only access (SEC-ASVS-01), identifier namespaces
 * (SEC-OAUTH-17) and idempotent declarative configuration.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { exportJWK, generateKeyPair } from 'jose';
import { ConfigError } from '../../src/config/types.ts';
import { hashSecret } from '../../src/crypto/random.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createAuditLog } from '../../src/features/audit/audit-log.ts';
import { applyConfiguredClients, HASH_COMMAND } from '../../src/features/clients/config.ts';
import { createClientRegistry, type ClientRegistry } from '../../src/features/clients/registry.ts';
import { createClientStore } from '../../src/features/clients/store.ts';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { runServerToExit } from '../support/spawn-server.ts';

// ---------------------------------------------------------------------------------------------
// helpers

async function unitRegistry(now: () => number = Date.now): Promise<{ database: Database; registry: ClientRegistry; audited: (type: 'client-created' | 'client-updated' | 'client-deleted' | 'client-secret-rotated') => Promise<number> }> {
  const database = openDatabase({ url: 'sqlite::memory:' });
  await migrateToLatest(database);
  const audit = createAuditLog(database.db, { now });
  const registry = createClientRegistry({ store: createClientStore(database.db), db: database.db, audit, now });
  return { database, registry, audited: async (type) => (await audit.query({ type, limit: 1000 })).length };
}

function adminRequest(t: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, cookie: string | undefined, body?: unknown): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { origin: new URL(t.config.publicUrl).origin };
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return t.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
}

/** Signs `email` up and in; with `admin`, grants the admin role (grey-box, as `users create --admin` would). */
async function signedIn(t: TestApp, email: string, options: { admin?: boolean } = {}): Promise<{ cookie: string; userId: string }> {
  const cookie = await registerAndSignIn(t, email);
  const users = createSqlUserStore(t.storage.database.db);
  const user = await users.findByEmail(email);
  assert.ok(user);
  if (options.admin) await users.setRoles(user.id, ['admin'], Date.now());
  return { cookie, userId: user.id };
}

async function clientIds(t: TestApp): Promise<string[]> {
  return (await createClientStore(t.storage.database.db).list()).map((client) => client.clientId).sort();
}

// ---------------------------------------------------------------------------------------------
// SEC-OAUTH-05

const BAD_REDIRECT_URIS: readonly string[] = [
  'https://app.example.com/cb#frag',
  'https://app.example.com/cb#',
  'https://*.example.com/cb',
  'https://app.example.com/*',
  'http://app.example.com/cb',
  'http://localhost.evil.com/cb',
  'http://127.0.0.2/cb',
  'javascript:alert(1)',
  'JavaScript://app.example.com/%0aalert(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'vbscript:msgbox(1)',
  'myapp:/callback',
  'myapp://callback',
  '/callback',
  'callback',
  '//app.example.com/cb',
  '',
  'https://user@app.example.com/cb',
  'https://user:pass@app.example.com/cb',
  'https://@app.example.com/cb',
  'https://evil.example\\@app.example.com/cb',
  'http://localhost:80@evil.com/cb',
  'https://app.example.com/cb\r\nSet-Cookie: x=1',
  'https://app.example.com/c b',
  ' https://app.example.com/cb',
  'https://app.example.com/cb\t',
  'https://app.example.com/a/../cb',
  'https://app.example.com/a/%2e%2e/cb',
  'https://äpp.example.com/cb',
];

const GOOD_REDIRECT_URIS: readonly string[] = [
  'https://app.example.com/cb',
  'https://app.example.com/cb?tenant=1',
  'https://app.example.com:8443/cb',
  'http://127.0.0.1/cb',
  'http://127.0.0.1:51234/cb',
  'http://[::1]/cb',
  'http://localhost:3000/cb',
  'com.example.app:/oauth2redirect',
  'com.example.app://callback',
];

describe('clients: registration-time validation', () => {
  let t: TestApp;
  let admin: string;
  before(async () => {
    t = await createTestApp();
    admin = (await signedIn(t, 'admin@example.com', { admin: true })).cookie;
  });
  after(() => t.close());

  for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
    it(`SEC-OAUTH-05: each bad ${field} value → 400 invalid_redirect_uri naming the field, client not created`, async () => {
      const before = await clientIds(t);
      for (const uri of BAD_REDIRECT_URIS) {
        const response = await adminRequest(t, 'POST', '/api/admin/clients', admin, {
          client_id: 'bad-uri',
          name: 'Bad',
          type: 'public',
          redirect_uris: field === 'redirect_uris' ? ['https://app.example.com/ok', uri] : ['https://app.example.com/ok'],
          ...(field === 'post_logout_redirect_uris' ? { post_logout_redirect_uris: [uri] } : {}),
        });
        assert.equal(response.statusCode, 400, `${JSON.stringify(uri)}: ${response.body}`);
        const body = response.json() as { error: string; error_description: string };
        assert.equal(body.error, 'invalid_redirect_uri', `${JSON.stringify(uri)}: ${response.body}`);
        assert.match(body.error_description, new RegExp(`^${field}\\[${field === 'redirect_uris' ? 1 : 0}\\]: `), JSON.stringify(uri));
      }
      assert.deepEqual(await clientIds(t), before, 'nothing was created');
    });
  }

  it('SEC-OAUTH-05: https, loopback http (any port) and reverse-domain private-use schemes are accepted', async () => {
    for (const [index, uri] of GOOD_REDIRECT_URIS.entries()) {
      const response = await adminRequest(t, 'POST', '/api/admin/clients', admin, { client_id: `good-${index}`, name: 'Good', type: 'public', redirect_uris: [uri] });
      assert.equal(response.statusCode, 201, `${uri}: ${response.body}`);
      assert.deepEqual(response.json().redirect_uris, [uri], 'stored verbatim (exact matching later)');
    }
  });

  it('SEC-OAUTH-05: authorization_code without a redirect URI → invalid_redirect_uri', async () => {
    const response = await adminRequest(t, 'POST', '/api/admin/clients', admin, { name: 'No URIs', type: 'public', grant_types: ['authorization_code'] });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_redirect_uri');
  });

  it('inconsistent metadata → 400 invalid_client_metadata naming the field', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const publicJwk = await exportJWK(publicKey);
    const p384 = await exportJWK((await generateKeyPair('ES384', { extractable: true })).publicKey);
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const cc = { type: 'confidential', grant_types: ['client_credentials'] };
    const pk = { ...cc, token_endpoint_auth_method: 'private_key_jwt' };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['public client with client_credentials', { type: 'public', grant_types: ['client_credentials'] }, /^grant_types: /],
      ['public client with a secret method', { type: 'public', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['refresh_token'] }, /^token_endpoint_auth_method: /],
      ['confidential client with none', { ...cc, token_endpoint_auth_method: 'none' }, /^token_endpoint_auth_method: /],
      ['private_key_jwt without jwks', pk, /^jwks: /],
      ['jwks with a private key', { ...pk, jwks: { keys: [privateJwk] } }, /^jwks\.keys\[0\]\.d: /],
      ['jwks with a symmetric key', { ...pk, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /^jwks\.keys\[0\]\.k: /],
      ['jwks with a P-384 key', { ...pk, jwks: { keys: [p384] } }, /^jwks\.keys\[0\]\.crv: /],
      ['jwks with a 1024-bit RSA key', { ...pk, jwks: { keys: [{ ...rsa1024, alg: 'RS256' }] } }, /^jwks\.keys\[0\]\.n: /],
      ['jwks with an RSA key without alg', { ...pk, jwks: { keys: [rsa1024] } }, /^jwks\.keys\[0\]\.alg: /],
      ['jwks with a point off the curve', { ...pk, jwks: { keys: [{ ...publicJwk, y: publicJwk.x }] } }, /^jwks\.keys\[0\]: /],
      ['jwks with two keys and no kid', { ...pk, jwks: { keys: [publicJwk, publicJwk] } }, /^jwks\.keys\[0\]\.kid: /],
      ['jwks for a secret client', { ...cc, jwks: { keys: [publicJwk] } }, /^jwks: /],
      ['a scope with a space', { ...cc, scopes: ['read write'] }, /^scopes\[0\]: /],
      ['a scope with a quote', { ...cc, scopes: ['a"b'] }, /^scopes\[0\]: /],
      ['a relative audience', { ...cc, audiences: ['/api'] }, /^audiences\[0\]: /],
      ['an audience with a fragment', { ...cc, audiences: ['https://api.example.com/#x'] }, /^audiences\[0\]: /],
      ['a zero TTL', { ...cc, access_token_ttl_seconds: 0 }, /^access_token_ttl_seconds: /],
      ['a ten-year access token', { ...cc, access_token_ttl_seconds: 315_360_000 }, /^access_token_ttl_seconds: /],
      ['a client_id with a colon', { ...cc, client_id: 'a:b' }, /^client_id: /],
      ['a client_id in the client: namespace', { ...cc, client_id: 'client:svc' }, /^client_id: /],
      ['duplicate scopes', { ...cc, scopes: ['read', 'read'] }, /^scopes\[1\]: /],
      ['an empty name', { ...cc, name: ' ' }, /^name: /],
    ];
    for (const [what, metadata, field] of cases) {
      const response = await adminRequest(t, 'POST', '/api/admin/clients', admin, { name: 'X', ...metadata });
      assert.equal(response.statusCode, 400, `${what}: ${response.body}`);
      const body = response.json() as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_client_metadata', `${what}: ${response.body}`);
      assert.match(body.error_description, field, what);
      assert.ok(!body.error_description.includes(String(privateJwk.d)), `${what}: no key material echoed`);
    }
  });

  it('SEC-OAUTH-17: a client_id equal to an existing user id is refused', async () => {
    const { userId } = await signedIn(t, 'alice@example.com');
    const response = await adminRequest(t, 'POST', '/api/admin/clients', admin, { client_id: userId, name: 'Impostor', type: 'confidential', grant_types: ['client_credentials'] });
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().error, 'invalid_client_metadata');
    assert.match(response.json().error_description, /^client_id: /);
    assert.ok(!(await clientIds(t)).includes(userId));
    await assert.rejects(
      applyConfiguredClients(createClientRegistry({ store: createClientStore(t.storage.database.db), db: t.storage.database.db, audit: createAuditLog(t.storage.database.db) }), [
        { client_id: userId, name: 'Impostor', type: 'public', grant_types: ['refresh_token'] },
      ]),
      (error: unknown) => error instanceof ConfigError && error.key === 'clients[0].client_id',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// admin API

describe('clients: the admin API', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;
  before(async () => {
    t = await createTestApp({ env: { GATEHOUSE_CLIENTS: JSON.stringify([{ client_id: 'declared', name: 'Declared', type: 'confidential', grant_types: ['client_credentials'], client_secret_hash: hashSecret('declared secret value') }]) } });
    admin = (await signedIn(t, 'admin@example.com', { admin: true })).cookie;
    alice = (await signedIn(t, 'alice@example.com')).cookie;
  });
  after(() => t.close());

  const routes: ['GET' | 'POST' | 'PATCH' | 'DELETE', string, unknown?][] = [
    ['GET', '/api/admin/clients'],
    ['POST', '/api/admin/clients', { client_id: 'sneaky', name: 'Sneaky', type: 'confidential', grant_types: ['client_credentials'] }],
    ['GET', '/api/admin/clients/declared'],
    ['PATCH', '/api/admin/clients/declared', { name: 'Renamed' }],
    ['POST', '/api/admin/clients/declared/secret', {}],
    ['DELETE', '/api/admin/clients/declared'],
  ];

  it('SEC-ASVS-01: without a session → 401, as a non-admin → 403, with no side effect', async () => {
    const before = await createClientStore(t.storage.database.db).list();
    for (const [method, url, body] of routes) {
      const anonymous = await adminRequest(t, method, url, undefined, body);
      assert.equal(anonymous.statusCode, 401, `${method} ${url} anonymous: ${anonymous.body}`);
      assert.equal(anonymous.json().error, 'unauthenticated');
      const user = await adminRequest(t, method, url, alice, body);
      assert.equal(user.statusCode, 403, `${method} ${url} as alice: ${user.body}`);
      assert.equal(user.json().error, 'forbidden');
    }
    // A body the schema refuses still gets 401/403 first: the check runs before parsing.
    assert.equal((await adminRequest(t, 'POST', '/api/admin/clients', alice, { nonsense: true })).statusCode, 403);
    assert.deepEqual(await createClientStore(t.storage.database.db).list(), before, 'nothing changed');
  });

  it('a cross-site POST is refused by the CSRF guard', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/admin/clients', headers: { origin: 'https://evil.example', cookie: admin, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x', type: 'public', grant_types: ['refresh_token'] }) });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error, 'csrf_failed');
  });

  it('create returns the secret once; it is stored only as SHA-256 and never logged or audited (SEC-PWD-19)', async () => {
    const created = await adminRequest(t, 'POST', '/api/admin/clients', admin, { name: 'Reporting', type: 'confidential', grant_types: ['client_credentials'], scopes: ['reports:read'] });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers['cache-control'], 'no-store');
    const body = created.json() as { client_id: string; client_secret: string; source: string };
    assert.match(body.client_id, /^[A-Za-z0-9][A-Za-z0-9_-]{23}$/, 'a generated, url-safe client_id');
    assert.match(body.client_secret, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
    assert.equal(body.source, 'api');

    const row = await t.storage.database.db.selectFrom('clients').selectAll().where('client_id', '=', body.client_id).executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, hashSecret(body.client_secret));
    assert.ok(!JSON.stringify(row).includes(body.client_secret), 'the secret is not stored');
    const audit = await t.storage.database.db.selectFrom('audit_events').selectAll().execute();
    assert.ok(audit.some((event) => event.type === 'client-created' && event.detail.includes(body.client_id)));
    assert.ok(!JSON.stringify(audit).includes(body.client_secret), 'not audited');
    assert.ok(!t.logText().includes(body.client_secret), 'not logged');

    const shown = await adminRequest(t, 'GET', `/api/admin/clients/${body.client_id}`, admin);
    assert.equal(shown.statusCode, 200);
    assert.equal(shown.headers['cache-control'], 'no-store');
    assert.ok(!('client_secret' in shown.json()), 'GET never shows a secret');
    const list = await adminRequest(t, 'GET', '/api/admin/clients', admin);
    assert.ok(!list.body.includes(body.client_secret) && !list.body.includes(row.secret_hash!), 'the list shows neither secret nor hash');
  });

  it('a duplicate client_id → 409; an unknown one → 404', async () => {
    const first = await adminRequest(t, 'POST', '/api/admin/clients', admin, { client_id: 'twice', name: 'Twice', type: 'public', grant_types: ['refresh_token'] });
    assert.equal(first.statusCode, 201);
    const second = await adminRequest(t, 'POST', '/api/admin/clients', admin, { client_id: 'twice', name: 'Twice', type: 'public', grant_types: ['refresh_token'] });
    assert.equal(second.statusCode, 409);
    assert.equal((await adminRequest(t, 'GET', '/api/admin/clients/nope', admin)).statusCode, 404);
    assert.equal((await adminRequest(t, 'PATCH', '/api/admin/clients/nope', admin, { name: 'x' })).statusCode, 404);
    assert.equal((await adminRequest(t, 'DELETE', '/api/admin/clients/nope', admin)).statusCode, 404);
  });

  it('PATCH replaces only the fields sent, validates the result, keeps client_id, audits the changed fields', async () => {
    const created = (await adminRequest(t, 'POST', '/api/admin/clients', admin, { client_id: 'web', name: 'Web', type: 'confidential', redirect_uris: ['https://web.example.com/cb'], scopes: ['openid'] })).json() as { client_secret: string; created_at: number };
    const patched = await adminRequest(t, 'PATCH', '/api/admin/clients/web', admin, { scopes: ['openid', 'profile'], first_party: true });
    assert.equal(patched.statusCode, 200, patched.body);
    const view = patched.json();
    assert.deepEqual(view.scopes, ['openid', 'profile']);
    assert.equal(view.first_party, true);
    assert.deepEqual(view.redirect_uris, ['https://web.example.com/cb'], 'untouched');
    assert.equal(view.created_at, created.created_at);
    assert.ok(!('client_secret' in view), 'no new secret');
    const events = await createAuditLog(t.storage.database.db).query({ type: 'client-updated' });
    assert.equal(events[0]?.detail.fields, 'scopes,first_party');

    const bad = await adminRequest(t, 'PATCH', '/api/admin/clients/web', admin, { redirect_uris: ['https://web.example.com/cb#x'] });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, 'invalid_redirect_uri');
    const rename = await adminRequest(t, 'PATCH', '/api/admin/clients/web', admin, { client_id: 'other' });
    assert.equal(rename.statusCode, 400);
    assert.deepEqual((await adminRequest(t, 'GET', '/api/admin/clients/web', admin)).json().redirect_uris, ['https://web.example.com/cb']);

    // Switching to private_key_jwt drops the secret; switching back issues a new one (shown once).
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const toJWT = await adminRequest(t, 'PATCH', '/api/admin/clients/web', admin, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [await exportJWK(publicKey)] } });
    assert.equal(toJWT.statusCode, 200, toJWT.body);
    const row = await t.storage.database.db.selectFrom('clients').select(['secret_hash', 'previous_secret_hash']).where('client_id', '=', 'web').executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, null);
    assert.equal(row.previous_secret_hash, null);
    const back = await adminRequest(t, 'PATCH', '/api/admin/clients/web', admin, { token_endpoint_auth_method: 'client_secret_post', jwks: null });
    assert.equal(back.statusCode, 200, back.body);
    assert.match(back.json().client_secret, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(back.json().client_secret, created.client_secret);
  });

  it('rotate: a new secret once, the old hash replaced, audited without the secret', async () => {
    const created = (await adminRequest(t, 'POST', '/api/admin/clients', admin, { client_id: 'rotating', name: 'Rotating', type: 'confidential', grant_types: ['client_credentials'] })).json() as { client_secret: string };
    const rotated = await adminRequest(t, 'POST', '/api/admin/clients/rotating/secret', admin, { grace_period_seconds: 120 });
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal(rotated.headers['cache-control'], 'no-store');
    const secret = rotated.json().client_secret as string;
    assert.notEqual(secret, created.client_secret);
    const row = await t.storage.database.db.selectFrom('clients').selectAll().where('client_id', '=', 'rotating').executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, hashSecret(secret));
    assert.equal(row.previous_secret_hash, hashSecret(created.client_secret));
    assert.ok(Number(row.previous_secret_expires_at) > Date.now() + 100_000);
    const events = await createAuditLog(t.storage.database.db).query({ type: 'client-secret-rotated' });
    assert.equal(events[0]?.detail.client_id, 'rotating');
    assert.ok(!JSON.stringify(events).includes(secret) && !t.logText().includes(secret));

    const publicClient = await adminRequest(t, 'POST', '/api/admin/clients/twice/secret', admin, {});
    assert.equal(publicClient.statusCode, 400, 'a public client has no secret');
  });

  it('config-declared clients are changed in the config file: PATCH and rotate → 409', async () => {
    assert.equal((await adminRequest(t, 'GET', '/api/admin/clients/declared', admin)).json().source, 'config');
    assert.equal((await adminRequest(t, 'PATCH', '/api/admin/clients/declared', admin, { name: 'x' })).statusCode, 409);
    assert.equal((await adminRequest(t, 'POST', '/api/admin/clients/declared/secret', admin, {})).statusCode, 409);
  });

  it('delete removes the client with its grants (foreign-key cascade) and is audited', async () => {
    await adminRequest(t, 'POST', '/api/admin/clients', admin, { client_id: 'doomed', name: 'Doomed', type: 'public', grant_types: ['refresh_token'] });
    // Grey-box: a grant of the client, as the token service would make.
    await t.storage.database.db.insertInto('grants').values({ id: 'grant-doomed', client_id: 'doomed', user_id: null, session_id: null, scope: '', created_at: Date.now(), expires_at: Date.now() + 60_000, revoked_at: null }).execute();
    const deleted = await adminRequest(t, 'DELETE', '/api/admin/clients/doomed', admin);
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal((await adminRequest(t, 'GET', '/api/admin/clients/doomed', admin)).statusCode, 404);
    assert.equal(await t.storage.database.db.selectFrom('grants').select('id').where('id', '=', 'grant-doomed').executeTakeFirst(), undefined);
    const events = await createAuditLog(t.storage.database.db).query({ type: 'client-deleted' });
    assert.equal(events[0]?.detail.client_id, 'doomed');
  });

  it('the routes are in the OpenAPI document under the admin tag', async () => {
    const document = (await t.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const [path, methods] of [['/api/admin/clients', ['get', 'post']], ['/api/admin/clients/{clientId}', ['get', 'patch', 'delete']], ['/api/admin/clients/{clientId}/secret', ['post']]] as const) {
      for (const method of methods) assert.deepEqual(document.paths[path]?.[method]?.tags, ['admin'], `${method} ${path}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// config file

describe('clients: the config file', () => {
  const secretHash = hashSecret('a configured secret of some length');
  const entries = (): Record<string, unknown>[] => [
    { client_id: 'svc', name: 'Service', type: 'confidential', grant_types: ['client_credentials'], scopes: ['read'], audiences: ['https://api.example.com'], client_secret_hash: secretHash },
    { client_id: 'app', name: 'App', type: 'public', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['com.example.app:/cb'], first_party: true },
  ];

  it('applying the same list twice changes nothing: no write, no audit event', async () => {
    let clock = 1_900_000_000_000;
    const { database, registry, audited } = await unitRegistry(() => clock);
    try {
      await applyConfiguredClients(registry, entries());
      const first = await registry.list();
      assert.deepEqual(first.map((client) => [client.clientId, client.source]).sort(), [['app', 'config'], ['svc', 'config']]);
      clock += 60_000;
      await applyConfiguredClients(registry, entries());
      await applyConfiguredClients(registry, entries());
      assert.deepEqual(await registry.list(), first, 'identical, updated_at included');
      assert.equal(await audited('client-created'), 2);
      assert.equal(await audited('client-updated'), 0);

      const changed = entries();
      changed[0]!.scopes = ['read', 'write'];
      await applyConfiguredClients(registry, changed);
      assert.equal(await audited('client-updated'), 1);
      assert.deepEqual((await registry.get('svc'))?.scopes, ['read', 'write']);
      await applyConfiguredClients(registry, changed);
      assert.equal(await audited('client-updated'), 1, 'still one');

      changed[0]!.client_secret_hash = hashSecret('a new configured secret');
      await applyConfiguredClients(registry, changed);
      const row = await database.db.selectFrom('clients').select('secret_hash').where('client_id', '=', 'svc').executeTakeFirstOrThrow();
      assert.equal(row.secret_hash, hashSecret('a new configured secret'));
      assert.equal(await audited('client-updated'), 2);
    } finally {
      await database.close();
    }
  });

  it('a bad entry stops start-up with one ConfigError naming clients[i].field; nothing is applied', async () => {
    const cases: [string, Record<string, unknown>, string, RegExp?][] = [
      ['raw secret', { client_id: 'x', name: 'X', type: 'confidential', grant_types: ['client_credentials'], client_secret: 'plain' }, 'clients[1].client_secret', /openssl dgst -sha256 -binary \| basenc --base64url \| tr -d =/],
      ['bad redirect', { client_id: 'x', name: 'X', type: 'public', redirect_uris: ['http://evil.example/cb'] }, 'clients[1].redirect_uris[0]'],
      ['missing client_id', { name: 'X', type: 'public', grant_types: ['refresh_token'] }, 'clients[1].client_id'],
      ['duplicate client_id', { client_id: 'svc', name: 'X', type: 'public', grant_types: ['refresh_token'] }, 'clients[1].client_id'],
      ['missing secret hash', { client_id: 'x', name: 'X', type: 'confidential', grant_types: ['client_credentials'] }, 'clients[1].client_secret_hash'],
      ['malformed secret hash', { client_id: 'x', name: 'X', type: 'confidential', grant_types: ['client_credentials'], client_secret_hash: 'abc' }, 'clients[1].client_secret_hash'],
      ['secret hash for a public client', { client_id: 'x', name: 'X', type: 'public', grant_types: ['refresh_token'], client_secret_hash: secretHash }, 'clients[1].client_secret_hash'],
      ['unknown field', { client_id: 'x', name: 'X', type: 'public', grant_types: ['refresh_token'], redirect_uri: 'https://x.example/cb' }, 'clients[1].redirect_uri'],
      ['wrong type', { client_id: 'x', name: 'X', type: 'public', grant_types: 'refresh_token' }, 'clients[1].grant_types'],
    ];
    for (const [what, entry, key, message] of cases) {
      const { database, registry } = await unitRegistry();
      try {
        await assert.rejects(applyConfiguredClients(registry, [entries()[0]!, entry]), (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${what}: ${String(error)}`);
          assert.equal(error.key, key, what);
          if (message) assert.match(error.message, message, what);
          assert.ok(!error.message.includes('plain'), `${what}: the raw secret is not echoed`);
          return true;
        });
        assert.deepEqual(await registry.list(), [], `${what}: nothing applied`);
      } finally {
        await database.close();
      }
    }
  });

  it('the documented hashing command computes exactly what the server stores', { skip: !hasTools('openssl', 'basenc') && 'openssl or basenc missing' }, () => {
    for (const secret of ['s3cr3t', 'with spaces and ünïcödé', 'Tr0ub4dor&3 + p%25ss:wörd/=?']) {
      const output = execFileSync('sh', ['-c', HASH_COMMAND], { env: { PATH: process.env.PATH, SECRET: secret }, encoding: 'utf8' }).trim();
      assert.equal(output, hashSecret(secret), secret);
    }
  });

  it('start-up with a raw client_secret in GATEHOUSE_CLIENTS prints one line and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-clients-'));
    try {
      const result = await runServerToExit({ cwd: dir, env: { GATEHOUSE_CLIENTS: JSON.stringify([{ client_id: 'x', name: 'X', type: 'confidential', grant_types: ['client_credentials'], client_secret: 'do-not-print-me' }]) } });
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /clients\[0\]\.client_secret: .*client_secret_hash/);
      assert.ok(!result.stderr.includes('do-not-print-me') && !result.stdout.includes('do-not-print-me'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hasTools(...names: string[]): boolean {
  try {
    for (const name of names) execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
