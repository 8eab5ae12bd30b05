/**
 * The admin console in Chromium (Debian's, driven by playwright-core), JavaScript OFF, at
 * 1280 px and at phone width (390 px): sign in as an admin, search a user, open them, disable
 * with the confirmation step — their session is refused afterwards; register an OAuth client
 * and see its secret once. The app runs in-process (test/admin/console-support.ts) and listens
 * on localhost (a secure context, so the __Host- cookies work over plain HTTP).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { freePort, nativeSignIn } from '../support/oauth.ts';
import { createConsoleTestApp } from '../admin/console-support.ts';

const CHROMIUM = '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15_000;
const missing = !existsSync(CHROMIUM);
const skip = missing && !process.env.CI ? `${CHROMIUM} not found; browser tests skipped` : false;

describe('admin console in Chromium', { skip, timeout: 240_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  let base = '';
  before(async () => {
    if (missing) throw new Error(`${CHROMIUM} is required in CI`);
    const port = await freePort();
    base = `http://localhost:${port}`;
    t = await createConsoleTestApp({ env: { GATEHOUSE_PUBLIC_URL: base } });
    await t.app.listen({ port, host: '127.0.0.1' });
    await registerAndSignIn(t, 'root@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    await users.setRoles((await users.findByEmail('root@example.com'))!.id, ['admin'], Date.now());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'], timeout: 30_000 });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  for (const width of [1280, 390]) {
    it(`at ${width} px: search, open, disable with confirmation; register a client, secret shown once`, async () => {
      const victim = await nativeSignIn(t, `victim-${width}@example.com`);
      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width, height: 900 } });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      try {
        const page = await context.newPage();
        await page.goto(`${base}/admin`);
        assert.match(page.url(), /\/login\?return_to=%2Fadmin$/);
        await page.fill('input[name=email]', 'root@example.com');
        await page.fill('input[name=password]', PASSWORD);
        await page.click('button[type=submit]');
        await page.waitForURL(`${base}/admin`);
        assert.ok(await page.locator('nav.admin-nav a[href="/admin/users"]').isVisible());

        await page.click('nav.admin-nav a[href="/admin/users"]');
        await page.fill('input[name=search]', `victim-${width}`);
        await page.click('form[role=search] button[type=submit]');
        await page.click(`a:text("victim-${width}@example.com")`);
        assert.equal(await page.locator('[data-status]').getAttribute('data-status'), 'active');
        await page.click(`form[action$="/disable"] button`);
        // The confirmation page: nothing has changed yet.
        assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: victim.cookie } })).statusCode, 200);
        await page.click('.admin-confirm button[type=submit]');
        await page.waitForURL(/notice=disabled/);
        assert.equal(await page.locator('[data-status]').getAttribute('data-status'), 'disabled');
        assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: victim.cookie } })).statusCode, 401);

        await page.goto(`${base}/admin/clients/new`);
        await page.fill('input[name=name]', `Reports ${width}`);
        await page.uncheck('input[name="grant:authorization_code"]');
        await page.check('input[name="grant:client_credentials"]');
        await page.click('form[action="/admin/clients"] button[type=submit]');
        const secret = await page.locator('[data-client-secret]').textContent();
        const clientId = await page.locator('[data-client-id]').textContent();
        assert.ok(secret && secret.length >= 32 && clientId);
        await page.screenshot({ path: `/tmp/gatehouse-admin-${width}.png`, fullPage: true });
        await page.goto(`${base}/admin/clients/${clientId}`);
        assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
      } finally {
        await context.close();
      }
    });
  }
});
