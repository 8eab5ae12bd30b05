/**
 * The console's other areas through their forms: roles, OAuth clients (secret shown once),
 * identity providers, signing keys, the audit log — each change audited with the acting admin;
 * and machine tokens, which open the admin API, never open a page.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formToken } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { basic, clientToken, postForm } from '../support/oauth.ts';
import { auditEvents, confirmAction, signedInBrowser } from './console-support-admin.ts';
import { createConsoleTestApp } from './console-support.ts';

describe('admin console: roles, clients, providers, keys, audit', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedInBrowser>>;
  before(async () => {
    t = await createConsoleTestApp();
    admin = await signedInBrowser(t, 'root@example.com');
  });
  after(async () => t?.close());

  it('roles: create, edit, delete', async () => {
    const created = await admin.browser.submit('/admin/roles', '/admin/roles', { name: 'editor', description: 'Edits posts', permissions: 'posts:write\nposts:read' });
    assert.equal(created.headers.location, '/admin/roles?notice=created');
    const saved = await admin.browser.submit('/admin/roles/editor', '/admin/roles/editor', { description: 'Edits', permissions: 'posts:write' });
    assert.equal(saved.headers.location, '/admin/roles?notice=saved');
    assert.equal((await confirmAction(admin.browser, '/admin/roles/editor', '/admin/roles/editor/delete')).headers.location, '/admin/roles?notice=deleted');
    for (const type of ['role-created', 'role-updated', 'role-deleted']) assert.equal((await auditEvents(t, admin.cookie, type))[0]?.actor_id, admin.userId, type);
    const refused = await admin.browser.submit('/admin/roles', '/admin/roles', { name: 'Not A Name' });
    assert.equal(refused.statusCode, 400);
  });

  it('clients: create shows the secret once; rotate shows a new one; delete', async () => {
    const created = await admin.browser.submit('/admin/clients/new', '/admin/clients', { name: 'Reports', type: 'confidential', 'grant:client_credentials': 'on', scopes: 'reports' });
    assert.equal(created.statusCode, 200, created.body.slice(0, 400));
    const clientId = /data-client-id>([^<]+)</.exec(created.body)?.[1];
    const secret = /data-client-secret>([^<]+)</.exec(created.body)?.[1];
    assert.ok(clientId && secret);
    const page = await admin.browser.get(`/admin/clients/${clientId}`);
    assert.equal(page.statusCode, 200);
    assert.ok(!page.body.includes(secret), 'the secret is never shown again');
    const issued = await postForm(t, '/oauth/token', { grant_type: 'client_credentials', scope: 'reports' }, { authorization: basic(clientId, secret) });
    assert.equal(issued.statusCode, 200, issued.body);
    const rotated = await confirmAction(admin.browser, `/admin/clients/${clientId}`, `/admin/clients/${clientId}/rotate`);
    const fresh = /data-client-secret>([^<]+)</.exec(rotated.body)?.[1];
    assert.ok(fresh && fresh !== secret);
    const saved = await admin.browser.submit(`/admin/clients/${clientId}`, `/admin/clients/${clientId}`, { name: 'Reports v2', 'grant:client_credentials': 'on', scopes: 'reports' });
    assert.equal(saved.headers.location, '/admin/clients?notice=saved');
    assert.equal((await confirmAction(admin.browser, `/admin/clients/${clientId}`, `/admin/clients/${clientId}/delete`)).headers.location, '/admin/clients?notice=deleted');
    for (const type of ['client-created', 'client-secret-rotated', 'client-updated', 'client-deleted']) assert.equal((await auditEvents(t, admin.cookie, type))[0]?.actor_id, admin.userId, type);
  });

  it('identity providers: create, edit, delete', async () => {
    const created = await admin.browser.submit('/admin/identity-providers', '/admin/identity-providers', { id: 'corp', type: 'oidc', name: 'Corp', issuer: 'https://id.corp.example', client_id: 'gh', client_secret: 'upstream-secret', enabled: 'on' });
    assert.equal(created.headers.location, '/admin/identity-providers?notice=created', created.body.slice(0, 400));
    const page = await admin.browser.get('/admin/identity-providers/corp');
    assert.ok(!page.body.includes('upstream-secret'));
    const saved = await admin.browser.submit('/admin/identity-providers/corp', '/admin/identity-providers/corp', { name: 'Corp SSO', issuer: 'https://id.corp.example', client_id: 'gh' });
    assert.equal(saved.headers.location, '/admin/identity-providers?notice=saved');
    assert.equal((await confirmAction(admin.browser, '/admin/identity-providers/corp', '/admin/identity-providers/corp/delete')).headers.location, '/admin/identity-providers?notice=deleted');
    for (const type of ['identity-provider-created', 'identity-provider-updated', 'identity-provider-deleted']) assert.equal((await auditEvents(t, admin.cookie, type))[0]?.actor_id, admin.userId, type);
  });

  it('signing keys: rotate and retire', async () => {
    const rotated = await confirmAction(admin.browser, '/admin/keys', '/admin/keys/rotate', { immediate: 'on' });
    assert.equal(rotated.headers.location, '/admin/keys?notice=rotated');
    assert.equal((await auditEvents(t, admin.cookie, 'signing-key-rotated'))[0]?.actor_id, admin.userId);
    const page = await admin.browser.get('/admin/keys');
    const kid = /\/admin\/keys\/([^/]+)\/retire/.exec(page.body)?.[1];
    assert.ok(kid);
    assert.equal((await confirmAction(admin.browser, '/admin/keys', `/admin/keys/${kid}/retire`)).headers.location, '/admin/keys?notice=retired');
    assert.equal((await auditEvents(t, admin.cookie, 'signing-key-retired'))[0]?.actor_id, admin.userId);
  });

  it('audit: filters, a cursor, and export links to the streamed exports', async () => {
    const page = await admin.browser.get(`/admin/audit?type=role-created&actor_id=${admin.userId}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /data-events/);
    assert.ok(!page.body.includes('<code>client-created</code>'));
    const csv = /href="(\/api\/admin\/audit\/export\?[^"]*format=csv)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(csv);
    const exported = await admin.browser.get(csv);
    assert.equal(exported.statusCode, 200);
    assert.match(exported.body, /role-created/);
    assert.ok(!exported.body.includes('client-created'));
    assert.equal((await admin.browser.get('/admin/audit?from=2020-01-01T00:00&to=2020-01-02T00:00')).body.includes('data-events'), false);
  });

  it('machine tokens do not open pages, and forms check the CSRF token', async () => {
    const token = await clientToken(t, 'svc');
    const response = await t.app.inject({ url: '/admin/users', headers: { authorization: `Bearer ${token}`, cookie: admin.cookie } });
    assert.equal(response.statusCode, 403);
    const page = await admin.browser.get('/admin/roles');
    assert.equal((await admin.browser.post('/admin/roles', { name: 'sneaky', csrf: `${formToken(page.body)}x` })).statusCode, 403);
  });
});
