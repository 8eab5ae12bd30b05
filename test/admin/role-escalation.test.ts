/**
 * No privilege escalation through the role catalog (docs/admin.md): creating a role needs every
 * permission it grants, updating one every permission added or removed, deleting one every
 * permission it had. A holder of only `admin:roles` (a catalog role or a machine token) cannot
 * widen its own role; an admin session can do all of it. Through the API and the console, one
 * rule in the catalog; a refusal changes nothing. (The CLI acts with every permission:
 * roles-cli.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_SCOPES } from '../../src/features/admin/access.ts';
import { createRoleStore } from '../../src/features/roles/store.ts';
import { admin as adminMessages } from '../../src/ui/i18n/messages/admin.ts';
import type { TestApp } from '../support/app.ts';
import { clientsEnv } from '../support/oauth.ts';
import { confirmAction, signedInBrowser } from './console-support-admin.ts';
import { createConsoleTestApp } from './console-support.ts';
import { adminClientToken, call, fixtureClients, hashSecretFor } from './support.ts';

const machine = (id: string, scopes: readonly string[]) => ({ client_id: id, name: id, type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor(id), grant_types: ['client_credentials'], scopes: [...scopes] });

describe('the role catalog grants only what the actor holds', () => {
  let t: TestApp;
  let root: Awaited<ReturnType<typeof signedInBrowser>>;
  let manager: Awaited<ReturnType<typeof signedInBrowser>>;
  const roleStore = () => createRoleStore(t.storage.database.db);
  const rows = async () => JSON.stringify(await t.storage.database.db.selectFrom('roles').selectAll().orderBy('name').execute());

  before(async () => {
    t = await createConsoleTestApp({ env: clientsEnv(fixtureClients({ extra: [machine('role-ops', ['admin:roles'])] })) });
    for (const [name, permissions] of [['rolesmgr', ['admin:roles']], ['auditors', ['admin:audit']]] as const) {
      await roleStore().create({ name, description: null, permissions: [...permissions], createdAt: Date.now(), updatedAt: Date.now() });
    }
    root = await signedInBrowser(t, 'root@example.com');
    manager = await signedInBrowser(t, 'manager@example.com', ['rolesmgr']);
  });
  after(() => t.close());

  it('API: rolesmgr (admin:roles only) cannot give itself every admin scope, create or strip a role beyond it, or delete one; nothing changes', async () => {
    const as = { cookie: manager.cookie };
    const before = await rows();
    const widen = await call(t, 'PATCH', '/api/admin/roles/rolesmgr', as, { permissions: [...ADMIN_SCOPES] });
    assert.equal(widen.statusCode, 403, widen.body);
    assert.equal(widen.json().error, 'forbidden');
    assert.match(widen.json().error_description, /every permission added or removed; you lack admin:audit/);
    const create = await call(t, 'POST', '/api/admin/roles', as, { name: 'snoops', permissions: ['admin:audit'] });
    assert.equal(create.statusCode, 403, create.body);
    assert.match(create.json().error_description, /Creating a role needs every permission it grants; you lack admin:audit/);
    assert.equal((await call(t, 'POST', '/api/admin/roles', as, { name: 'ticketing', permissions: ['tickets:read'] })).statusCode, 403, 'an app permission it lacks too');
    assert.equal((await call(t, 'PATCH', '/api/admin/roles/auditors', as, { permissions: [] })).statusCode, 403, 'removing needs it as well');
    assert.equal((await call(t, 'PATCH', '/api/admin/roles/auditors', as, { permissions: ['admin:roles'] })).statusCode, 403, 'a swap: admin:roles added (held), admin:audit removed (not held)');
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/auditors', as)).statusCode, 403);
    assert.equal(await rows(), before, 'the catalog is unchanged');
    assert.deepEqual((await roleStore().get('rolesmgr'))!.permissions, ['admin:roles']);
  });

  it('API: within what it holds it still works: an empty role, one granting admin:roles, a description, the same list', async () => {
    const as = { cookie: manager.cookie };
    assert.equal((await call(t, 'POST', '/api/admin/roles', as, { name: 'readers' })).statusCode, 201);
    assert.equal((await call(t, 'POST', '/api/admin/roles', as, { name: 'deputies', permissions: ['admin:roles'] })).statusCode, 201);
    assert.equal((await call(t, 'PATCH', '/api/admin/roles/auditors', as, { description: 'Read the audit log' })).statusCode, 200, 'no permission changed');
    assert.equal((await call(t, 'PATCH', '/api/admin/roles/auditors', as, { permissions: ['admin:audit'] })).statusCode, 200, 'the same list');
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/deputies', as)).statusCode, 204);
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/readers', as)).statusCode, 204);
  });

  it('API: a machine token with only admin:roles is held to the same rule', async () => {
    const ops = await adminClientToken(t, 'role-ops');
    const before = await rows();
    assert.equal((await call(t, 'PATCH', '/api/admin/roles/rolesmgr', { bearer: ops }, { permissions: ['admin:roles', 'admin:users'] })).statusCode, 403);
    assert.equal((await call(t, 'POST', '/api/admin/roles', { bearer: ops }, { name: 'keyholders', permissions: ['admin:keys'] })).statusCode, 403);
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/auditors', { bearer: ops })).statusCode, 403);
    assert.equal(await rows(), before);
  });

  it('console: the refusals are a translated 403 and change nothing; what was typed is kept', async () => {
    const before = await rows();
    const created = await manager.browser.submit('/admin/roles', '/admin/roles', { name: 'snoops', description: 'Mine', permissions: 'admin:audit' });
    assert.equal(created.statusCode, 403, created.body.slice(0, 300));
    assert.ok(created.body.includes(adminMessages.en['admin.error.forbiddenRolePermissions']), 'the translated refusal');
    assert.match(created.body, /name="name" value="snoops"/);
    const widened = await manager.browser.submit('/admin/roles/rolesmgr', '/admin/roles/rolesmgr', { description: '', permissions: ADMIN_SCOPES.join('\n') });
    assert.equal(widened.statusCode, 403, widened.body.slice(0, 300));
    assert.ok(widened.body.includes(adminMessages.en['admin.error.forbiddenRolePermissions']));
    const deleted = await confirmAction(manager.browser, '/admin/roles/auditors', '/admin/roles/auditors/delete');
    assert.equal(deleted.statusCode, 403, deleted.body.slice(0, 300));
    assert.equal(await rows(), before, 'the catalog is unchanged');
  });

  it('an admin session can do all of it, through the API and the console', async () => {
    const as = { cookie: root.cookie };
    const widened = await call(t, 'PATCH', '/api/admin/roles/rolesmgr', as, { permissions: [...ADMIN_SCOPES] });
    assert.equal(widened.statusCode, 200, widened.body);
    assert.deepEqual(widened.json().permissions, [...ADMIN_SCOPES].sort());
    assert.equal((await call(t, 'POST', '/api/admin/roles', as, { name: 'snoops', permissions: ['admin:audit', 'tickets:read'] })).statusCode, 201);
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/snoops', as)).statusCode, 204);
    const console = await root.browser.submit('/admin/roles', '/admin/roles', { name: 'keyholders', description: '', permissions: 'admin:keys' });
    assert.equal(console.statusCode, 303, console.body.slice(0, 300));
    assert.deepEqual((await roleStore().get('keyholders'))!.permissions, ['admin:keys']);
    // rolesmgr now holds every admin scope: its holder may change any admin-scope role.
    assert.equal((await call(t, 'DELETE', '/api/admin/roles/auditors', { cookie: manager.cookie })).statusCode, 204);
  });
});
