/**
 * The theme (src/ui/theme/, src/ui/layout.ts, docs/branding.md): WCAG contrast of the built-in
 * colours in both schemes, the brand per app (two apps in one process), the served brand files,
 * the layout's header, client block, footer, skip link, page script and CSP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.ts';
import { html } from '../../src/ui/html.ts';
import { translatorFor } from '../../src/ui/i18n/request.ts';
import { sendPage, type ClientBrand } from '../../src/ui/layout.ts';
import { registerFavicon, FAVICON_SVG } from '../../src/ui/favicon.ts';
import { brandFor, contrastPairs, contrastProblems, contrastRatio, currentBrand, DARK, LIGHT, registerTheme, type Brand } from '../../src/ui/theme/index.ts';
import { DEFAULT_ACCENT, DEFAULT_ACCENT_DARK } from '../../src/ui/theme/palette.ts';
import { PAGE_SCRIPT } from '../../src/ui/theme/page-script.ts';

let directory: string;
const apps: FastifyInstance[] = [];

const ACME_CLIENT: ClientBrand = {
  name: 'Acme Notes',
  logoUri: 'https://cdn.acme-notes.example/logo.png',
  clientUri: 'https://acme-notes.example',
  policyUri: 'https://acme-notes.example/privacy',
  tosUri: 'https://acme-notes.example/terms',
};

/** A Fastify app with the theme of `env` and two pages (card with a client, wide), as createApp wires it. */
async function themedApp(env: Record<string, string>): Promise<FastifyInstance> {
  const config = loadConfig({ env });
  const app = Fastify();
  registerTheme(app, config);
  registerFavicon(app);
  // An encapsulated plugin, as the pages are: the brand is found through the prototype chain.
  await app.register(async (scope) => {
    scope.get('/card', async (request, reply) => {
      const client = (request.query as { client?: string }).client ? ACME_CLIENT : undefined;
      return sendPage(reply, { title: 'Sign in', body: html`<h1>Sign in</h1><input id="password" name="password" type="password">`, client });
    });
    scope.get('/wide', async (_request, reply) => sendPage(reply, { title: 'Your account', width: 'wide', body: html`<h1>Account</h1>` }));
    scope.get('/brand', async (request) => ({ ...brandFor(request), fromRequest: brandFor(request).productName, current: currentBrand().productName, locale: translatorFor(request).locale }));
  });
  await app.ready();
  apps.push(app);
  return app;
}

const pick = ({ fromRequest, current, locale }: Record<string, unknown>): Record<string, unknown> => ({ fromRequest, current, locale });

function cspOf(headers: Record<string, unknown>): Map<string, string> {
  return new Map(String(headers['content-security-policy']).split(';').map((part) => {
    const [name = '', ...rest] = part.trim().split(/\s+/);
    return [name, rest.join(' ')];
  }));
}

before(() => {
  directory = mkdtempSync(join(tmpdir(), 'gatehouse-theme-'));
});
after(async () => {
  for (const app of apps) await app.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('theme: colour contrast (WCAG 2.1 AA)', () => {
  it('computes contrast as WCAG defines it', () => {
    assert.equal(contrastRatio('#000000', '#ffffff'), 21);
    assert.equal(contrastRatio('#ffffff', '#ffffff'), 1);
    // #767676 is the classic lightest grey that passes 4.5:1 on white; #777777 just fails.
    assert.ok(contrastRatio('#767676', '#ffffff') >= 4.5);
    assert.ok(contrastRatio('#777777', '#ffffff') < 4.5);
  });

  it('every text pair has 4.5:1 and every control 3:1, in the light and the dark theme, with the default accents', () => {
    assert.deepEqual(contrastProblems(contrastPairs(DEFAULT_ACCENT, LIGHT)), []);
    assert.deepEqual(contrastProblems(contrastPairs(DEFAULT_ACCENT_DARK, DARK)), []);
    // The check itself finds a failing pair.
    assert.equal(contrastProblems(contrastPairs('#ffcc00', LIGHT)).length > 0, true);
  });
});

describe('theme: the layout', () => {
  it('default brand: "<title> · Gatehouse", dark scheme, skip link, page script with the nonce, built-in favicon, no footer links', async () => {
    const app = await themedApp({});
    const response = await app.inject({ url: '/card' });
    assert.equal(response.statusCode, 200);
    const body = response.body;
    assert.match(body, /<title>Sign in · Gatehouse<\/title>/);
    assert.match(body, /<meta name="color-scheme" content="light dark">/);
    assert.match(body, /color-scheme: light dark/);
    assert.match(body, /@media \(prefers-color-scheme: dark\)/);
    assert.match(body, /--gh-accent-light: #0b57d0; --gh-accent-dark: #a8c7fa; --gh-radius: 6px;/);
    assert.match(body, /<a class="skip-link" href="#content">Skip to content<\/a>/);
    assert.match(body, /<div class="card" id="content" tabindex="-1">/);
    assert.match(body, /<span class="brand-name">Gatehouse<\/span>/);
    assert.doesNotMatch(body, /<picture>|<footer/);
    assert.match(body, /<link rel="icon" href="\/favicon.svg" type="image\/svg\+xml">/);
    assert.match(body, /data-show-password="Show password"/);
    const csp = cspOf(response.headers);
    const nonce = /'nonce-([^']+)'/.exec(csp.get('script-src') ?? '')?.[1];
    assert.ok(nonce, 'script-src allows the nonce');
    assert.equal(csp.get('style-src'), `'nonce-${nonce}'`);
    assert.equal(csp.get('img-src'), "'self' data:");
    assert.ok(body.includes(`<script nonce="${nonce}" src="/assets/page.js"></script>`));
    const script = await app.inject({ url: '/assets/page.js' });
    assert.equal(script.statusCode, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.equal(script.body, PAGE_SCRIPT);
    const icon = await app.inject({ url: '/favicon.ico' });
    assert.equal(icon.body, FAVICON_SVG);
  });

  it('a client: its remote logo (img-src gains its origin for this response only, no referrer, sized, alt from its name) and its policy links', async () => {
    const app = await themedApp({});
    const response = await app.inject({ url: '/card?client=1' });
    const body = response.body;
    assert.match(body, /<div class="client"><img src="https:\/\/cdn\.acme-notes\.example\/logo\.png" alt="Acme Notes logo" width="40" height="40" referrerpolicy="no-referrer"><span class="client-name">Acme Notes<\/span><\/div>/);
    assert.equal(cspOf(response.headers).get('img-src'), "'self' data: https://cdn.acme-notes.example");
    assert.match(body, /<a href="https:\/\/acme-notes\.example\/privacy" rel="noopener noreferrer">Acme Notes privacy policy<\/a>/);
    assert.match(body, /<a href="https:\/\/acme-notes\.example\/terms" rel="noopener noreferrer">Acme Notes terms of service<\/a>/);
    const next = await app.inject({ url: '/card' });
    assert.equal(cspOf(next.headers).get('img-src'), "'self' data:", 'the next page allows no remote image');
  });

  it('a client URL that is not https (or http to loopback) is never rendered', async () => {
    const app = Fastify();
    registerTheme(app, loadConfig({ env: {} }));
    app.get('/bad', async (_request, reply) => sendPage(reply, { title: 'X', body: html``, client: { name: 'Evil <b>', logoUri: 'javascript:alert(1)', policyUri: 'http://evil.example/p', tosUri: 'data:text/html,x' } }));
    apps.push(app);
    const response = await app.inject({ url: '/bad' });
    assert.doesNotMatch(response.body, /javascript:|evil\.example|data:text/);
    assert.match(response.body, /<span class="client-name">Evil &lt;b&gt;<\/span>/);
    assert.equal(cspOf(response.headers).get('img-src'), "'self' data:");
  });

  it('the wide layout for account and admin pages', async () => {
    const app = await themedApp({});
    const response = await app.inject({ url: '/wide' });
    assert.match(response.body, /<body class="layout-wide"/);
    assert.match(response.body, /<div class="wide" id="content" tabindex="-1">/);
    assert.match(response.body, /<title>Your account · Gatehouse<\/title>/);
  });
});

describe('theme: a configured brand', () => {
  let app: FastifyInstance;
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 32"><rect width="96" height="32" fill="#7a1fa2"/></svg>';
  const darkSvg = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><rect width="64" height="32" fill="#e1bee7"/></svg>';
  before(async () => {
    const file = (name: string, content: string): string => {
      const path = join(directory, name);
      writeFileSync(path, content);
      return path;
    };
    app = await themedApp({
      GATEHOUSE_PUBLIC_URL: 'https://id.acme.example',
      GATEHOUSE_BRAND_NAME: 'Acme ID',
      GATEHOUSE_BRAND_LOGO_FILE: file('logo.svg', svg),
      GATEHOUSE_BRAND_LOGO_DARK_FILE: file('logo-dark.svg', darkSvg),
      GATEHOUSE_BRAND_FAVICON_FILE: file('favicon.svg', svg),
      GATEHOUSE_BRAND_STYLESHEET_FILE: file('custom.css', '.brand-name { letter-spacing: .05em; }'),
      GATEHOUSE_BRAND_ACCENT_COLOR: '#7a1fa2',
      GATEHOUSE_BRAND_ACCENT_COLOR_DARK: '#e1bee7',
      GATEHOUSE_BRAND_RADIUS: '0',
      GATEHOUSE_BRAND_SUPPORT_URL: 'https://acme.example/help',
      GATEHOUSE_BRAND_PRIVACY_URL: 'https://acme.example/privacy',
      GATEHOUSE_BRAND_TERMS_URL: 'https://acme.example/terms',
      GATEHOUSE_DEFAULT_LOCALE: 'de',
    });
  });

  it('header with the light and dark logo, colours, radius, favicon, custom stylesheet (nonce), footer links in the default language', async () => {
    const response = await app.inject({ url: '/card' });
    const body = response.body;
    assert.match(body, /<html lang="de" dir="ltr">/);
    assert.match(body, /<title>Sign in · Acme ID<\/title>/);
    assert.match(body, /<picture><source srcset="\/assets\/brand\/logo-dark\.svg\?v=[\w-]{12}" media="\(prefers-color-scheme: dark\)" width="64" height="32"><img src="\/assets\/brand\/logo\.svg\?v=[\w-]{12}" alt="" width="96" height="32"><\/picture><span class="brand-name">Acme ID<\/span>/);
    assert.match(body, /--gh-accent-light: #7a1fa2; --gh-accent-dark: #e1bee7; --gh-radius: 0;/);
    assert.match(body, /<link rel="icon" href="\/assets\/brand\/favicon\.svg\?v=[\w-]{12}" type="image\/svg\+xml">/);
    const nonce = /'nonce-([^']+)'/.exec(cspOf(response.headers).get('style-src') ?? '')?.[1];
    assert.match(body, new RegExp(`<link rel="stylesheet" href="/assets/brand/custom\\.css\\?v=[\\w-]{12}" nonce="${nonce!.replace(/[+/=]/g, '\\$&')}">`));
    assert.ok(body.indexOf('rel="stylesheet"') > body.indexOf('</style>'), 'linked after the built-in styles');
    assert.match(body, /<footer class="site-footer"><ul><li><a href="https:\/\/acme\.example\/help">Hilfe<\/a><\/li><li><a href="https:\/\/acme\.example\/privacy">Datenschutz<\/a><\/li><li><a href="https:\/\/acme\.example\/terms">Nutzungsbedingungen<\/a><\/li><\/ul><\/footer>/);
    assert.match(body, /Zum Inhalt springen/);
    assert.match(body, /data-show-password="Passwort anzeigen"/);
  });

  it('Accept-Language still wins over the configured default language', async () => {
    const response = await app.inject({ url: '/card?client=1', headers: { 'accept-language': 'fr-CA, en;q=0.5' } });
    assert.match(response.body, /<html lang="fr" dir="ltr">/);
    assert.match(response.body, /alt="Logo de Acme Notes"/);
    assert.match(response.body, />Politique de confidentialité de Acme Notes</);
    assert.match(response.body, />Aide</);
  });

  it('serves the brand files with their content type, a year of caching and a sandboxing CSP', async () => {
    const page = await app.inject({ url: '/card' });
    for (const [path, type, content] of [
      [/src="(\/assets\/brand\/logo\.svg\?v=[^"]+)"/.exec(page.body)![1]!, 'image/svg+xml', svg],
      [/srcset="(\/assets\/brand\/logo-dark\.svg\?v=[^"]+)"/.exec(page.body)![1]!, 'image/svg+xml', darkSvg],
      [/href="(\/assets\/brand\/custom\.css\?v=[^"]+)"/.exec(page.body)![1]!, 'text/css; charset=utf-8', '.brand-name { letter-spacing: .05em; }'],
    ] as const) {
      const response = await app.inject({ url: path });
      assert.equal(response.statusCode, 200, path);
      assert.equal(response.headers['content-type'], type, path);
      assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable', path);
      assert.match(String(response.headers['content-security-policy']), /default-src 'none'.*sandbox/, path);
      assert.equal(response.body, content, path);
    }
    const icon = await app.inject({ url: '/favicon.ico' });
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.body, svg, '/favicon.ico is the configured favicon');
  });

  it('the brand is per app: another app in the same process keeps its own; currentBrand() is the brand of the request being handled', async () => {
    const other = await themedApp({ GATEHOUSE_BRAND_NAME: 'Other Co' });
    const ours = await app.inject({ url: '/brand' });
    assert.deepEqual(pick(ours.json()), { fromRequest: 'Acme ID', current: 'Acme ID', locale: 'de' });
    const theirs = await other.inject({ url: '/brand' });
    assert.deepEqual(pick(theirs.json()), { fromRequest: 'Other Co', current: 'Other Co', locale: 'en' });
    assert.match((await app.inject({ url: '/wide' })).body, /<title>Your account · Acme ID<\/title>/);
    // Outside a request: the brand configured last.
    assert.equal(currentBrand().productName, 'Other Co');
  });

  it('the absolute logo URLs (for mails) are on the public URL', async () => {
    const { logoUrl, logoDarkUrl, supportUrl } = (await app.inject({ url: '/brand' })).json<Brand>();
    assert.match(String(logoUrl), /^https:\/\/id\.acme\.example\/assets\/brand\/logo\.svg\?v=/);
    assert.match(String(logoDarkUrl), /^https:\/\/id\.acme\.example\/assets\/brand\/logo-dark\.svg\?v=/);
    assert.equal(supportUrl, 'https://acme.example/help');
  });
});
