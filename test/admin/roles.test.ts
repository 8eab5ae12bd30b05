/**
 * The role catalog (issue 17): who may call `/api/admin/roles` (SEC-ASVS-01), what it does, that
 * the users API gives only catalog roles (and the built-in admin), and that permissions reach the
 * session API, access tokens and ID tokens — and that taking a role from a user, or a permission
 * from a role, shows at the next session check and the next refresh. On PostgreSQL the second
 * refresh of a chain takes the one-statement rotation-hint path (tokens/refresh.ts): it must not
 * mint the permissions the catalog had when the hint was remembered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { ADMIN_SCOPES } from '../../src/features/admin/access.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import { call, type Method, adminClientToken, auditEvents, claims, createOAuthApp, fixtureClients, hashSecretFor, nativeSignIn, refresh, tokens } from './support.ts';


const ROLE_CLIENTS = [
  { client_id: 'role-ops', name: 'role-ops', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor('role-ops'), grant_types: ['client_credentials'], scopes: ['admin:roles'] },
  { client_id: 'user-ops', name: 'user-ops', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor('user-ops'), grant_types: ['client_credentials'], scopes: ['admin:users'] },
];

async function sessionUser(t: TestApp, cookie: string): Promise<{ roles: string[]; permissions: string[] }> {
  const response = await t.app.inject({ url: '/api/auth/session', headers: { cookie } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().user;
}

async function refreshed(t: TestApp, refreshToken: string): Promise<{ refreshToken: string; claims: Record<string, unknown> }> {
  const body = tokens(await refresh(t, 'mobile', refreshToken));
  return { refreshToken: body.refresh_token!, claims: claims(body.access_token) };
}

describe('role catalog admin API', () => {
  let t: TestApp;
  let admin: string;
  before(async () => {
    t = await createOAuthApp({ clients: fixtureClients({ extra: ROLE_CLIENTS }) });
    admin = await registerAndSignIn(t, 'root@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    await users.setRoles((await users.findByEmail('root@example.com'))!.id, ['admin'], Date.now());
  });
  after(() => t.close());

  const routes: [Method, string, unknown?][] = [
    ['GET', '/api/admin/roles'],
    ['POST', '/api/admin/roles', { name: 'sneaky', permissions: ['admin:users'] }],
    ['GET', '/api/admin/roles/editor'],
    ['PATCH', '/api/admin/roles/editor', { permissions: ['admin:users'] }],
    ['DELETE', '/api/admin/roles/editor'],
  ];

  it('SEC-ASVS-01: anonymous → 401; a user session and a client token without admin:roles → 403; nothing changes', async () => {
    assert.equal((await call(t, 'POST', '/api/admin/roles', { cookie: admin }, { name: 'editor', description: 'Edits posts', permissions: ['posts:write'] })).statusCode, 201);
    const user = await registerAndSignIn(t, 'plain@example.com');
    const userOps = await adminClientToken(t, 'user-ops');
    const before = JSON.stringify(await t.storage.database.db.selectFrom('roles').selectAll().execute());
    for (const [method, url, body] of routes) {
      assert.equal((await call(t, method, url, {}, body)).statusCode, 401, `${method} ${url} anonymous`);
      assert.equal((await call(t, method, url, { cookie: user }, body)).statusCode, 403, `${method} ${url} user session`);
      assert.equal((await call(t, method, url, { bearer: userOps }, body)).statusCode, 403, `${method} ${url} admin:users token`);
    }
    assert.equal(JSON.stringify(await t.storage.database.db.selectFrom('roles').selectAll().execute()), before, 'no side effect');
  });

  it('create, list, show, update, delete; the built-in admin cannot change; a held role cannot go; audited with the actor', async () => {
    const ops = await adminClientToken(t, 'role-ops');
    // Granting what the token lacks is refused (role-escalation.test.ts): the admin creates it.
    const created = await call(t, 'POST', '/api/admin/roles', { cookie: admin }, { name: 'support', permissions: ['tickets:read', 'tickets:read', 'admin:users'] });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().permissions, ['admin:users', 'tickets:read'], 'deduplicated and sorted');
    assert.equal((await call(t, 'POST', '/api/admin/roles', { bearer: ops }, { name: 'support' })).statusCode, 409);
    assert.equal((await call(t, 'POST', '/api/admin/roles', { bearer: ops }, { name: 'admin' })).statusCode, 409);
    assert.equal((await call(t, 'POST', '/api/admin/roles', { bearer: ops }, { name: 'Bad Name' })).statusCode, 400);
    assert.equal((await call(t, 'POST', '/api/admin/roles', { bearer: ops }, { name: 'x', permissions: ['has space'] })).statusCode, 400);
    assert.equal((await call(t, 'POST', '/api/admin/roles', { bearer: ops }, { name: 'x', extra: 1 })).statusCode, 400, 'SEC-ASVS-03');
    const list = (await call(t, 'GET', '/api/admin/roles', { bearer: ops })).json().roles as { name: string; built_in: boolean; permissions: string[] }[];
    assert.deepEqual(list.map((role) => role.name), ['admin', 'editor', 'support']);
    assert.equal(list[0]!.built_in, true);
    assert.ok(list[0]!.permissions.includes('admin:roles'));
    assert.equal((await call(t, 'PATCH', '/api/admin/roles/admin', { bearer: ops }, { permissions: [] })).statusCode, 409);
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/admin', { bearer: ops })).statusCode, 409);
    assert.equal((await call(t, 'GET', '/api/admin/roles/nope', { bearer: ops })).statusCode, 404);
    assert.equal((await call(t, 'PATCH', '/api/admin/roles/support', { bearer: ops }, { description: 'Help desk' })).json().description, 'Help desk');
    const patched = await call(t, 'PATCH', '/api/admin/roles/support', { cookie: admin }, { permissions: ['tickets:read'] });
    assert.deepEqual([patched.json().description, patched.json().permissions], ['Help desk', ['tickets:read']]);
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/support', { bearer: ops })).statusCode, 403, 'tickets:read is not the token’s');
    // Held by a user: refused until it is taken away.
    const holder = await nativeSignIn(t, 'holder@example.com');
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${holder.sub}`, { cookie: admin }, { roles: ['support'] })).statusCode, 200);
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/support', { cookie: admin })).statusCode, 409);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${holder.sub}`, { cookie: admin }, { roles: [] })).statusCode, 200);
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/support', { cookie: admin })).statusCode, 204);
    assert.equal((await call(t, 'GET', '/api/admin/roles/support', { bearer: ops })).statusCode, 404);
    assert.ok((await auditEvents(t, 'role-updated')).some((event) => event.actorId === 'client:role-ops' && event.detail.role === 'support'), 'role-updated by the token');
    for (const type of ['role-created', 'role-deleted'] as const) {
      assert.ok((await auditEvents(t, type)).some((event) => event.actorId !== null && event.actorId !== 'client:role-ops' && event.detail.role === 'support'), type);
    }
  });

  it('the users API refuses roles that are not in the catalog, except the built-in admin', async () => {
    const someone = await nativeSignIn(t, 'someone@example.com');
    const unknown = await call(t, 'PATCH', `/api/admin/users/${someone.sub}`, { cookie: admin }, { roles: ['ghost'] });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().error_description, /role catalog/);
    assert.equal((await call(t, 'POST', '/api/admin/users', { cookie: admin }, { email: 'ghost@example.com', roles: ['ghost'] })).statusCode, 400);
    assert.deepEqual((await call(t, 'PATCH', `/api/admin/users/${someone.sub}`, { cookie: admin }, { roles: ['editor', 'admin'] })).json().roles, ['editor', 'admin']);
  });

  it('a role granting admin:roles opens the roles API to a session, not the users API', async () => {
    await call(t, 'POST', '/api/admin/roles', { cookie: admin }, { name: 'role-manager', permissions: ['admin:roles'] });
    const manager = await nativeSignIn(t, 'manager@example.com');
    await call(t, 'PATCH', `/api/admin/users/${manager.sub}`, { cookie: admin }, { roles: ['role-manager'] });
    assert.equal((await call(t, 'GET', '/api/admin/roles', { cookie: manager.cookie })).statusCode, 200);
    assert.equal((await call(t, 'GET', '/api/admin/users', { cookie: manager.cookie })).statusCode, 403);
  });
});

/** Permissions in the session API and tokens, and how fast a removal takes effect. */
function permissionSuite(label: string, databaseUrl: () => Promise<{ url?: string; drop: () => Promise<void> }>): void {
  describe(`permissions reach sessions and tokens (${label})`, () => {
    let t: TestApp;
    let admin: string;
    let drop: () => Promise<void> = async () => {};
    before(async () => {
      const database = await databaseUrl();
      drop = database.drop;
      t = await createOAuthApp({ ...(database.url ? { env: { GATEHOUSE_DATABASE_URL: database.url } } : {}), clients: fixtureClients() });
      admin = await registerAndSignIn(t, 'root@example.com');
      const users = createSqlUserStore(t.storage.database.db);
      await users.setRoles((await users.findByEmail('root@example.com'))!.id, ['admin'], Date.now());
      for (const role of [{ name: 'editor', permissions: ['posts:read', 'posts:write'] }, { name: 'viewer', permissions: ['posts:read', 'stats:read'] }]) {
        assert.equal((await call(t, 'POST', '/api/admin/roles', { cookie: admin }, role)).statusCode, 201);
      }
    });
    after(async () => {
      await t?.close();
      await drop();
    });

    it('the union of the roles’ permissions in the session and the access token; a user without roles has none', async () => {
      const plain = await nativeSignIn(t, 'plain@example.com');
      assert.deepEqual((await sessionUser(t, plain.cookie)).permissions, []);
      assert.equal(claims(plain.access_token).permissions, undefined);
      const both = await nativeSignIn(t, 'both@example.com');
      await call(t, 'PATCH', `/api/admin/users/${both.sub}`, { cookie: admin }, { roles: ['editor', 'viewer'] });
      assert.deepEqual((await sessionUser(t, both.cookie)).permissions, ['posts:read', 'posts:write', 'stats:read']);
      const next = await refreshed(t, both.refresh_token);
      assert.deepEqual(next.claims.roles, ['editor', 'viewer']);
      assert.deepEqual(next.claims.permissions, ['posts:read', 'posts:write', 'stats:read']);
      assert.deepEqual((await sessionUser(t, admin)).permissions, [...ADMIN_SCOPES].sort(), 'admin grants every admin scope');
    });

    it('a permission taken from a role: gone at the next session check and the next refresh (also the hint path)', async () => {
      const user = await nativeSignIn(t, 'writer@example.com');
      await call(t, 'PATCH', `/api/admin/users/${user.sub}`, { cookie: admin }, { roles: ['editor'] });
      // First refresh: the successor is remembered by this instance (PostgreSQL: a rotation hint).
      const first = await refreshed(t, user.refresh_token);
      assert.deepEqual(first.claims.permissions, ['posts:read', 'posts:write']);
      assert.equal((await call(t, 'PATCH', '/api/admin/roles/editor', { cookie: admin }, { permissions: ['posts:read'] })).statusCode, 200);
      assert.deepEqual((await sessionUser(t, user.cookie)).permissions, ['posts:read'], 'the session check');
      const second = await refreshed(t, first.refreshToken);
      assert.deepEqual(second.claims.permissions, ['posts:read'], 'the next refresh mints the catalog as it is now');
      await call(t, 'PATCH', '/api/admin/roles/editor', { cookie: admin }, { permissions: ['posts:read', 'posts:publish'] });
      assert.deepEqual((await refreshed(t, second.refreshToken)).claims.permissions, ['posts:publish', 'posts:read'], 'and an added one too');
    });

    it('a role taken from a user: gone at the next session check and the next refresh (also the hint path)', async () => {
      const user = await nativeSignIn(t, 'viewer@example.com');
      await call(t, 'PATCH', `/api/admin/users/${user.sub}`, { cookie: admin }, { roles: ['viewer', 'editor'] });
      const first = await refreshed(t, user.refresh_token);
      assert.ok((first.claims.permissions as string[]).includes('stats:read'));
      await call(t, 'PATCH', `/api/admin/users/${user.sub}`, { cookie: admin }, { roles: ['editor'] });
      const session = await sessionUser(t, user.cookie);
      assert.deepEqual([session.roles, session.permissions.includes('stats:read')], [['editor'], false], 'the session check');
      const second = await refreshed(t, first.refreshToken);
      assert.deepEqual(second.claims.roles, ['editor']);
      assert.equal((second.claims.permissions as string[]).includes('stats:read'), false, 'the next refresh');
      await call(t, 'PATCH', `/api/admin/users/${user.sub}`, { cookie: admin }, { roles: [] });
      const third = await refreshed(t, second.refreshToken);
      assert.deepEqual([third.claims.roles, third.claims.permissions], [undefined, undefined]);
    });
  });
}

permissionSuite('SQLite', async () => ({ drop: async () => {} }));
const postgres = await probePostgres();
describe('on PostgreSQL', { skip: skipUnless(postgres) }, () => {
  permissionSuite('PostgreSQL', async () => {
    const scratch = await createTestDatabase();
    return { url: scratch.url, drop: scratch.drop };
  });
});
