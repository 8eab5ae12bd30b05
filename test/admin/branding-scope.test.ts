/**
 * The branding settings have a scope of their own, `admin:branding` (docs/admin.md): the support,
 * privacy and terms links are on every page and in every mail, so `admin:clients` must not
 * bring them. The built-in admin role holds it; a catalog role may grant it; the console shows
 * its page, and its link in the navigation, only to callers who hold it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_SCOPES } from '../../src/features/admin/access.ts';
import type { TestApp } from '../support/app.ts';
import { signedInBrowser } from './console-support-admin.ts';
import { adminClientToken, call, createOAuthApp, fixtureClients, hashSecretFor } from './support.ts';

const machine = (id: string, scopes: string[]) => ({ client_id: id, name: id, type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor(id), grant_types: ['client_credentials'], scopes });
const BRANDING_LINK = /<a href="\/admin\/branding"/;

describe('the admin:branding scope', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedInBrowser>>;
  before(async () => {
    t = await createOAuthApp({ clients: fixtureClients({ extra: [machine('registrar', ['admin:clients']), machine('brander', ['admin:branding'])] }) });
    admin = await signedInBrowser(t, 'admin@example.com');
    for (const [name, permissions] of [['client-manager', ['admin:clients']], ['brand-manager', ['admin:branding']]] as const) {
      const created = await call(t, 'POST', '/api/admin/roles', { cookie: admin.cookie }, { name, permissions });
      assert.equal(created.statusCode, 201, created.body);
    }
  });
  after(() => t?.close());

  it('is an admin scope, so the built-in admin role holds it', () => {
    assert.ok((ADMIN_SCOPES as readonly string[]).includes('admin:branding'));
  });

  it('a client-credentials token with only admin:clients gets 403; with admin:branding 200', async () => {
    const registrar = await adminClientToken(t, 'registrar', { scope: 'admin:clients' });
    const refused = await call(t, 'PATCH', '/api/admin/branding', { bearer: registrar }, { support_url: 'https://phish.example/help' });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(refused.headers['www-authenticate'] as string, /insufficient_scope", scope="admin:branding"/);
    assert.equal((await call(t, 'GET', '/api/admin/branding', { bearer: registrar })).statusCode, 403);
    assert.equal((await call(t, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json().support_url.override, null, 'nothing stored');

    const brander = await adminClientToken(t, 'brander', { scope: 'admin:branding' });
    const patched = await call(t, 'PATCH', '/api/admin/branding', { bearer: brander }, { support_url: 'https://acme.example/help' });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().support_url.override, 'https://acme.example/help');
    const events = (await call(t, 'GET', '/api/admin/audit?type=branding-updated', { cookie: admin.cookie })).json().events as { actor_id: string }[];
    assert.equal(events[0]?.actor_id, 'client:brander');
    assert.equal((await call(t, 'PATCH', '/api/admin/branding', { bearer: brander }, { support_url: null })).statusCode, 200);
  });

  it('a session whose role grants only admin:clients: 403 on the API and the page, no Branding link', async () => {
    const manager = await signedInBrowser(t, 'clients@example.com', ['client-manager']);
    assert.equal((await call(t, 'PATCH', '/api/admin/branding', { cookie: manager.cookie }, { product_name: 'Phish' })).statusCode, 403);
    assert.equal((await manager.browser.get('/admin/branding')).statusCode, 403);
    const clients = await manager.browser.get('/admin/clients');
    assert.equal(clients.statusCode, 200, clients.body.slice(0, 300));
    assert.match(clients.body, /<a href="\/admin\/clients"/);
    assert.doesNotMatch(clients.body, BRANDING_LINK);
  });

  it('a session whose role grants admin:branding, and the admin: the page and its link', async () => {
    const brands = await signedInBrowser(t, 'brands@example.com', ['brand-manager']);
    const page = await brands.browser.get('/admin/branding');
    assert.equal(page.statusCode, 200, page.body.slice(0, 300));
    assert.match(page.body, /href="\/admin\/branding" aria-current="page"/);
    const saved = await brands.browser.submit('/admin/branding', '/admin/branding', { product_name: 'Acme Brands' });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 300));
    assert.equal((await brands.browser.get('/admin/clients')).statusCode, 403, 'admin:branding does not open the clients either');

    const dashboard = await admin.browser.get('/admin');
    assert.equal(dashboard.statusCode, 200);
    assert.match(dashboard.body, BRANDING_LINK);
    assert.equal((await call(t, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: null })).statusCode, 200);
  });
});
