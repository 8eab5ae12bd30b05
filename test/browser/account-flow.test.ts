/**
 * The pages in a real browser: Debian's Chromium driven by playwright-core (no downloaded
 * browser), against a real Gatehouse child process that mails through a real SMTP server on
 * loopback. JavaScript is OFF in the browser: every page must work without it.
 *
 * The browser uses http://localhost (a secure context, so `__Host-`/Secure cookies work over
 * plain HTTP); the "attacker" pages are served from http://127.0.0.1:<other port>, a different
 * site. Without /usr/bin/chromium the file is skipped with a printed reason, except in CI
 * (`CI` set), where that is a failure.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/gatehouse-account.png';
const TEST_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 10_000;
const PASSWORD = 'a long passphrase with spaces 🙂';
const SESSION_COOKIE = '__Host-gatehouse';

const missing = !existsSync(CHROMIUM);
const inCI = Boolean(process.env.CI);
const skip = missing && !inCI ? `${CHROMIUM} not found (apt-get install chromium); browser tests skipped` : false;
if (skip) console.log(`# ${skip}`);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Another site: plain pages whose forms post to Gatehouse, as an attacker's page would. */
async function startAttackerSite(target: string, attacker: { email: string; password: string }): Promise<{ origin: string; close(): Promise<void> }> {
  const pages: Record<string, string> = {
    '/login-csrf': `<form method="post" action="${target}/login"><input type="hidden" name="email" value="${attacker.email}"><input type="hidden" name="password" value="${attacker.password}"><button id="go">Win a prize</button></form>`,
    '/logout-csrf': `<form method="post" action="${target}/logout"><button id="go">Win a prize</button></form>`,
  };
  const server: Server = createServer((request, response) => {
    const page = pages[request.url ?? ''];
    response.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page ? `<!doctype html><title>Prize</title>${page}` : 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('account flow in Chromium', { skip, timeout: TEST_TIMEOUT_MS * 3 }, () => {
  let directory: string | undefined;
  let smtp: SmtpCapture | undefined;
  let server: SpawnedServer | undefined;
  let browser: Browser | undefined;
  let attackerSite: { origin: string; close(): Promise<void> } | undefined;
  let base = '';
  const contexts: BrowserContext[] = [];

  before(async () => {
    if (missing) throw new Error(`${CHROMIUM} is required in CI (install Debian's chromium package)`);
    directory = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
    smtp = await startSmtpCapture();
    const port = await freePort();
    base = `http://localhost:${port}`;
    server = await spawnServer({
      cwd: directory,
      env: {
        GATEHOUSE_PORT: String(port),
        GATEHOUSE_PUBLIC_URL: base,
        GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        GATEHOUSE_LOG_LEVEL: 'info',
      },
      readyTimeoutMs: 20_000,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
  });

  after(async () => {
    // Each step on its own and bounded, so one failure or hang cannot leave the others running.
    const bounded = (work: Promise<unknown> | undefined): Promise<unknown> =>
      Promise.race([Promise.resolve(work).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
    await bounded(Promise.allSettled(contexts.map((context) => context.close())));
    await bounded(browser?.close());
    await bounded(attackerSite?.close());
    await bounded(server?.stop('SIGTERM', 10_000)); // SIGKILLs after 10 s
    await bounded(smtp?.close());
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  /** Runs a test body; on failure the server's last log lines are added to the error. */
  async function diagnosed(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      const logs = `${server?.stdout() ?? ''}${server?.stderr() ?? ''}`.split('\n').slice(-15).join('\n');
      throw new Error(`${(error as Error).message}\n--- last server log lines ---\n${logs}`, { cause: error });
    }
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    assert.ok(browser);
    const context = await browser.newContext({ javaScriptEnabled: false });
    contexts.push(context);
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    return { context, page: await context.newPage() };
  }

  async function signUpAndVerify(page: Page, email: string, name: string): Promise<void> {
    assert.ok(smtp);
    await page.goto(`${base}/signup`);
    await page.getByLabel('Name (optional)').fill(name);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor().catch(async (error: unknown) => {
      throw new Error(`sign-up did not succeed: ${await page.locator('main').innerText().catch(() => '?')}`, { cause: error });
    });

    const escapedBase = base.replace(/[.:/]/g, '\\$&');
    const link = (await smtp.waitFor(email, new RegExp(`${escapedBase}/verify-email\\?token=[A-Za-z0-9_%-]+`)))[0];
    await page.goto(link);
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await page.waitForURL(`${base}/login?notice=email-verified`);
  }

  async function signIn(page: Page, email: string): Promise<void> {
    if (!page.url().startsWith(`${base}/login`)) await page.goto(`${base}/login`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/account`);
  }

  it('sign up → confirm the mailed link → sign in → /account lists this device → sign out → /account asks to sign in (SEC-SESS-04, SEC-SESS-08)', { timeout: TEST_TIMEOUT_MS }, () => diagnosed(async () => {
    const { context, page } = await newPage();
    const email = 'ada@example.com';
    const name = 'Ada <script>alert(1)</script>';
    await signUpAndVerify(page, email, name);
    await page.getByText('Your email address is confirmed.').waitFor();

    await signIn(page, email);
    const session = (await context.cookies(base)).find((cookie) => cookie.name === SESSION_COOKIE);
    assert.ok(session, 'the browser accepted the __Host- session cookie on http://localhost');
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(session.path, '/');

    await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), name, 'the name round-trips as text, not markup');
    const sessions = page.locator('ul.sessions > li');
    assert.equal(await sessions.count(), 1);
    assert.match(await sessions.first().innerText(), /This device/);
    assert.match(await sessions.first().innerText(), /IP address: 127\.0\.0\.1/);
    assert.match(await page.locator('main').innerText(), /ada@example\.com — confirmed/);
    assert.equal(await page.locator('input[name="username"]').isHidden(), true, 'the password-manager username hint stays invisible');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${base}/login?notice=signed-out`);
    await page.getByText('You are signed out.').waitFor();
    assert.equal((await context.cookies(base)).find((cookie) => cookie.name === SESSION_COOKIE), undefined, 'the cookie is gone');

    await page.goto(`${base}/account`);
    assert.equal(page.url(), `${base}/login?return_to=%2Faccount`);

    // Replaying the copied cookie does not help: the session ended server-side.
    const replay = await fetch(`${base}/account`, { headers: { cookie: `${SESSION_COOKIE}=${session.value}` }, redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    assert.equal(replay.status, 303);
    assert.equal(replay.headers.get('location'), '/login?return_to=%2Faccount');
  }));

  it('SEC-ASVS-07: forms on another site cannot sign a browser in (login CSRF) or out (forced logout)', { timeout: TEST_TIMEOUT_MS }, () => diagnosed(async () => {
    const attacker = { email: 'mallory@example.com', password: PASSWORD };
    const victim = 'victim@example.com';
    const setup = await newPage();
    await signUpAndVerify(setup.page, attacker.email, 'Mallory');
    await signUpAndVerify(setup.page, victim, 'Victor');
    attackerSite = await startAttackerSite(base, attacker);
    const site = attackerSite;

    async function pressAttackerButton(page: Page, path: string, target: string): Promise<number> {
      await page.goto(`${site.origin}${path}`);
      const [response] = await Promise.all([page.waitForResponse(`${base}${target}`), page.click('#go')]);
      assert.equal((await response.request().allHeaders()).origin, site.origin, 'Chromium sent the attacker origin');
      return response.status();
    }
    const sessionCookie = async (context: BrowserContext) => (await context.cookies(base)).find((cookie) => cookie.name === SESSION_COOKIE);

    // A fresh visitor presses the attacker's button: no session in the attacker's account.
    const { context, page } = await newPage();
    assert.equal(await pressAttackerButton(page, '/login-csrf', '/login'), 403);
    assert.equal(await sessionCookie(context), undefined, 'no session was created');
    await page.goto(`${base}/account`);
    assert.equal(page.url(), `${base}/login?return_to=%2Faccount`);

    // A signed-in victim is neither switched to the attacker's account nor signed out.
    await signIn(page, victim);
    const before = await sessionCookie(context);
    assert.ok(before);
    assert.equal(await pressAttackerButton(page, '/login-csrf', '/login'), 403);
    assert.equal(await pressAttackerButton(page, '/logout-csrf', '/logout'), 403);
    await page.goto(`${base}/account`);
    assert.equal(page.url(), `${base}/account`, 'still signed in');
    assert.match(await page.locator('main').innerText(), /victim@example\.com/);
    assert.equal((await sessionCookie(context))?.value, before.value, 'the same session');
    assert.equal(await page.locator('ul.sessions > li').count(), 1);
  }));
});
