/**
 * The theme in Chromium (docs/branding.md): a sample brand's logo switches with
 * `prefers-color-scheme`, the dark scheme really changes the colours (and axe-core finds no
 * contrast violation in either), the brand's extra stylesheet is applied under the nonce CSP,
 * the page script adds a show-password toggle and moves focus to the error summary — and no
 * CSP violation is reported. Runs the real app in-process, listening on loopback.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { createTestApp, TEST_MASTER_KEY, type TestApp } from '../support/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { freePort } from '../support/oauth.ts';
import { bounded, chromiumSkip, diagnosed, launchChromium } from '../support/oidc.ts';
import { registerTheme } from '../../src/ui/theme/index.ts';
import { DARK, LIGHT } from '../../src/ui/theme/palette.ts';
import { PAGE_SCRIPT_PATH } from '../../src/ui/theme/page-script.ts';

const TEST_TIMEOUT_MS = 90_000;
const skip = chromiumSkip();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="32"><rect width="96" height="32" fill="#7a1fa2"/></svg>';
const LOGO_DARK = '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="32"><rect width="96" height="32" fill="#e1bee7"/></svg>';

function rgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((offset) => Number.parseInt(hex.slice(offset, offset + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}

/** The few DOM APIs the checks call inside the page (the test tsconfig has no DOM types). */
interface PageGlobals {
  getComputedStyle(element: unknown): Record<string, string>;
  document: { activeElement: { hasAttribute(name: string): boolean } | null };
  axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> };
}
interface ImageElement { currentSrc: string; complete: boolean; naturalWidth: number }

async function computed(locator: Locator, property: string): Promise<string> {
  return locator.first().evaluate((element, name) => (globalThis as unknown as PageGlobals).getComputedStyle(element)[name] ?? '', property);
}

async function contrastViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (no bypassCSP needed).
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const { axe, document } = globalThis as unknown as PageGlobals;
    const result = await axe.run(document, { runOnly: { type: 'rule', values: ['color-contrast', 'link-in-text-block'] } });
    return result.violations.flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(' ')}`));
  });
}

describe('theme in Chromium', { skip, timeout: TEST_TIMEOUT_MS * 4 }, () => {
  let directory: string | undefined;
  let t: TestApp | undefined;
  let base = '';
  let browser: Browser | undefined;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'gatehouse-theme-browser-'));
    const file = (name: string, content: string): string => {
      const path = join(directory!, name);
      writeFileSync(path, content);
      return path;
    };
    const port = await freePort();
    base = `http://localhost:${port}`;
    const env = {
        GATEHOUSE_PUBLIC_URL: base,
        GATEHOUSE_BRAND_NAME: 'Acme ID',
        GATEHOUSE_BRAND_LOGO_FILE: file('logo.svg', LOGO),
        GATEHOUSE_BRAND_LOGO_DARK_FILE: file('logo-dark.svg', LOGO_DARK),
        GATEHOUSE_BRAND_STYLESHEET_FILE: file('custom.css', '.brand-name { letter-spacing: 3px; }'),
        GATEHOUSE_BRAND_ACCENT_COLOR: '#7a1fa2',
        GATEHOUSE_BRAND_ACCENT_COLOR_DARK: '#e1bee7',
        GATEHOUSE_BRAND_SUPPORT_URL: 'https://acme.example/help',
    };
    t = await createTestApp({
      env,
      // Until src/app.ts calls registerTheme itself (one line after createShared), the test does.
      beforeReady: (app) => {
        if (!app.hasRoute({ method: 'GET', url: PAGE_SCRIPT_PATH })) registerTheme(app, loadConfig({ env: { ...env, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY } }));
      },
    });
    await t.app.listen({ port, host: 'localhost' });
    browser = await launchChromium();
  });

  after(async () => {
    await bounded(browser?.close());
    await bounded(t?.close());
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  async function open(colorScheme: 'light' | 'dark', path: string): Promise<{ page: Page; violations: string[]; close: () => Promise<void> }> {
    const context = await browser!.newContext({ colorScheme });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(`${base}${path}`);
    assert.ok(response && response.status() < 500, `${path}: ${response?.status()}`);
    return { page, violations, close: () => context.close() };
  }

  it('light: the light logo, the brand accent on the primary button, the extra stylesheet, no contrast violation', { timeout: TEST_TIMEOUT_MS }, () => diagnosed(t, async () => {
    const { page, violations, close } = await open('light', '/signup');
    try {
      assert.equal(await page.title(), `${await page.locator('h1').innerText()} · Acme ID`);
      const logo = page.locator('.brand img');
      assert.match(await logo.evaluate((image) => (image as unknown as ImageElement).currentSrc), /\/assets\/brand\/logo\.svg\?v=/);
      assert.ok(await logo.evaluate((image) => (image as unknown as ImageElement).complete && (image as unknown as ImageElement).naturalWidth > 0), 'the logo loaded');
      assert.equal(await computed(page.locator('body'), 'backgroundColor'), rgb(LIGHT.page));
      assert.equal(await computed(page.locator('button[type=submit]').first(), 'backgroundColor'), rgb('#7a1fa2'));
      assert.equal(await computed(page.locator('.brand-name'), 'letterSpacing'), '3px', 'custom.css applied');
      assert.deepEqual(await contrastViolations(page), []);
      assert.deepEqual(violations, []);
    } finally {
      await close();
    }
  }));

  it('dark (emulateMedia): the dark logo, dark colours, the dark accent, no contrast violation', { timeout: TEST_TIMEOUT_MS }, () => diagnosed(t, async () => {
    const { page, violations, close } = await open('light', '/signup');
    try {
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.reload();
      assert.match(await page.locator('.brand img').evaluate((image) => (image as unknown as ImageElement).currentSrc), /\/assets\/brand\/logo-dark\.svg\?v=/);
      assert.equal(await computed(page.locator('body'), 'backgroundColor'), rgb(DARK.page));
      assert.equal(await computed(page.locator('.card'), 'backgroundColor'), rgb(DARK.surface));
      assert.equal(await computed(page.locator('h1'), 'color'), rgb(DARK.ink));
      assert.equal(await computed(page.locator('button[type=submit]').first(), 'backgroundColor'), rgb('#e1bee7'));
      assert.deepEqual(await contrastViolations(page), []);
      assert.deepEqual(violations, []);
    } finally {
      await close();
    }
  }));

  for (const scheme of ['light', 'dark'] as const) it(`${scheme}: the show-password toggle (aria-pressed, aria-controls) and focus on the error summary after a failed submit`, { timeout: TEST_TIMEOUT_MS }, () => diagnosed(t, async () => {
    const { page, violations, close } = await open(scheme, '/signup');
    try {
      const password = page.locator('input[name=password]');
      const toggle = page.getByRole('button', { name: 'Show password' });
      assert.equal(await toggle.count(), 1);
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
      assert.equal(await toggle.getAttribute('aria-controls'), await password.getAttribute('id'));
      await password.fill('correct horse battery');
      await toggle.click();
      assert.equal(await password.getAttribute('type'), 'text');
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
      await toggle.press('Enter');
      assert.equal(await password.getAttribute('type'), 'password', 'the keyboard toggles it back');
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');

      // Two problems at once: the page comes back with the summary focused.
      await page.locator('input[name=email]').fill('not-an-email');
      await password.fill('');
      await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').first().click()]);
      await page.waitForSelector('[data-error-summary]');
      assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.hasAttribute('data-error-summary') ?? false), true, 'focus is on the error summary');
      assert.equal(await page.locator('input[name=email]').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('input[name=email]').inputValue(), 'not-an-email', 'the email is kept');
      assert.deepEqual(await contrastViolations(page), [], 'the error state is readable too');
      assert.deepEqual(violations, []);
    } finally {
      await close();
    }
  }));
});
