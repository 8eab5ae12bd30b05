/**
 * First run in a browser (issue 15): `/` is a start page for browsers and JSON `not_found` for
 * API clients; unknown pages and wrong methods are HTML error pages for browsers and the JSON
 * errors as before for everyone else; a favicon of our own. Chosen by Accept only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { openStorage } from '../../src/storage/open.ts';
import { FAVICON_SVG } from '../../src/ui/favicon.ts';
import { TEST_MASTER_KEY, createTestApp, type TestApp } from '../support/app.ts';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const JSON_CLIENTS: Readonly<Record<string, Record<string, string>>> = {
  'no Accept': {},
  '*/*': { accept: '*/*' },
  'application/json': { accept: 'application/json' },
};

describe('start page and HTML errors', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('GET / with a browser Accept: the start page linking sign-in, sign-up and the account, and the first-admin command in development', async () => {
    const response = await t.app.inject({ url: '/', headers: { accept: BROWSER } });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(String(response.headers.vary), /Accept/);
    assert.match(String(response.headers['content-security-policy']), /style-src 'nonce-/);
    for (const href of ['/login', '/signup', '/account', '/openapi.json']) assert.ok(response.body.includes(`href="${href}"`), `links ${href}`);
    assert.ok(response.body.includes('npm run gatehouse -- users create --email you@example.com --admin'), 'names the first-admin command');
    assert.ok(response.body.includes('<link rel="icon" href="/favicon.svg" type="image/svg+xml">'), 'the layout links the favicon');
    // Scripts: only our own files, each with the response's nonce; never inline.
    for (const [, attributes = '', body = ''] of response.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(attributes, /^ nonce="[A-Za-z0-9+/=]+" src="\/assets\/[a-z-]+\.js"$/);
      assert.equal(body.trim(), '');
    }
    assert.doesNotMatch(response.body, /\son[a-z]+=/i, 'no inline event handlers');
  });

  for (const [name, headers] of Object.entries(JSON_CLIENTS)) {
    it(`GET / and GET /nope with ${name}: JSON not_found as before`, async () => {
      for (const url of ['/', '/nope']) {
        const response = await t.app.inject({ url, headers });
        assert.equal(response.statusCode, 404, url);
        assert.match(String(response.headers['content-type']), /^application\/json/, url);
        assert.deepEqual(response.json(), { error: 'not_found', error_description: 'No such endpoint.' }, url);
        assert.match(String(response.headers.vary), /Accept/, url);
      }
    });
  }

  it('an unknown page in a browser: an HTML 404 page linking the start page', async () => {
    const response = await t.app.inject({ url: '/no-such-page', headers: { accept: BROWSER } });
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.body, /<h1>Page not found<\/h1>/);
    assert.ok(response.body.includes('href="/"'));
    assert.doesNotMatch(response.body, /"error"/, 'no JSON in the page');
  });

  it('a wrong method in a browser: an HTML 405 page with Allow; the JSON 405 for API clients', async () => {
    const page = await t.app.inject({ method: 'DELETE', url: '/login', headers: { accept: BROWSER } });
    assert.equal(page.statusCode, 405);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers.allow), /GET/);
    assert.match(page.body, /<h1>Not allowed<\/h1>/);
    const api = await t.app.inject({ method: 'DELETE', url: '/login', headers: { accept: 'application/json' } });
    assert.equal(api.statusCode, 405);
    assert.equal(api.json().error, 'method_not_allowed');
    assert.match(String(api.headers.allow), /GET/);
  });

  it('POST / is a 405 (the start page only reads)', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/', headers: { accept: 'application/json' } });
    assert.equal(response.statusCode, 405);
    assert.match(String(response.headers.allow), /GET/);
  });

  it('serves our own SVG favicon at /favicon.svg and /favicon.ico', async () => {
    for (const url of ['/favicon.svg', '/favicon.ico']) {
      const response = await t.app.inject({ url, headers: { accept: 'image/avif,image/webp,image/svg+xml,image/*,*/*;q=0.8' } });
      assert.equal(response.statusCode, 200, url);
      assert.match(String(response.headers['content-type']), /^image\/svg\+xml/, url);
      assert.equal(response.body, FAVICON_SVG, url);
      assert.match(String(response.headers['cache-control']), /max-age=\d+/, url);
    }
    assert.match(FAVICON_SVG, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });
});

describe('start page: development outbox and production', () => {
  it('links the outbox when the development outbox is mounted', async () => {
    const config = loadConfig({ env: { GATEHOUSE_DATABASE_URL: 'sqlite::memory:', GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, GATEHOUSE_LOG_LEVEL: 'silent' } });
    const storage = await openStorage(config);
    const app = await createApp({ config, database: storage.database, ephemeral: storage.ephemeral, masterKey: resolveMasterKey(config) });
    try {
      const response = await app.inject({ url: '/', headers: { accept: BROWSER } });
      assert.equal(response.statusCode, 200);
      assert.ok(response.body.includes('href="/dev/outbox"'), 'links the outbox');
      assert.equal((await app.inject({ url: '/dev/outbox' })).statusCode, 200, 'the linked outbox exists');
    } finally {
      await app.close();
      await storage.close();
    }
  });

  it('in production: the links for people, without the development section', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_ENV: 'production', GATEHOUSE_PUBLIC_URL: 'https://auth.example.com', GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:1' } });
    try {
      const response = await t.app.inject({ url: '/', headers: { accept: BROWSER } });
      assert.equal(response.statusCode, 200);
      assert.ok(response.body.includes('href="/login"'));
      assert.doesNotMatch(response.body, /dev\/outbox|users create|Development/);
    } finally {
      await t.close();
    }
  });
});
