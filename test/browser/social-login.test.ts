/**
 * Social login in Debian's Chromium (playwright-core, no downloaded browser): Gatehouse on
 * http://localhost:<port>, oidc-provider as "Google" and a scripted OpenID provider on
 * 127.0.0.1. The browser clicks "Continue with Google", signs in at the upstream's own page and
 * comes back. Covers: first sign-in creates the user, the second opens the same one, an email
 * collision asks for the password, and a tampered state, a callback from another browser, a
 * replayed callback, an ID token for another audience and a wrong nonce end on an error page
 * with no session. The in-process suite (test/social/login.test.ts) covers every variant.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createOidcApp, bounded, chromiumSkip, launchChromium } from '../support/oidc.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn, PASSWORD } from '../support/auth.ts';
import { freePort } from '../support/oauth.ts';
import { startGoogleLike, type GoogleLike } from '../support/upstream/google.ts';
import { startScriptedIdp, type ScriptedIdp } from '../support/upstream/scripted-idp.ts';

const skip = chromiumSkip();
const SECRET = 'browser-upstream-secret';
const STEP_MS = 15_000;


describe('social login in Chromium', { skip, timeout: 180_000 }, () => {
  let google: GoogleLike | undefined;
  let mock: ScriptedIdp | undefined;
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  let base = '';
  const contexts: BrowserContext[] = [];

  before(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    google = await startGoogleLike({ clients: [{ client_id: 'gatehouse', client_secret: SECRET, redirect_uris: [`${base}/login/social/google/callback`] }] });
    mock = await startScriptedIdp({ mode: 'oidc', client_id: 'gatehouse', client_secret: SECRET, redirect_uri: `${base}/login/social/mock/callback` });
    t = await createOidcApp({
      env: {
        GATEHOUSE_PUBLIC_URL: base,
        UPSTREAM_SECRET: SECRET,
        GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify([
          { id: 'google', preset: 'google', issuer: google.issuer, client_id: 'gatehouse', client_secret_env: 'UPSTREAM_SECRET' },
          { id: 'mock', type: 'oidc', name: 'Mock', issuer: mock.issuer, client_id: 'gatehouse', client_secret_env: 'UPSTREAM_SECRET' },
        ]),
      },
    });
    await t.app.listen({ port, host: 'localhost' });
    browser = await launchChromium();
  });

  after(async () => {
    for (const context of contexts) await bounded(context.close());
    await bounded(browser?.close());
    await bounded(t?.close());
    await bounded(google?.close());
    await bounded(mock?.close());
  });

  async function newPage(): Promise<Page> {
    const context = await browser!.newContext({ javaScriptEnabled: false });
    context.setDefaultTimeout(STEP_MS);
    contexts.push(context);
    return context.newPage();
  }

  async function sessionEmail(page: Page): Promise<string | undefined> {
    const response = await page.context().request.get(`${base}/api/auth/session`);
    if (response.status() !== 200) return undefined;
    return ((await response.json()) as { user: { email: string } }).user.email;
  }

  /** Clicks "Continue with Google" on /login and signs in at the upstream's page as `accountId`. */
  async function googleSignIn(page: Page, accountId: string): Promise<void> {
    await page.goto(`${base}/login`);
    await page.click('text=Continue with Google');
    await page.waitForURL(`${google!.issuer}/**`);
    await page.fill('#login', accountId);
    await page.click('#signin');
    await page.waitForURL(`${base}/**`);
  }

  it('the first sign-in creates the user; the second opens the same one', async () => {
    google!.accounts.set('amy', { email: 'amy@gmail.test', email_verified: true, name: 'Amy' });
    const first = await newPage();
    await googleSignIn(first, 'amy');
    assert.equal(new URL(first.url()).pathname, '/account');
    assert.match(await first.content(), /amy@gmail\.test/);
    assert.match(await first.content(), /Ways to sign in/);
    const second = await newPage();
    await googleSignIn(second, 'amy');
    assert.equal(await sessionEmail(second), 'amy@gmail.test');
    const rows = await t!.storage.database.db.selectFrom('users').select('id').where('email', '=', 'amy@gmail.test').execute();
    assert.equal(rows.length, 1, 'one user');
  });

  it('an email collision links only after the account’s password', async () => {
    await registerAndSignIn(t!, 'ben@example.com');
    google!.accounts.set('ben', { email: 'ben@example.com', email_verified: true });
    const page = await newPage();
    await googleSignIn(page, 'ben');
    assert.equal(new URL(page.url()).pathname, '/login/social/link');
    assert.equal(await sessionEmail(page), undefined, 'no session before the proof');
    await page.fill('#password', PASSWORD);
    await page.click('text=Sign in and link');
    await page.waitForURL(`${base}/account`);
    assert.equal(await sessionEmail(page), 'ben@example.com');
  });

  it('a tampered state, a callback in another browser and a replayed callback end on an error page', async () => {
    google!.accounts.set('cid', { email: 'cid@gmail.test', email_verified: true });
    const page = await newPage();
    // This browser starts; the upstream sign-in is done headlessly so the callback can be held.
    const begun = await page.context().request.get(`${base}/login/social/google`, { maxRedirects: 0 });
    assert.equal(begun.status(), 303);
    const callback = (await google!.signInHeadless(String(begun.headers().location), 'cid')).href;

    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'attacker-chosen-state');
    const refused = await page.goto(tampered.href);
    assert.equal(refused?.status(), 400);
    assert.match(await page.content(), /expired or was already used/);

    const other = await newPage();
    const elsewhere = await other.goto(callback);
    assert.equal(elsewhere?.status(), 400, 'another browser');
    assert.match(await other.content(), /started in another browser/);
    assert.equal(await sessionEmail(other), undefined);

    const replay = await page.goto(callback);
    assert.equal(replay?.status(), 400, 'the callback worked once (consumed by the other browser’s attempt)');
    assert.equal(await sessionEmail(page), undefined);
  });

  for (const tamper of ['wrong-aud', 'wrong-nonce'] as const) {
    it(`an ID token with ${tamper} is refused with a clear page`, async () => {
      mock!.nextIdentity = { sub: `m-${tamper}`, email: `${tamper}@mock.test`, email_verified: true };
      mock!.tamper = tamper;
      const page = await newPage();
      await page.goto(`${base}/login`);
      await page.click('text=Continue with Mock');
      await page.waitForURL(`${base}/login/social/mock/callback**`);
      assert.match(await page.content(), /could not be verified/);
      assert.equal(await sessionEmail(page), undefined);
    });
  }
});
