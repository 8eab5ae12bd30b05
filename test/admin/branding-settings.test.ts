/**
 * Issue 18: the brand's text settings from the admin API and console (docs/branding.md): stored
 * overrides over the config, validated by the config's own validators (contrast included),
 * seen on the next page and mail, on every instance.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { BRANDING_CHANNEL, BRANDING_RELOAD_MS, createBrandingSettings } from '../../src/ui/theme/settings.ts';
import { auditEvents, signedInBrowser } from './console-support-admin.ts';
import { call } from './support.ts';

const CONFIGURED = { GATEHOUSE_BRAND_NAME: 'Acme Cloud', GATEHOUSE_BRAND_SUPPORT_URL: 'https://acme.example/help' };

function titleOf(body: string): string {
  return /<title>([^<]*)<\/title>/.exec(body)?.[1] ?? '';
}

const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#96;': '`' };

/** Every input of the page's branding form with the value it carries, as a browser would post them. */
function formFields(body: string): Record<string, string> {
  const form = /<form method="post" action="\/admin\/branding"[^>]*>([\s\S]*?)<\/form>/.exec(body)?.[1];
  assert.ok(form, 'the page has the branding form');
  const fields: Record<string, string> = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /\sname="([^"]*)"/.exec(tag)?.[1];
    if (name === undefined) continue;
    fields[name] = (/\svalue="([^"]*)"/.exec(tag)?.[1] ?? '').replace(/&(?:amp|lt|gt|quot|#39|#96);/g, (entity) => ENTITIES[entity]!);
  }
  return fields;
}

describe('branding settings from the admin API and console', () => {
  let dir: string;
  let a: TestApp;
  let b: TestApp;
  let admin: Awaited<ReturnType<typeof signedInBrowser>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-branding-'));
    // Two instances over one SQLite file, each with its own ephemeral store.
    const env = { ...CONFIGURED, GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}` };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
    admin = await signedInBrowser(a, 'admin@example.com');
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('PATCH changes the product name on the next page and mail; null restores the config value', async () => {
    const before = await call(a, 'GET', '/api/admin/branding', { cookie: admin.cookie });
    assert.equal(before.statusCode, 200, before.body);
    assert.deepEqual(before.json().product_name, { value: 'Acme Cloud', override: null, configured: 'Acme Cloud' });

    const patched = await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: 'Acme ID', accent_color: '#0B57D0' });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual(patched.json().product_name, { value: 'Acme ID', override: 'Acme ID', configured: 'Acme Cloud' });
    assert.equal(patched.json().accent_color.value, '#0b57d0', 'stored as the config validator returns it');
    assert.equal(patched.json().support_url.value, 'https://acme.example/help', 'untouched settings keep the config value');

    assert.match(titleOf((await a.app.inject({ url: '/login' })).body), /· Acme ID$/);
    await registerAndSignIn(a, 'new@example.com');
    const mail = a.mails.filter((sent) => sent.to === 'new@example.com').at(-1);
    assert.ok(mail, 'a mail was sent');
    assert.match(`${mail.subject}\n${mail.text}`, /Acme ID/);
    assert.doesNotMatch(`${mail.subject}\n${mail.text}`, /Acme Cloud/);

    const events = await auditEvents(a, admin.cookie, 'branding-updated');
    assert.equal(events[0]?.actor_id, admin.userId);
    assert.equal(events[0]?.detail.fields, 'product_name accent_color');

    const restored = await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: null, accent_color: null });
    assert.equal(restored.statusCode, 200, restored.body);
    assert.deepEqual(restored.json().product_name, { value: 'Acme Cloud', override: null, configured: 'Acme Cloud' });
    assert.match(titleOf((await a.app.inject({ url: '/login' })).body), /· Acme Cloud$/);
  });

  it('a bad colour, too little contrast or a bad URL: 400 naming the field, nothing stored', async () => {
    for (const [body, field] of [
      [{ accent_color: 'blue' }, 'accent_color'],
      [{ accent_color: '#ffff00' }, 'accent_color'],
      [{ accent_color_dark: '#000080' }, 'accent_color_dark'],
      [{ product_name: 'Fine', terms_url: 'http://acme.example/terms' }, 'terms_url'],
      [{ radius: '100px' }, 'radius'],
    ] as const) {
      const response = await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, body);
      assert.equal(response.statusCode, 400, `${JSON.stringify(body)}: ${response.body}`);
      assert.equal(response.json().error, 'invalid_request');
      assert.match(response.json().error_description, new RegExp(`^${field}: `));
    }
    assert.match(
      (await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { accent_color: '#ffff00' })).json().error_description,
      /too little contrast in the light theme/,
    );
    assert.equal((await call(a, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json().product_name.override, null, 'a refused patch stores none of its fields');
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { logo: 'x' })).statusCode, 400, 'logos stay file-configured');
  });

  it('needs admin:branding: 401 without a session, 403 for a user without it', async () => {
    assert.equal((await call(a, 'GET', '/api/admin/branding', {})).statusCode, 401);
    const user = await registerAndSignIn(a, 'plain@example.com');
    assert.equal((await call(a, 'GET', '/api/admin/branding', { cookie: user })).statusCode, 403);
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: user }, { product_name: 'Mine' })).statusCode, 403);
    assert.equal((await a.app.inject({ url: '/admin/branding', headers: { cookie: user } })).statusCode, 403);
  });

  it('the console form saves, shows refusals next to their field, and an emptied field restores the config', async () => {
    const refused = await admin.browser.submit('/admin/branding', '/admin/branding', { product_name: 'Acme Console', accent_color: '#ffff00' });
    assert.equal(refused.statusCode, 400, refused.body.slice(0, 300));
    assert.match(refused.body, /<p class="field-error" id="accent-color-error">Enter a colour written #rrggbb/);
    assert.match(refused.body, /aria-invalid="true"/);
    assert.match(refused.body, /value="Acme Console"/, 'what was typed is kept');
    assert.match(titleOf((await a.app.inject({ url: '/login' })).body), /· Acme Cloud$/, 'nothing saved');

    const saved = await admin.browser.submit('/admin/branding', '/admin/branding', { product_name: 'Acme Console' });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 300));
    assert.equal(saved.headers.location, '/admin/branding?notice=saved');
    assert.match(titleOf((await a.app.inject({ url: '/login' })).body), /· Acme Console$/);
    const page = await admin.browser.get('/admin/branding?notice=saved');
    assert.match(page.body, /The branding is saved/);
    assert.match(page.body, /Configured: Acme Cloud/);
    assert.match(page.body, /href="\/admin\/branding" aria-current="page"/);

    const emptied = await admin.browser.post('/admin/branding', { ...formFields(page.body), product_name: '' });
    assert.equal(emptied.statusCode, 303, emptied.body.slice(0, 300));
    assert.match(titleOf((await a.app.inject({ url: '/login' })).body), /· Acme Cloud$/);
  });

  it('saving one field in the console keeps what another admin changed meanwhile in the other fields', async () => {
    const page = await admin.browser.get('/admin/branding'); // no overrides: every field empty
    assert.equal(page.statusCode, 200);
    const other = await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { radius: '10px', terms_url: 'https://acme.example/terms' });
    assert.equal(other.statusCode, 200, other.body);

    // The first admin submits the form as the browser does: every field, as the page showed it.
    const saved = await admin.browser.post('/admin/branding', { ...formFields(page.body), product_name: 'Acme Edited' });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 300));
    let view = (await call(a, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json();
    assert.equal(view.product_name.override, 'Acme Edited');
    assert.equal(view.radius.override, '10px', 'the other admin\'s radius is kept');
    assert.equal(view.terms_url.override, 'https://acme.example/terms', 'the other admin\'s link is kept');
    assert.equal((await auditEvents(a, admin.cookie, 'branding-updated'))[0]?.detail.fields, 'product_name', 'only the edited field was written');

    // A field the page showed with an override, emptied, removes just that override.
    const again = await admin.browser.get('/admin/branding');
    assert.match(again.body, /<input type="hidden" name="shown_radius" value="10px">/);
    const emptied = await admin.browser.post('/admin/branding', { ...formFields(again.body), radius: '' });
    assert.equal(emptied.statusCode, 303, emptied.body.slice(0, 300));
    view = (await call(a, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json();
    assert.equal(view.radius.override, null);
    assert.equal(view.terms_url.override, 'https://acme.example/terms');
    assert.equal(view.product_name.override, 'Acme Edited');
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: null, terms_url: null })).statusCode, 200);
  });

  it('a console retry after a refusal still sends only the fields the admin changed', async () => {
    const page = await admin.browser.get('/admin/branding');
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { privacy_url: 'https://acme.example/privacy' })).statusCode, 200);
    const refused = await admin.browser.post('/admin/branding', { ...formFields(page.body), accent_color: 'blue' });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /<input type="hidden" name="shown_privacy_url" value="">/, 'the retry carries what the first page showed');
    const retried = await admin.browser.post('/admin/branding', { ...formFields(refused.body), accent_color: '#0b57d0' });
    assert.equal(retried.statusCode, 303, retried.body.slice(0, 300));
    const view = (await call(a, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json();
    assert.equal(view.privacy_url.override, 'https://acme.example/privacy', 'kept through the refusal and the retry');
    assert.equal(view.accent_color.override, '#0b57d0');
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { privacy_url: null, accent_color: null })).statusCode, 200);
  });

  it('another instance picks the change up when it is announced on branding:changed', async () => {
    const patched = await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: 'Acme Shared' });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.match(titleOf((await b.app.inject({ url: '/login' })).body), /· Acme Cloud$/, 'B has not heard of it yet (its own memory store)');
    // What Redis would deliver to B from A's publish.
    await b.storage.ephemeral.publish(BRANDING_CHANNEL, String(Date.now()));
    let title = '';
    for (let attempt = 0; attempt < 500 && !title.endsWith('Acme Shared'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      title = titleOf((await b.app.inject({ url: '/login' })).body);
    }
    assert.match(title, /· Acme Shared$/);
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: null })).statusCode, 200);
  });

  it('without pub/sub, the settings are reloaded every minute', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const applied: string[] = [];
    const settings = createBrandingSettings({
      db: b.storage.database.db,
      ephemeral: { publish: async () => {}, subscribe: async () => { throw new Error('no pub/sub'); } },
      config: b.config,
      now: Date.now,
      audit: { record: async () => {} },
      apply: (brand) => void applied.push(brand.productName),
      onError: () => {},
    });
    await settings.start();
    assert.deepEqual(applied, ['Acme Cloud']);
    await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: 'Acme Later' });
    t.mock.timers.tick(BRANDING_RELOAD_MS);
    for (let attempt = 0; attempt < 500 && applied.length < 2; attempt += 1) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(applied, ['Acme Cloud', 'Acme Later']);
    await settings.stop();
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: null })).statusCode, 200);
  });
});
