/**
 * The branding keys (src/config/schema-branding.ts, docs/branding.md): defaults, and every bad
 * value stops the start-up with one line naming the key — files that are missing, too big, not
 * an image or carrying script; colours that are not #rrggbb or fail WCAG AA contrast; radii that
 * would inject CSS; links that are not https; a locale we do not ship.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/types.ts';

let directory: string;

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40"><rect width="120" height="40" fill="#0b57d0"/></svg>';
/** A 1×1 PNG (signature, IHDR, IDAT, IEND). */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

function file(name: string, content: string | Buffer): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

function problem(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    return error;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

function refused(env: Record<string, string>, message: RegExp): void {
  const [name] = Object.keys(env);
  const error = problem(env);
  assert.equal(error.key, name);
  assert.match(error.message, message);
}

before(() => {
  directory = mkdtempSync(join(tmpdir(), 'gatehouse-branding-'));
});
after(() => rmSync(directory, { recursive: true, force: true }));

describe('branding config: defaults', () => {
  it('is the Gatehouse brand in English with the default colours and no files or links', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.brandName, 'Gatehouse');
    assert.equal(config.brandAccentColor, '#0b57d0');
    assert.equal(config.brandAccentColorDark, '#a8c7fa');
    assert.equal(config.brandRadius, '6px');
    assert.equal(config.defaultLocale, 'en');
    for (const name of ['brandLogoFile', 'brandLogoDarkFile', 'brandFaviconFile', 'brandStylesheetFile', 'brandSupportUrl', 'brandPrivacyUrl', 'brandTermsUrl', 'mailTemplateDir'] as const) {
      assert.equal(config[name], undefined, name);
    }
  });

  it('takes a whole sample brand from the config file, and the environment wins', () => {
    const templates = join(directory, 'mail-templates');
    mkdirSync(templates, { recursive: true });
    const path = file('brand.json', JSON.stringify({
      brandName: 'Acme ID',
      brandLogoFile: file('logo.svg', SVG),
      brandLogoDarkFile: file('logo-dark.png', PNG),
      brandFaviconFile: file('favicon.png', PNG),
      brandStylesheetFile: file('custom.css', '.brand-name { letter-spacing: .02em; }'),
      brandAccentColor: '#7A1FA2',
      brandAccentColorDark: '#e1bee7',
      brandRadius: '0.75rem',
      brandSupportUrl: 'https://acme.example/help',
      brandPrivacyUrl: 'https://acme.example/privacy',
      brandTermsUrl: 'https://acme.example/terms',
      defaultLocale: 'de',
      mailTemplateDir: templates,
    }));
    const config = loadConfig({ env: { GATEHOUSE_DEFAULT_LOCALE: 'fr' }, configFile: path });
    assert.equal(config.brandName, 'Acme ID');
    assert.equal(config.brandAccentColor, '#7a1fa2', 'colours are lower-cased');
    assert.equal(config.brandRadius, '0.75rem');
    assert.equal(config.brandSupportUrl, 'https://acme.example/help');
    assert.equal(config.defaultLocale, 'fr');
    assert.equal(config.mailTemplateDir, templates);
    assert.match(String(config.brandLogoDarkFile), /logo-dark\.png$/);
  });
});

describe('branding config: refused values', () => {
  it('files: missing, a directory, empty, too big, the wrong type, or an SVG with script', () => {
    refused({ GATEHOUSE_BRAND_LOGO_FILE: join(directory, 'nope.svg') }, /cannot read .*nope\.svg \(ENOENT\)/);
    refused({ GATEHOUSE_BRAND_LOGO_FILE: directory }, /is not a file|must be an \.svg or \.png/);
    refused({ GATEHOUSE_BRAND_FAVICON_FILE: file('empty.svg', '') }, /is empty/);
    refused({ GATEHOUSE_BRAND_LOGO_FILE: file('huge.png', Buffer.concat([PNG, Buffer.alloc(600 * 1024)])) }, /KiB; at most 512 KiB/);
    refused({ GATEHOUSE_BRAND_LOGO_FILE: file('logo.gif', 'GIF89a') }, /must be an \.svg or \.png file/);
    refused({ GATEHOUSE_BRAND_LOGO_FILE: file('fake.png', SVG) }, /is not a PNG image/);
    refused({ GATEHOUSE_BRAND_LOGO_FILE: file('text.svg', 'hello') }, /is not an SVG image/);
    refused({ GATEHOUSE_BRAND_LOGO_DARK_FILE: file('script.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') }, /contains script/);
    refused({ GATEHOUSE_BRAND_FAVICON_FILE: file('handler.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>') }, /contains script, event handlers/);
    refused({ GATEHOUSE_BRAND_STYLESHEET_FILE: file('styles.txt', 'a{}') }, /must be a \.css file/);
    refused({ GATEHOUSE_BRAND_STYLESHEET_FILE: file('big.css', `a{}${' '.repeat(300 * 1024)}`) }, /at most 256 KiB/);
  });

  it('colours: not #rrggbb, or too little contrast where the accent lands (WCAG 2.1 AA 4.5:1)', () => {
    for (const value of ['blue', '#fff', '#0b57d', 'rgb(0,0,0)', '#0b57d0; x: y']) {
      refused({ GATEHOUSE_BRAND_ACCENT_COLOR: value }, /must be a colour written #rrggbb/);
    }
    // Yellow on white is unreadable; so is a dark blue on the dark card.
    refused({ GATEHOUSE_BRAND_ACCENT_COLOR: '#ffcc00' }, /#ffcc00 has too little contrast in the light theme \(links on the card: 1\.\d\d:1 \(needs 4\.5:1\).*choose a darker shade/);
    refused({ GATEHOUSE_BRAND_ACCENT_COLOR_DARK: '#0b57d0' }, /too little contrast in the dark theme .*choose a lighter shade/);
    // A mid grey fails on the light page background although it passes on white.
    refused({ GATEHOUSE_BRAND_ACCENT_COLOR: '#757575' }, /links on the page: 4\.\d\d:1/);
  });

  it('radius: only a plain length in px, rem or em (it lands in CSS), within bounds', () => {
    for (const value of ['6', 'red', '6px; color: red', '6px}', 'calc(1px)', '-2px', '1e3px', '6 px', '6PX', '6%']) {
      refused({ GATEHOUSE_BRAND_RADIUS: value }, /must be a CSS length such as 6px/);
    }
    refused({ GATEHOUSE_BRAND_RADIUS: '90px' }, /at most 48px/);
    refused({ GATEHOUSE_BRAND_RADIUS: '4rem' }, /at most 3rem/);
    for (const value of ['0', '0px', '12px', '0.5rem', '1.25em']) assert.equal(loadConfig({ env: { GATEHOUSE_BRAND_RADIUS: value } }).brandRadius, value);
  });

  it('links: absolute https URLs only', () => {
    refused({ GATEHOUSE_BRAND_SUPPORT_URL: 'http://acme.example/help' }, /must be an https:\/\/ URL/);
    refused({ GATEHOUSE_BRAND_PRIVACY_URL: '/privacy' }, /must be an absolute https:\/\/ URL/);
    refused({ GATEHOUSE_BRAND_TERMS_URL: 'javascript:alert(1)' }, /must be an https:\/\/ URL/);
    refused({ GATEHOUSE_BRAND_SUPPORT_URL: 'https://user:pw@acme.example/' }, /must not contain credentials/);
  });

  it('name, locale and template directory', () => {
    refused({ GATEHOUSE_BRAND_NAME: 'x'.repeat(61) }, /at most 60 characters/);
    refused({ GATEHOUSE_BRAND_NAME: 'Acme\u0007' }, /control characters/);
    refused({ GATEHOUSE_DEFAULT_LOCALE: 'ja' }, /must be one of en, de, fr, es/);
    refused({ GATEHOUSE_MAIL_TEMPLATE_DIR: join(directory, 'missing') }, /cannot read .*missing \(ENOENT\)/);
    refused({ GATEHOUSE_MAIL_TEMPLATE_DIR: file('not-a-dir.txt', 'x') }, /is not a directory/);
  });

  it('a bad key in the config file is named with the file', () => {
    const path = file('bad-brand.json', JSON.stringify({ brandAccentColor: 'teal' }));
    assert.throws(() => loadConfig({ env: {}, configFile: path }), (error: unknown) => error instanceof ConfigError && error.key === `brandAccentColor (in ${path})`);
  });
});
