/**
 * What a branding value may hold, checked by the config keys' own validators
 * (src/config/schema-branding.ts) so the config file, the admin API and the console agree:
 * links at most 2048 characters (also once percent-encoded), product names without C1 controls,
 * line separators or text-direction characters.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/types.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { signedInBrowser } from './console-support-admin.ts';
import { call } from './support.ts';

const LINKS = ['support_url', 'privacy_url', 'terms_url'] as const;
const LINK_KEYS = ['GATEHOUSE_BRAND_SUPPORT_URL', 'GATEHOUSE_BRAND_PRIVACY_URL', 'GATEHOUSE_BRAND_TERMS_URL'] as const;
/** Code points a product name may not contain, one of each range's ends and the singles. */
const REFUSED_IN_NAME = ['\u0080', '\u0085', '\u009f', '\u2028', '\u2029', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\u061c'];

function configRefuses(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail(`accepted ${Object.keys(env).join(', ')}`);
}

describe('branding values', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedInBrowser>>;
  before(async () => {
    t = await createTestApp();
    admin = await signedInBrowser(t, 'admin@example.com');
  });
  after(() => t?.close());

  it('links: at most 2048 characters in the config file', () => {
    const long = `https://acme.example/${'a'.repeat(2048)}`;
    for (const key of LINK_KEYS) {
      const error = configRefuses({ [key]: long });
      assert.equal(error.key, key);
      assert.match(error.message, /at most 2048 characters/);
    }
    const fits = `https://acme.example/${'a'.repeat(2048 - 'https://acme.example/'.length)}`;
    assert.equal(loadConfig({ env: { GATEHOUSE_BRAND_SUPPORT_URL: fits } }).brandSupportUrl, fits);
  });

  it('links: the console refuses a 60,021-character URL next to its field, and nothing is stored', async () => {
    const long = `https://acme.example/${'a'.repeat(60_000)}`;
    const refused = await admin.browser.submit('/admin/branding', '/admin/branding', { support_url: long });
    assert.equal(refused.statusCode, 400, refused.body.slice(0, 300));
    assert.match(refused.body, /<p class="field-error" id="support-url-error">Enter an absolute https:\/\/ address of at most 2048 characters\.<\/p>/);
    assert.equal((await call(t, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json().support_url.override, null);
  });

  it('links: the API refuses one that is short as sent but longer than 2048 once percent-encoded', async () => {
    const encodesLong = `https://acme.example/${'é'.repeat(1000)}`; // 1021 characters, 6021 as stored
    for (const name of LINKS) {
      const response = await call(t, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { [name]: encodesLong });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.json().error_description, new RegExp(`^${name}: must be at most 2048 characters`));
    }
    assert.equal((await call(t, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json().support_url.override, null);
  });

  it('the console inputs carry the validators\' limits as maxlength', async () => {
    const page = await admin.browser.get('/admin/branding');
    for (const name of LINKS) assert.match(page.body, new RegExp(`<input id="${name.replace('_', '-')}" name="${name}" [^>]*maxlength="2048"`));
    assert.match(page.body, /<input id="product-name" name="product_name" [^>]*maxlength="60"/);
  });

  it('product names: C1 controls, line separators and text-direction characters are refused, naming the rule', async () => {
    for (const char of REFUSED_IN_NAME) {
      const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      const response = await call(t, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: `Acme${char}Cloud` });
      assert.equal(response.statusCode, 400, `${code}: ${response.body}`);
      assert.match(response.json().error_description, new RegExp(`^product_name: must not contain control characters, line separators or text-direction marks \\(found ${code.replace('+', '\\+')};`));
      const error = configRefuses({ GATEHOUSE_BRAND_NAME: `Acme${char}Cloud` });
      assert.equal(error.key, 'GATEHOUSE_BRAND_NAME');
      assert.match(error.message, /text-direction marks/);
    }
    assert.equal((await call(t, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json().product_name.override, null, 'none was stored');

    const page = await admin.browser.submit('/admin/branding', '/admin/branding', { product_name: 'Acme\u202eduolC' });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /<p class="field-error" id="product-name-error">Enter at most 60 characters, without control characters, line separators or text-direction marks\.<\/p>/);
  });

  it('product names in any script are still accepted', async () => {
    for (const name of ['Ακμή', 'アクメ認証', 'أكمي', 'Acme – Cloud™']) {
      const response = await call(t, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: name });
      assert.equal(response.statusCode, 200, `${name}: ${response.body}`);
      assert.equal(response.json().product_name.value, name);
    }
    assert.equal((await call(t, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: null })).statusCode, 200);
  });
});
