/**
 * The users admin API (issue 17): who may call it (SEC-ASVS-01, every route × every kind of
 * non-admin caller, no side effect), what it does, and that disable / delete / "sign out
 * everywhere" end every session and revoke every token (SEC-OAUTH-22, SEC-SESS-09, SEC-SESS-11),
 * that a user id of someone else's session answers like an unknown one (SEC-ASVS-02), and that
 * bodies cannot carry fields the API does not name (SEC-ASVS-03).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createRoleStore } from '../../src/features/roles/store.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, linkToken, postJSON, registerAndSignIn } from '../support/auth.ts';
import { call, type Method, API, adminClientToken, assertActive, assertInactive, auditEvents, clientToken, createOAuthApp, fixtureClients, hashSecretFor, introspect, nativeSignIn, refresh } from './support.ts';


export const ADMIN_CLIENTS = [
  { client_id: 'ops', name: 'ops', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor('ops'), grant_types: ['client_credentials'], scopes: ['admin:users'] },
  { client_id: 'auditor', name: 'auditor', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor('auditor'), grant_types: ['client_credentials'], scopes: ['admin:audit'] },
];

describe('users admin API', () => {
  let t: TestApp;
  let admin: string;
  let aliceId: string;
  let alice: string;
  let aliceToken: string;
  before(async () => {
    t = await createOAuthApp({ clients: fixtureClients({ extra: ADMIN_CLIENTS }) });
    admin = await registerAndSignIn(t, 'admin@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    await users.setRoles((await users.findByEmail('admin@example.com'))!.id, ['admin'], Date.now());
    // Users are given only roles of the catalog (test/admin/roles.test.ts).
    await createRoleStore(t.storage.database.db).create({ name: 'support', description: null, permissions: [], createdAt: Date.now(), updatedAt: Date.now() });
    const native = await nativeSignIn(t, 'alice@example.com');
    alice = native.cookie;
    aliceId = native.sub;
    aliceToken = native.access_token;
  });
  after(() => t.close());

  const routes = (userId: string): [Method, string, unknown?][] => [
    ['GET', '/api/admin/users'],
    ['POST', '/api/admin/users', { email: 'sneaky@example.com', roles: ['admin'] }],
    ['GET', `/api/admin/users/${userId}`],
    ['PATCH', `/api/admin/users/${userId}`, { roles: ['admin'] }],
    ['DELETE', `/api/admin/users/${userId}`],
    ['POST', `/api/admin/users/${userId}/disable`, {}],
    ['POST', `/api/admin/users/${userId}/enable`, {}],
    ['POST', `/api/admin/users/${userId}/password-reset`, {}],
    ['POST', `/api/admin/users/${userId}/mfa-reset`, {}],
    ['GET', `/api/admin/users/${userId}/sessions`],
    ['POST', `/api/admin/users/${userId}/sessions/revoke-all`, {}],
    ['DELETE', `/api/admin/users/${userId}/sessions/nope`],
    ['GET', `/api/admin/users/${userId}/grants`],
    ['DELETE', `/api/admin/users/${userId}/grants/mobile`],
  ];

  async function snapshot(): Promise<string> {
    const db = t.storage.database.db;
    const [users, sessions, grants, mails] = await Promise.all([
      db.selectFrom('users').selectAll().orderBy('id').execute(),
      db.selectFrom('sessions').select(['id', 'user_id']).orderBy('id').execute(),
      db.selectFrom('grants').select(['id', 'revoked_at']).orderBy('id').execute(),
      Promise.resolve(t.mails.length),
    ]);
    return JSON.stringify({ users, sessions, grants, mails });
  }

  it('SEC-ASVS-01: anonymous → 401; a user session, a user access token, a client token without admin:users and one with admin:audit → 403; nothing changes', async () => {
    const before = await snapshot();
    const plain = await clientToken(t, 'svc');
    const auditor = await adminClientToken(t, 'auditor');
    const callers: [string, { cookie?: string; bearer?: string }, number][] = [
      ['anonymous', {}, 401],
      ['garbage bearer', { bearer: 'not-a-token' }, 401],
      ['alice session', { cookie: alice }, 403],
      ['alice access token', { bearer: aliceToken }, 403],
      ['svc token (no admin scope)', { bearer: plain }, 403],
      ['auditor token (admin:audit)', { bearer: auditor }, 403],
    ];
    for (const [method, url, body] of routes(aliceId)) {
      for (const [who, auth, status] of callers) {
        const response = await call(t, method, url, auth, body);
        assert.equal(response.statusCode, status, `${method} ${url} as ${who}: ${response.body}`);
        assert.equal(response.json().error, status === 401 ? 'unauthenticated' : 'forbidden', `${method} ${url} as ${who}`);
        assert.equal(response.headers['cache-control'], 'no-store');
      }
    }
    assert.equal(await snapshot(), before, 'no side effect');
  });

  it('a client-credentials token with admin:users lists users; the change is audited with the client as actor', async () => {
    const token = await adminClientToken(t, 'ops');
    const list = await call(t, 'GET', '/api/admin/users?search=alice', { bearer: token });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(list.json().users.map((user: { email: string }) => user.email), ['alice@example.com']);
    const created = await call(t, 'POST', '/api/admin/users', { bearer: token }, { email: 'bot-made@example.com' });
    assert.equal(created.statusCode, 201, created.body);
    const events = await auditEvents(t, 'user-created');
    assert.equal(events[0]?.actorId, 'client:ops');
    assert.equal(events[0]?.userId, created.json().id);
  });

  it('a token for a resource server (not the issuer) is refused even with admin:users granted to the client', async () => {
    // svc's tokens are for API/FILES; ops holds admin:users but asks for nothing else: aud = issuer. A user token with aud API is 403 above.
    const response = await call(t, 'GET', '/api/admin/users', { bearer: await clientToken(t, 'svc', { resource: API }) });
    assert.equal(response.statusCode, 403);
  });

  it('list: search, filters, sort, cursor pagination and total', async () => {
    for (const name of ['Page One', 'Page Two', 'Page Three']) {
      const email = `${name.replace(' ', '-').toLowerCase()}@example.com`;
      assert.equal((await call(t, 'POST', '/api/admin/users', { cookie: admin }, { email, name, roles: name === 'Page Two' ? ['support'] : [] })).statusCode, 201);
    }
    const first = (await call(t, 'GET', '/api/admin/users?search=page&sort=email&limit=2', { cookie: admin })).json();
    assert.equal(first.total, 3);
    assert.deepEqual(first.users.map((user: { name: string }) => user.name), ['Page One', 'Page Three']);
    assert.ok(first.next_cursor);
    const second = (await call(t, 'GET', `/api/admin/users?search=page&sort=email&limit=2&cursor=${first.next_cursor}`, { cookie: admin })).json();
    assert.deepEqual(second.users.map((user: { name: string }) => user.name), ['Page Two']);
    assert.equal(second.next_cursor, null);
    const role = (await call(t, 'GET', '/api/admin/users?role=support', { cookie: admin })).json();
    assert.deepEqual(role.users.map((user: { name: string }) => user.name), ['Page Two']);
    const unverified = (await call(t, 'GET', '/api/admin/users?verified=false&search=page', { cookie: admin })).json();
    assert.equal(unverified.total, 3);
    assert.equal((await call(t, 'GET', '/api/admin/users?search=_', { cookie: admin })).json().total, 0, 'LIKE wildcards are literal');
    assert.equal((await call(t, 'GET', '/api/admin/users?cursor=bogus', { cookie: admin })).statusCode, 400);
  });

  it('SEC-ASVS-03: create and update refuse fields the API does not name; roles must be role names', async () => {
    assert.equal((await call(t, 'POST', '/api/admin/users', { cookie: admin }, { email: 'x@example.com', password_hash: 'x' })).statusCode, 400);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${aliceId}`, { cookie: admin }, { password_hash: 'x' })).statusCode, 400);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${aliceId}`, { cookie: admin }, { roles: ['Not A Role'] })).statusCode, 400);
    assert.equal((await call(t, 'POST', '/api/admin/users', { cookie: admin }, { email: 'alice@example.com' })).statusCode, 409);
  });

  it('create with send_password_mail mails the reset link; the user sets a password with it and signs in', async () => {
    const created = await call(t, 'POST', '/api/admin/users', { cookie: admin }, { email: 'invited@example.com', email_verified: true, send_password_mail: true });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().has_password, false);
    const token = linkToken(t, 'invited@example.com', '/reset-password');
    const reset = await postJSON(t, '/api/auth/reset-password', { token, password: PASSWORD });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'invited@example.com', password: PASSWORD })).statusCode, 200);
  });

  it('show: profile, roles, sessions, applications and recent events; role change reaches the session at the next check', async () => {
    const bob = await nativeSignIn(t, 'bob@example.com');
    const shown = (await call(t, 'GET', `/api/admin/users/${bob.sub}`, { cookie: admin })).json();
    assert.equal(shown.email, 'bob@example.com');
    assert.ok(shown.sessions.length >= 2, 'browser and device sessions');
    assert.deepEqual(shown.applications.map((app: { client_id: string }) => app.client_id), ['mobile']);
    assert.ok(shown.recent_events.some((event: { type: string }) => event.type === 'sign-in'));
    const patched = await call(t, 'PATCH', `/api/admin/users/${bob.sub}`, { cookie: admin }, { roles: ['support'], name: 'Bob' });
    assert.deepEqual(patched.json().roles, ['support']);
    const session = await t.app.inject({ url: '/api/auth/session', headers: { cookie: bob.cookie } });
    assert.deepEqual(session.json().user.roles, ['support'], 'the cached session was dropped (SEC-ASVS-06)');
    const change = (await auditEvents(t, 'role-change'))[0];
    assert.equal(change?.userId, bob.sub);
    assert.ok(change?.actorId && change.actorId !== bob.sub, 'the acting admin is recorded');
  });

  it('SEC-OAUTH-22 / SEC-SESS-09: disable ends every session, kills refresh and access tokens, refuses sign-in; enable lets the user sign in again', async () => {
    const carol = await nativeSignIn(t, 'carol@example.com');
    assertActive(await introspect(t, carol.access_token, 'rs'));
    const disabled = await call(t, 'POST', `/api/admin/users/${carol.sub}/disable`, { cookie: admin }, {});
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(disabled.json().status, 'disabled');
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: carol.cookie } })).statusCode, 401);
    assert.equal((await refresh(t, 'mobile', carol.refresh_token)).statusCode, 400);
    assertInactive(await introspect(t, carol.access_token, 'rs'));
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'carol@example.com', password: PASSWORD })).statusCode, 401);
    assert.equal((await call(t, 'GET', `/api/admin/users/${carol.sub}/sessions`, { cookie: admin })).json().sessions.length, 0);
    assert.equal((await call(t, 'GET', '/api/admin/users?status=disabled', { cookie: admin })).json().users.some((user: { id: string }) => user.id === carol.sub), true);
    assert.equal((await call(t, 'POST', `/api/admin/users/${carol.sub}/enable`, { cookie: admin }, {})).json().status, 'active');
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'carol@example.com', password: PASSWORD })).statusCode, 200);
    assert.equal((await refresh(t, 'mobile', carol.refresh_token)).statusCode, 400, 'nothing ended by the disable comes back');
  });

  it('SEC-SESS-11 / SEC-ASVS-02: revoke one session (someone else’s id is a 404), sign out everywhere, revoke a grant', async () => {
    const dave = await nativeSignIn(t, 'dave@example.com');
    const erin = await nativeSignIn(t, 'erin@example.com');
    const erinSession = (await call(t, 'GET', `/api/admin/users/${erin.sub}/sessions`, { cookie: admin })).json().sessions[0].id;
    assert.equal((await call(t, 'DELETE', `/api/admin/users/${dave.sub}/sessions/${erinSession}`, { cookie: admin })).statusCode, 404);
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: erin.cookie } })).statusCode, 200, 'erin unaffected');
    assert.equal((await call(t, 'DELETE', `/api/admin/users/${dave.sub}/grants/mobile`, { cookie: admin })).statusCode, 204);
    assert.equal((await refresh(t, 'mobile', dave.refresh_token)).statusCode, 400);
    assertInactive(await introspect(t, dave.access_token, 'rs'));
    assert.equal((await call(t, 'DELETE', `/api/admin/users/${dave.sub}/grants/mobile`, { cookie: admin })).statusCode, 404, 'gone');
    const all = await call(t, 'POST', `/api/admin/users/${erin.sub}/sessions/revoke-all`, { cookie: admin }, {});
    assert.ok(all.json().revoked >= 2);
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: erin.cookie } })).statusCode, 401);
    assert.equal((await refresh(t, 'mobile', erin.refresh_token)).statusCode, 400);
  });

  it('delete erases the person and revokes everything; the audit trail keeps the bare id', async () => {
    const frank = await nativeSignIn(t, 'frank@example.com');
    assert.equal((await call(t, 'POST', `/api/admin/users/${frank.sub}/password-reset`, { cookie: admin }, {})).statusCode, 202);
    assert.equal((await call(t, 'DELETE', `/api/admin/users/${frank.sub}`, { cookie: admin })).statusCode, 204);
    assert.equal((await call(t, 'GET', `/api/admin/users/${frank.sub}`, { cookie: admin })).statusCode, 404);
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: frank.cookie } })).statusCode, 401);
    assert.equal((await refresh(t, 'mobile', frank.refresh_token)).statusCode, 400);
    assertInactive(await introspect(t, frank.access_token, 'rs'));
    const db = t.storage.database.db;
    assert.equal((await db.selectFrom('users').select('id').where('email', '=', 'frank@example.com').execute()).length, 0);
    assert.equal((await db.selectFrom('one_time_tokens').select('user_id').where('user_id', '=', frank.sub).execute()).length, 0, 'reset links erased');
    const deleted = (await auditEvents(t, 'user-deleted'))[0];
    assert.equal(deleted?.userId, frank.sub);
    const rows = await db.selectFrom('audit_events').select(['user_id', 'detail']).where('user_id', '=', frank.sub).execute();
    assert.ok(rows.length > 1 && !JSON.stringify(rows).includes('frank@example.com'), 'the trail has the id, not the address');
  });
});
