/**
 * Dynamic client registration (RFC 7591) and its management protocol (RFC 7592), issue 20:
 * off by default (404), open, or behind initial access tokens; the registry's own validation
 * (SEC-OAUTH-05); registered clients are untrusted and always ask for consent (SEC-OIDF-18);
 * registration access tokens bound to their client; a per-IP budget.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { exportJWK, generateKeyPair } from 'jose';
import { hashSecret } from '../../src/crypto/random.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createClientStore } from '../../src/features/clients/store.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { basic, postForm } from '../support/oauth.ts';
import { answerConsent, authorize, authzQuery, isConsentPage, manualClock, pkce, redirectParams, userinfo } from '../support/oidc.ts';
import { runCli } from '../support/spawn-server.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';

const WEB_REDIRECT = 'https://rp.example/callback';
/** The per-IP budget is tested on its own; elsewhere every request comes from one test IP. */
const UNLIMITED = { GATEHOUSE_DYNAMIC_REGISTRATIONS_PER_IP: '100000' };

function register(t: TestApp, body: unknown, token?: string): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/oauth/register',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    payload: JSON.stringify(body),
  });
}

function manage(t: TestApp, method: 'GET' | 'PUT' | 'DELETE', clientId: string, token: string | undefined, body?: unknown): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url: `/oauth/register/${encodeURIComponent(clientId)}`,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

async function clientCount(t: TestApp): Promise<number> {
  return (await createClientStore(t.storage.database.db).list()).length;
}

function assertError(response: LightMyRequestResponse, status: number, error: string, what = ''): void {
  assert.equal(response.statusCode, status, `${what}: ${response.body}`);
  assert.equal(response.json().error, error, what);
}

async function adminCookie(t: TestApp, email = 'admin@example.com'): Promise<string> {
  const cookie = await registerAndSignIn(t, email);
  const users = createSqlUserStore(t.storage.database.db);
  const user = await users.findByEmail(email);
  assert.ok(user);
  await users.setRoles(user.id, ['admin'], Date.now());
  return cookie;
}

function issueInitialToken(t: TestApp, cookie: string, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/api/admin/initial-access-tokens',
    headers: { cookie, origin: new URL(t.config.publicUrl).origin, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

const webClient = { client_name: 'Relying party', redirect_uris: [WEB_REDIRECT], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile email' };

describe('dynamic registration switched off (the default)', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp(); });
  after(() => t.close());

  it('has no /oauth/register endpoint and discovery does not announce one', async () => {
    assert.equal(t.config.dynamicRegistration, 'off');
    const off = await register(t, webClient);
    assert.equal(off.statusCode, 404);
    const unknown = await t.app.inject({ method: 'POST', url: '/oauth/no-such-endpoint', headers: { 'content-type': 'application/json' }, payload: '{}' });
    assert.deepEqual(off.json(), unknown.json(), 'the same answer as an unknown route');
    assert.equal((await manage(t, 'GET', 'anything', 'token')).statusCode, 404);
    assert.equal(await clientCount(t), 0);
    const discovery = (await t.app.inject({ url: '/.well-known/openid-configuration' })).json();
    assert.equal(discovery.registration_endpoint, undefined);
  });
});

describe('open dynamic registration', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp({ env: { ...UNLIMITED, GATEHOUSE_DYNAMIC_REGISTRATION: 'open' } }); });
  after(() => t.close());

  it('announces registration_endpoint in discovery', async () => {
    const discovery = (await t.app.inject({ url: '/.well-known/oauth-authorization-server' })).json();
    assert.equal(discovery.registration_endpoint, `${t.config.publicUrl}/oauth/register`);
  });

  it('answers 201 with the RFC 7591 §3.2.1 client information; the client is untrusted and stored hashed', async () => {
    const before = Date.now();
    // first_party and audiences are not RFC 7591 metadata: ignored, never trusted.
    const response = await register(t, { ...webClient, first_party: true, audiences: ['https://api.example'], contacts: ['ops@rp.example'] });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
    const body = response.json();
    assert.match(body.client_id, /^[A-Za-z0-9_-]{24}$/);
    assert.match(body.client_secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.client_secret_expires_at, 0);
    assert.ok(body.client_id_issued_at >= Math.floor(before / 1000) && body.client_id_issued_at <= Math.ceil(Date.now() / 1000));
    assert.match(body.registration_access_token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.registration_client_uri, `${t.config.publicUrl}/oauth/register/${body.client_id}`);
    assert.equal(body.client_name, 'Relying party');
    assert.deepEqual(body.redirect_uris, [WEB_REDIRECT]);
    assert.deepEqual(body.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(body.response_types, ['code']);
    assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(body.scope, 'openid profile email');
    assert.deepEqual(body.contacts, ['ops@rp.example'], 'RFC 7591 §2 contacts are kept and echoed');
    assert.equal(body.logo_uri, undefined, 'metadata not sent is not echoed');

    const stored = await createClientStore(t.storage.database.db).find(body.client_id);
    assert.ok(stored);
    assert.equal(stored.client.source, 'dynamic');
    assert.equal(stored.client.firstParty, false);
    assert.deepEqual(stored.client.audiences, []);
    assert.equal(stored.secrets.secretHash, hashSecret(body.client_secret));
    const registration = await t.storage.database.db.selectFrom('client_registrations').selectAll().where('client_id', '=', body.client_id).executeTakeFirstOrThrow();
    assert.equal(registration.token_hash, hashSecret(body.registration_access_token));
    assert.ok(!JSON.stringify(registration).includes(body.registration_access_token));
    const audit = await t.storage.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'client-created').where('client_id', '=', body.client_id).execute();
    assert.equal(audit.length, 1);
    assert.ok(!JSON.stringify(audit).includes(body.client_secret));
  });

  it('registers a public native client with a loopback redirect (PKCE-only, no secret)', async () => {
    const response = await register(t, { client_name: 'CLI', application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb', 'com.example.cli:/cb'] });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.client_secret, undefined);
    assert.equal(body.client_secret_expires_at, undefined);
    assert.equal(body.application_type, 'native');
    const client = await createClientStore(t.storage.database.db).get(body.client_id);
    assert.equal(client?.type, 'public');
  });

  const refusals: [string, Record<string, unknown>, string][] = [
    ['a fragment', { redirect_uris: ['https://rp.example/cb#frag'] }, 'invalid_redirect_uri'],
    ['a wildcard', { redirect_uris: ['https://*.rp.example/cb'] }, 'invalid_redirect_uri'],
    ['http to a non-loopback host', { redirect_uris: ['http://rp.example/cb'] }, 'invalid_redirect_uri'],
    ['http loopback for a web application', { redirect_uris: ['http://127.0.0.1/cb'] }, 'invalid_redirect_uri'],
    ['http to a non-loopback host for a native application', { application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://rp.example/cb'] }, 'invalid_redirect_uri'],
    ['javascript:', { application_type: 'native', redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
    ['a private-use scheme without a dot', { application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['myapp://callback'] }, 'invalid_redirect_uri'],
    ['a relative URI', { redirect_uris: ['/callback'] }, 'invalid_redirect_uri'],
    ['userinfo', { redirect_uris: ['https://user@rp.example/cb'] }, 'invalid_redirect_uri'],
    ['no redirect URI for the code flow', { redirect_uris: [] }, 'invalid_redirect_uri'],
    ['an unknown auth method', { token_endpoint_auth_method: 'client_secret_jwt' }, 'invalid_client_metadata'],
    ['a public client with client_credentials', { token_endpoint_auth_method: 'none', grant_types: ['client_credentials'], redirect_uris: [] }, 'invalid_client_metadata'],
    ['the token-exchange grant', { grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'] }, 'invalid_client_metadata'],
    ['response type token', { response_types: ['token'] }, 'invalid_client_metadata'],
    ['id_token_signed_response_alg none', { id_token_signed_response_alg: 'none' }, 'invalid_client_metadata'],
    ['token_endpoint_auth_signing_alg none', { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'none' }, 'invalid_client_metadata'],
    ['token_endpoint_auth_signing_alg HS256', { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'HS256' }, 'invalid_client_metadata'],
    ['private_key_jwt without jwks', { token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
    ['jwks_uri (the server fetches no key URLs)', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://rp.example/jwks.json' }, 'invalid_client_metadata'],
    ['jwks with a secret method', { jwks: { keys: [] } }, 'invalid_client_metadata'],
    ['an admin scope', { scope: 'openid admin:clients' }, 'invalid_client_metadata'],
    ['pairwise subjects', { subject_type: 'pairwise' }, 'invalid_client_metadata'],
    ['a sector_identifier_uri', { sector_identifier_uri: 'https://rp.example/sector.json' }, 'invalid_client_metadata'],
    ['a client_name that is not a string', { client_name: 42 }, 'invalid_client_metadata'],
    ['a software statement', { software_statement: 'eyJhbGciOiJub25lIn0.e30.' }, 'invalid_software_statement'],
  ];
  for (const [what, change, error] of refusals) {
    it(`refuses ${what} with 400 ${error} and creates nothing`, async () => {
      const count = await clientCount(t);
      const response = await register(t, { ...webClient, ...change });
      assertError(response, 400, error, what);
      assert.equal(await clientCount(t), count);
    });
  }

  it('refuses a private key in jwks and accepts the public key (the admin API rules)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const base = { client_name: 'Job', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' };
    const secretKey = { ...(await exportJWK(privateKey)), alg: 'ES256' };
    assertError(await register(t, { ...base, jwks: { keys: [secretKey] } }), 400, 'invalid_client_metadata', 'private key');
    const accepted = await register(t, { ...base, jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] } });
    assert.equal(accepted.statusCode, 201, accepted.body);
    assert.equal(accepted.json().token_endpoint_auth_signing_alg, 'ES256');
    assert.equal(accepted.json().client_secret, undefined);
  });

  it('the registered client completes the code flow, with the consent page (never first-party)', async () => {
    const registered = (await register(t, webClient)).json();
    const cookie = await registerAndSignIn(t, 'user@example.com');
    const { verifier, challenge } = pkce();
    const query = authzQuery({ clientId: registered.client_id, redirectUri: WEB_REDIRECT, scope: 'openid profile', challenge, state: 's1' });
    const page = await authorize(t, query, cookie);
    assert.ok(isConsentPage(page), `the consent page, got ${page.statusCode}`);
    const answer = await answerConsent(t, page, cookie, 'allow');
    const code = redirectParams(t, answer, WEB_REDIRECT).get('code');
    assert.ok(code);
    const token = await postForm(t, '/oauth/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: WEB_REDIRECT }, { authorization: basic(registered.client_id, registered.client_secret) });
    assert.equal(token.statusCode, 200, token.body);
    const accessToken = token.json().access_token as string;
    assert.equal((await userinfo(t, accessToken)).statusCode, 200);

    // RFC 7592 §2.3: deleting the registration revokes what the client holds.
    assert.equal((await manage(t, 'DELETE', registered.client_id, registered.registration_access_token)).statusCode, 204);
    assert.equal((await userinfo(t, accessToken)).statusCode, 401);
    assert.equal(await createClientStore(t.storage.database.db).get(registered.client_id), undefined);
    assertError(await manage(t, 'GET', registered.client_id, registered.registration_access_token), 401, 'invalid_token', 'after delete');
    const row = await t.storage.database.db.selectFrom('client_registrations').select('client_id').where('client_id', '=', registered.client_id).executeTakeFirst();
    assert.equal(row, undefined);
  });

  it('a confidential client_credentials client gets a token with its secret', async () => {
    const registered = (await register(t, { client_name: 'Daemon', grant_types: ['client_credentials'], scope: 'profile' })).json();
    const token = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(registered.client_id, registered.client_secret) });
    assert.equal(token.statusCode, 200, token.body);
    assert.equal(token.json().token_type, 'Bearer');
  });

  it('reads and replaces with the registration access token; another client’s token and none are refused', async () => {
    const mine = (await register(t, { ...webClient, post_logout_redirect_uris: ['https://rp.example/bye'] })).json();
    const other = (await register(t, webClient)).json();

    const read = await manage(t, 'GET', mine.client_id, mine.registration_access_token);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.headers['cache-control'], 'no-store');
    assert.equal(read.json().client_id, mine.client_id);
    assert.deepEqual(read.json().post_logout_redirect_uris, ['https://rp.example/bye']);
    assert.equal(read.json().client_secret, undefined, 'the secret is shown once only');
    assert.equal(read.json().registration_access_token, undefined);

    for (const [what, token] of [['none', undefined], ['another client’s', other.registration_access_token], ['a wrong one', 'x'.repeat(43)], ['a malformed header', 'a b']] as const) {
      assertError(await manage(t, 'GET', mine.client_id, token), 401, 'invalid_token', `GET with ${what}`);
      assertError(await manage(t, 'PUT', mine.client_id, token, { ...webClient, client_id: mine.client_id }), 401, 'invalid_token', `PUT with ${what}`);
      assertError(await manage(t, 'DELETE', mine.client_id, token), 401, 'invalid_token', `DELETE with ${what}`);
    }
    assertError(await manage(t, 'GET', 'no-such-client', mine.registration_access_token), 401, 'invalid_token', 'unknown client');
    assert.ok(await createClientStore(t.storage.database.db).get(mine.client_id), 'still there');

    // RFC 7592 §2.2: a full replacement — omitted fields go back to their defaults.
    const replaced = await manage(t, 'PUT', mine.client_id, mine.registration_access_token, { client_id: mine.client_id, client_name: 'Renamed', redirect_uris: ['https://rp.example/new'] });
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.equal(replaced.json().client_name, 'Renamed');
    assert.deepEqual(replaced.json().redirect_uris, ['https://rp.example/new']);
    assert.deepEqual(replaced.json().post_logout_redirect_uris, []);
    assert.deepEqual(replaced.json().grant_types, ['authorization_code']);
    assert.equal(replaced.json().scope, 'openid');
    const client = await createClientStore(t.storage.database.db).get(mine.client_id);
    assert.equal(client?.name, 'Renamed');
    assert.equal(client?.firstParty, false);
    // RFC 7592 §2.2: the update came with a new registration access token.
    const current = String(replaced.json().registration_access_token);

    assertError(await manage(t, 'PUT', mine.client_id, current, { client_name: 'No id', redirect_uris: [WEB_REDIRECT] }), 400, 'invalid_request', 'PUT without client_id');
    assertError(await manage(t, 'PUT', mine.client_id, current, { client_id: mine.client_id, redirect_uris: ['https://rp.example/cb#x'] }), 400, 'invalid_redirect_uri', 'PUT with a fragment');
    assertError(await manage(t, 'PUT', mine.client_id, current, { client_id: mine.client_id, first_party: true, scope: 'admin:users', redirect_uris: [WEB_REDIRECT] }), 400, 'invalid_client_metadata', 'PUT with an admin scope');
    assert.equal((await createClientStore(t.storage.database.db).get(mine.client_id))?.name, 'Renamed', 'unchanged by refused PUTs');
    assert.equal((await manage(t, 'GET', mine.client_id, current)).statusCode, 200, 'a refused PUT does not rotate the token');

    // The other client's token cannot delete mine; its own can delete it.
    assert.equal((await manage(t, 'DELETE', other.client_id, other.registration_access_token)).statusCode, 204);
    assert.ok(await createClientStore(t.storage.database.db).get(mine.client_id));
  });

  it('clients made by the admin API cannot be managed here', async () => {
    const cookie = await adminCookie(t, 'admin-open@example.com');
    const created = await t.app.inject({
      method: 'POST', url: '/api/admin/clients',
      headers: { cookie, origin: new URL(t.config.publicUrl).origin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'Admin made', type: 'confidential', grant_types: ['client_credentials'] }),
    });
    assert.equal(created.statusCode, 201, created.body);
    const mine = (await register(t, webClient)).json();
    assertError(await manage(t, 'DELETE', created.json().client_id, mine.registration_access_token), 401, 'invalid_token');
    assert.ok(await createClientStore(t.storage.database.db).get(created.json().client_id));
  });
});

describe('registration behind initial access tokens', () => {
  const clock = manualClock(Date.now());
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = await createTestApp({ env: { ...UNLIMITED, GATEHOUSE_DYNAMIC_REGISTRATION: 'initial-access-token' }, now: clock.now });
    cookie = await adminCookie(t);
  });
  after(() => t.close());

  it('without a token, or with a wrong one: 401 invalid_token, nothing created', async () => {
    for (const [what, token] of [['missing', undefined], ['wrong', 'y'.repeat(43)]] as const) {
      const response = await register(t, webClient, token);
      assertError(response, 401, 'invalid_token', what);
      assert.match(String(response.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
    }
    assert.equal(await clientCount(t), 0);
  });

  it('only admins issue tokens', async () => {
    assert.equal((await issueInitialToken(t, '', {})).statusCode, 401);
    const user = await registerAndSignIn(t, 'plain@example.com');
    assert.equal((await issueInitialToken(t, user, {})).statusCode, 403);
  });

  it('a one-use token registers one client; a refused registration does not use it up', async () => {
    const issued = await issueInitialToken(t, cookie, { uses: 1 });
    assert.equal(issued.statusCode, 201, issued.body);
    assert.equal(issued.headers['cache-control'], 'no-store');
    const token = issued.json().initial_access_token as string;
    const row = await t.storage.database.db.selectFrom('initial_access_tokens').selectAll().where('id', '=', issued.json().id).executeTakeFirstOrThrow();
    assert.equal(row.token_hash, hashSecret(token));

    assertError(await register(t, { ...webClient, redirect_uris: ['https://rp.example/#x'] }, token), 400, 'invalid_redirect_uri');
    assert.equal((await register(t, webClient, token)).statusCode, 201);
    assertError(await register(t, webClient, token), 401, 'invalid_token', 'used up');
    const audited = await t.storage.database.db.selectFrom('audit_events').select('id').where('type', '=', 'initial-access-token-created').execute();
    assert.ok(audited.length >= 1);
  });

  it('a token with N uses registers N clients, even concurrently', async () => {
    const token = (await issueInitialToken(t, cookie, { uses: 2 })).json().initial_access_token as string;
    const results = await Promise.all([1, 2, 3, 4].map(() => register(t, webClient, token)));
    assert.deepEqual(results.map((response) => response.statusCode).sort(), [201, 201, 401, 401]);
  });

  it('an expired token: 401 invalid_token', async () => {
    const token = (await issueInitialToken(t, cookie, { expires_in: 60, uses: null })).json().initial_access_token as string;
    assert.equal((await register(t, webClient, token)).statusCode, 201, 'unlimited uses until it expires');
    assert.equal((await register(t, webClient, token)).statusCode, 201);
    clock.advance(61_000);
    assertError(await register(t, webClient, token), 401, 'invalid_token', 'expired');
  });
});

const postgres = await probePostgres();

describe('registration on PostgreSQL (initial access tokens counted atomically, RFC 7592 management)', { skip: skipUnless(postgres) }, () => {
  let t: TestApp;
  let drop: () => Promise<void>;
  let cookie: string;
  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    t = await createTestApp({ env: { ...UNLIMITED, GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_DYNAMIC_REGISTRATION: 'initial-access-token' } });
    cookie = await adminCookie(t, 'admin-postgres@example.com');
  });
  after(async () => {
    await t?.close();
    await drop?.();
  });

  it('a one-use initial token used in parallel registers exactly one client', async () => {
    const token = (await issueInitialToken(t, cookie, { uses: 1 })).json().initial_access_token as string;
    const before = await clientCount(t);
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => register(t, webClient, token)));
    assert.deepEqual(results.map((response) => response.statusCode).sort(), [201, 401, 401, 401, 401]);
    assert.equal(await clientCount(t), before + 1);
    const row = await t.storage.database.db.selectFrom('initial_access_tokens').select('uses_left').where('token_hash', '=', hashSecret(token)).executeTakeFirstOrThrow();
    assert.equal(Number(row.uses_left), 0);
  });

  it('a token with N uses registers N clients; a refused registration costs none', async () => {
    const token = (await issueInitialToken(t, cookie, { uses: 2 })).json().initial_access_token as string;
    assertError(await register(t, { ...webClient, redirect_uris: ['https://rp.example/#x'] }, token), 400, 'invalid_redirect_uri');
    assert.equal((await register(t, webClient, token)).statusCode, 201);
    assert.equal((await register(t, webClient, token)).statusCode, 201);
    assertError(await register(t, webClient, token), 401, 'invalid_token', 'used up');
  });

  it('reads, replaces and deletes with the registration access token', async () => {
    const token = (await issueInitialToken(t, cookie, { uses: 2 })).json().initial_access_token as string;
    const registered = await register(t, { ...webClient, post_logout_redirect_uris: ['https://rp.example/bye'] }, token);
    assert.equal(registered.statusCode, 201, registered.body);
    const mine = registered.json();
    const other = (await register(t, webClient, token)).json();

    const read = await manage(t, 'GET', mine.client_id, mine.registration_access_token);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().client_id, mine.client_id);
    assert.ok(Number.isSafeInteger(mine.client_id_issued_at) && read.json().client_id_issued_at === mine.client_id_issued_at, 'bigint columns come back as numbers');
    assert.deepEqual(read.json().post_logout_redirect_uris, ['https://rp.example/bye']);
    assertError(await manage(t, 'GET', mine.client_id, other.registration_access_token), 401, 'invalid_token', 'another client’s token');

    const replaced = await manage(t, 'PUT', mine.client_id, mine.registration_access_token, { client_id: mine.client_id, client_name: 'Renamed', redirect_uris: ['https://rp.example/new'] });
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.equal(replaced.json().client_name, 'Renamed');
    assert.deepEqual(replaced.json().post_logout_redirect_uris, []);
    const current = String(replaced.json().registration_access_token);
    assertError(await manage(t, 'GET', mine.client_id, mine.registration_access_token), 401, 'invalid_token', 'the token before the update');
    assert.equal((await manage(t, 'GET', mine.client_id, current)).json().client_name, 'Renamed');
    assert.equal((await createClientStore(t.storage.database.db).get(mine.client_id))?.name, 'Renamed');

    assertError(await manage(t, 'DELETE', mine.client_id, other.registration_access_token), 401, 'invalid_token', 'DELETE with another client’s token');
    assert.equal((await manage(t, 'DELETE', mine.client_id, current)).statusCode, 204);
    assert.equal(await createClientStore(t.storage.database.db).get(mine.client_id), undefined);
    const gone = await t.storage.database.db.selectFrom('client_registrations').select('client_id').where('client_id', '=', mine.client_id).execute();
    assert.equal(gone.length, 0, 'the registration goes with the client');
    assertError(await manage(t, 'GET', mine.client_id, current), 401, 'invalid_token', 'after delete');
  });
});

describe('the per-IP budget', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp({ env: { GATEHOUSE_DYNAMIC_REGISTRATION: 'open', GATEHOUSE_DYNAMIC_REGISTRATIONS_PER_IP: '3' } }); });
  after(() => t.close());

  it('answers 429 with Retry-After once an IP used it up, registrations and management alike', async () => {
    const first = (await register(t, webClient)).json();
    assert.equal((await register(t, webClient)).statusCode, 201);
    assert.equal((await manage(t, 'GET', first.client_id, first.registration_access_token)).statusCode, 200);
    const count = await clientCount(t);
    const refused = await register(t, webClient);
    assertError(refused, 429, 'too_many_requests');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assertError(await manage(t, 'GET', first.client_id, first.registration_access_token), 429, 'too_many_requests');
    assert.equal(await clientCount(t), count);
    const elsewhere = await t.app.inject({ method: 'POST', url: '/oauth/register', remoteAddress: '198.51.100.7', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(webClient) });
    assert.equal(elsewhere.statusCode, 201, 'another IP has its own budget');
  });
});

describe('gatehouse clients initial-token', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-initial-token-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a token once that registers a client on the server', async () => {
    const databaseUrl = `sqlite:${join(dir, 'gatehouse.sqlite')}`;
    const env = { GATEHOUSE_DATABASE_URL: databaseUrl };
    assert.equal((await runCli(['migrate'], { cwd: dir, env })).code, 0);
    const bad = await runCli(['clients', 'initial-token', '--uses', '0'], { cwd: dir, env });
    assert.equal(bad.code, 2, bad.stderr);
    const result = await runCli(['clients', 'initial-token', '--expires', '2h', '--uses', '1', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as { initial_access_token: string; expires_at: number; uses: number };
    assert.equal(printed.uses, 1);
    assert.ok(Math.abs(printed.expires_at - (Date.now() + 7200_000)) < 120_000);

    const t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_DYNAMIC_REGISTRATION: 'initial-access-token' } });
    try {
      assert.equal((await register(t, webClient, printed.initial_access_token)).statusCode, 201);
      assertError(await register(t, webClient, printed.initial_access_token), 401, 'invalid_token');
    } finally {
      await t.close();
    }
  });
});
