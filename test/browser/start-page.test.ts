/**
 * First run in a real browser (issue 15): Debian's Chromium (playwright-core, no downloaded
 * browser) opens the URL a real Gatehouse child process printed. `/` is the start page and an
 * unknown page an HTML 404, chosen by the Accept header Chromium itself sends; a fetch() from
 * the same browser that asks for JSON still gets the JSON error. JavaScript is off for the
 * pages (they must work without it); only the fetch() check runs script.
 * Without /usr/bin/chromium the file is skipped with a printed reason, except in CI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const TEST_TIMEOUT_MS = 90_000;
const missing = !existsSync(CHROMIUM);
const skip = missing && !process.env.CI ? `${CHROMIUM} not found (apt-get install chromium); browser tests skipped` : false;
if (skip) console.log(`# ${skip}`);

describe('start page in Chromium', { skip, timeout: TEST_TIMEOUT_MS * 2 }, () => {
  let directory: string | undefined;
  let server: SpawnedServer | undefined;
  let browser: Browser | undefined;

  before(async () => {
    if (missing) throw new Error(`${CHROMIUM} is required in CI (install Debian's chromium package)`);
    directory = mkdtempSync(join(tmpdir(), 'gatehouse-start-'));
    // Port 0 and no public URL: the printed URL itself must be what a browser can open.
    server = await spawnServer({ cwd: directory, env: { GATEHOUSE_LOG_LEVEL: 'info' }, readyTimeoutMs: 20_000 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
  });

  after(async () => {
    const bounded = (work: Promise<unknown> | undefined): Promise<unknown> =>
      Promise.race([Promise.resolve(work).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
    await bounded(browser?.close());
    await bounded(server?.stop('SIGTERM', 10_000));
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('opens / as the start page and follows its links, with JavaScript off', { timeout: TEST_TIMEOUT_MS }, async () => {
    const context = await browser!.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${server!.url}/`);
      assert.equal(response?.status(), 200);
      assert.match(String(response?.headers()['content-type']), /^text\/html/);
      assert.equal(await page.title(), 'Start · Gatehouse');
      for (const name of ['Sign in', 'Create an account', 'Your account', 'Outbox']) {
        assert.equal(await page.getByRole('link', { name, exact: true }).count(), 1, `a "${name}" link`);
      }
      assert.match(await page.locator('pre').innerText(), /npm run gatehouse -- users create --email \S+ --admin/);
      assert.equal(await page.locator('link[rel=icon]').getAttribute('href'), '/favicon.svg');

      await page.getByRole('link', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${server!.url}/login`);
      assert.equal(await page.locator('h1').innerText(), 'Sign in');

      const icon = await page.goto(`${server!.url}/favicon.svg`);
      assert.equal(icon?.status(), 200);
      assert.match(String(icon?.headers()['content-type']), /^image\/svg\+xml/);
    } finally {
      await context.close();
    }
  });

  it('an unknown page is an HTML 404 in the browser; fetch() asking for JSON gets the JSON error', { timeout: TEST_TIMEOUT_MS }, async () => {
    const pages = await browser!.newContext({ javaScriptEnabled: false });
    try {
      const page = await pages.newPage();
      const response = await page.goto(`${server!.url}/nope`);
      assert.equal(response?.status(), 404);
      assert.match(String(response?.headers()['content-type']), /^text\/html/);
      assert.equal(await page.locator('h1').innerText(), 'Page not found');
      await page.getByRole('link', { name: 'Go to the start page' }).click();
      await page.waitForURL(`${server!.url}/`);
    } finally {
      await pages.close();
    }

    // The pages' CSP allows no connections at all (default-src 'none'); bypass it for this probe only.
    const scripted = await browser!.newContext({ bypassCSP: true });
    try {
      const page = await scripted.newPage();
      await page.goto(`${server!.url}/`);
      const answers = await page.evaluate(async () => {
        const probe = async (headers: Record<string, string>) => {
          const response = await fetch('/nope', { headers });
          return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
        };
        return { json: await probe({ accept: 'application/json' }), plain: await probe({}) };
      });
      for (const [name, answer] of Object.entries(answers)) {
        assert.equal(answer.status, 404, name);
        assert.match(String(answer.type), /^application\/json/, name);
        assert.deepEqual(JSON.parse(answer.body), { error: 'not_found', error_description: 'No such endpoint.' }, name);
      }
    } finally {
      await scripted.close();
    }
  });
});
