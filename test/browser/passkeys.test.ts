/**
 * Passkeys in Debian's Chromium with Chrome's virtual authenticator (CDP WebAuthn domain, through
 * playwright-core): registration on /account/mfa, passwordless sign-in from /login, a passkey as
 * the second factor after the password; an assertion checked against another RP ID / origin, a
 * tampered clientDataJSON, a replayed assertion and a cloned authenticator (counter going back)
 * are refused, the clone audited. Gatehouse runs in-process on http://localhost (a secure context).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import type { TestApp } from '../support/app.ts';
import { linkToken, postJSON, registerAndSignIn } from '../support/auth.ts';
import { bounded, chromiumSkip, diagnosed, launchChromium, listeningOidcApp } from '../support/oidc.ts';
import { createPasskeys, relyingPartyOf } from '../../src/features/mfa/passkeys.ts';
import { createSqlMfaStore } from '../../src/features/mfa/store.ts';
import { PASSWORD } from '../support/auth.ts';

const STEP = 15_000;

interface AuditRow { type: string; outcome: string; detail: string }

describe('passkeys in Chromium (virtual authenticator)', { skip: chromiumSkip(), timeout: 240_000 }, () => {
  let t: TestApp;
  let base = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId = '';
  const email = 'passkey@example.com';

  async function audit(type: string): Promise<AuditRow[]> {
    return (await t.storage.database.db.selectFrom('audit_events').select(['type', 'outcome', 'detail']).where('type', '=', type).orderBy('at').execute()) as AuditRow[];
  }
  const lastSignIn = async () => JSON.parse((await audit('sign-in')).filter((row) => row.outcome === 'success').at(-1)!.detail) as { method: string; mode?: string };

  /** Loads /login without the passkey glue (else the conditional request, which the virtual authenticator answers at once, signs in first). */
  async function loginPageWithoutPasskeys(): Promise<void> {
    await page.route('**/assets/passkeys.js', (route) => route.abort());
    await page.goto(`${base}/login`);
    await page.unroute('**/assets/passkeys.js');
  }

  async function signInWithPassword(): Promise<void> {
    await loginPageWithoutPasskeys();
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
  }

  /**
   * Opens the sign-in page: its conditional-mediation request (passkeys in the email field's
   * autofill) is answered by the virtual authenticator and the page posts it. Resolves with the
   * posted form body; `pass` decides whether it reaches the server.
   */
  async function capturePasswordless(pass: boolean): Promise<string> {
    let body = '';
    const seen = new Promise<void>((resolve) => {
      void page.route('**/login/passkey', async (route) => {
        body = route.request().postData() ?? '';
        resolve();
        if (pass) await route.continue();
        else await route.abort();
      });
    });
    await page.goto(`${base}/login`);
    await seen;
    await page.unroute('**/login/passkey');
    return body;
  }

  /** Posts a form body to /login/passkey with this browser's cookies and a fresh CSRF token. */
  async function postPasswordless(body: string): Promise<{ status: number; text: string; location: string | undefined }> {
    await loginPageWithoutPasskeys();
    const csrf = await page.getAttribute('form[action="/login"] input[name=csrf]', 'value');
    const fields = new URLSearchParams(body);
    fields.set('csrf', csrf!);
    const response = await page.request.post(`${base}/login/passkey`, { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base }, data: fields.toString(), maxRedirects: 0 });
    return { status: response.status(), text: await response.text(), location: response.headers().location };
  }

  function credentialOf(body: string): { id: string; response: { clientDataJSON: string } } {
    return JSON.parse(new URLSearchParams(body).get('credential')!);
  }

  before(async () => {
    ({ t, base } = await listeningOidcApp());
    await registerAndSignIn(t, email);
    browser = await launchChromium();
    context = await browser.newContext();
    context.setDefaultTimeout(STEP);
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true } }));
  });
  after(async () => {
    await bounded(browser?.close());
    await bounded(t?.close());
  });

  it('registers a passkey on /account/mfa (attestation none, discoverable), listed with its name; recovery codes with the first factor', () => diagnosed(t, async () => {
    await signInWithPassword();
    await page.goto(`${base}/account/mfa`);
    await Promise.all([page.waitForNavigation(), page.click('text=Add a passkey')]);
    await page.fill('#passkey-name', 'Laptop');
    await Promise.all([page.waitForNavigation(), page.click('text=Create the passkey')]);
    assert.match(await page.textContent('h1') ?? '', /Passkey added/);
    assert.equal((await page.$$eval('pre.recovery-codes', (nodes) => nodes.length)), 1);
    await page.goto(`${base}/account/mfa`);
    const list = await page.textContent('ul.sessions');
    assert.match(list ?? '', /Laptop/);
    assert.match(list ?? '', /Passkey/);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]!.isResidentCredential, true, 'a discoverable credential');
    assert.equal(credentials[0]!.rpId, 'localhost', 'RP ID = the public URL hostname');
    assert.ok((await audit('mfa-enrolled')).some((row) => row.outcome === 'success' && /"kind":"passkey"/.test(row.detail)));
    assert.ok(t.mails.some((mail) => mail.to === email && /passkey was added/i.test(mail.subject)));
  }));

  it('signs in passwordless from the sign-in page (conditional UI: the email field offers the passkey): amr hwk user mfa', () => diagnosed(t, async () => {
    await context.clearCookies();
    await capturePasswordless(true);
    await page.waitForURL(`${base}/account`);
    const signIn = await lastSignIn();
    assert.equal(signIn.mode, 'passwordless');
    assert.deepEqual(signIn.method.split(' ').sort(), ['hwk', 'mfa', 'user']);
  }));

  it('uses the passkey as the second factor after the password: amr pwd hwk user mfa', () => diagnosed(t, async () => {
    await context.clearCookies();
    await signInWithPassword();
    assert.match(page.url(), /\/login\/mfa/);
    await Promise.all([page.waitForURL(`${base}/account`), page.click('text=Use your passkey')]);
    assert.deepEqual((await lastSignIn()).method.split(' ').sort(), ['hwk', 'mfa', 'pwd', 'user']);
  }));

  it('refuses an assertion for another RP ID / origin and a tampered clientDataJSON; the genuine one works once, its replay is refused', () => diagnosed(t, async () => {
    await context.clearCookies();
    const body = await capturePasswordless(false);
    const credential = credentialOf(body);
    const challenge = JSON.parse(Buffer.from(credential.response.clientDataJSON, 'base64url').toString('utf8')).challenge as string;
    const key = `mfa:webauthn:${challenge}`;
    const ceremony = await t.storage.ephemeral.get(key);
    assert.ok(ceremony, 'the challenge is stored, unused');
    const binding = (await context.cookies(base)).find((cookie) => cookie.name === '__Host-gatehouse-webauthn')!.value;
    const restore = () => t.storage.ephemeral.set(key, ceremony, 60_000);

    // The same assertion, checked by a server whose public URL is another host: wrong RP ID and origin.
    const store = createSqlMfaStore(t.storage.database.db);
    const other = createPasskeys({ store, ephemeral: t.storage.ephemeral, rp: relyingPartyOf('https://other.example') });
    const otherOutcome = await other.verifyAssertion('passwordless', binding, credential as never, Date.now());
    assert.ok('refused' in otherOutcome && otherOutcome.refused && !otherOutcome.clone);
    // Only the origin changed in clientDataJSON: refused.
    await restore();
    const client = JSON.parse(Buffer.from(credential.response.clientDataJSON, 'base64url').toString('utf8'));
    const tampered = { ...credential, response: { ...credential.response, clientDataJSON: Buffer.from(JSON.stringify({ ...client, origin: 'https://evil.example' })).toString('base64url') } };
    const forged = new URLSearchParams(body);
    forged.set('credential', JSON.stringify(tampered));
    const tamperedAnswer = await postPasswordless(forged.toString());
    assert.equal(tamperedAnswer.status, 401, tamperedAnswer.text);
    // The genuine assertion is good (so the refusals above were about RP ID and origin) — once.
    await restore();
    const genuine = await postPasswordless(body);
    assert.equal(genuine.status, 303, genuine.text);
    assert.equal(genuine.location, '/account');
    const replay = await postPasswordless(body);
    assert.equal(replay.status, 401, 'a replayed assertion is refused');
    assert.match(replay.text, /could not be verified/);
  }));

  /** Runs `fetch` in the page (same origin, the browser's cookies): the JSON API as a first-party web app calls it. */
  async function pageFetch(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    return page.evaluate(async ({ path, body }) => {
      const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
      return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
    }, { path, body });
  }

  /** navigator.credentials.get in the page through @simplewebauthn/browser (the bundle the sign-in page loads). */
  async function pageAssertion(optionsJSON: unknown): Promise<unknown> {
    return page.evaluate(async (optionsJSON) => {
      // The UMD bundle's global (the test tsconfig has no DOM types).
      const lib = (globalThis as unknown as { SimpleWebAuthnBrowser: { startAuthentication(input: { optionsJSON: unknown }): Promise<unknown> } }).SimpleWebAuthnBrowser;
      return lib.startAuthentication({ optionsJSON });
    }, optionsJSON);
  }

  it('the JSON API from the page (fetch + navigator.credentials): passwordless sign-in, then the passkey as the second step after the password', () => diagnosed(t, async () => {
    await context.clearCookies();
    await loginPageWithoutPasskeys();
    const started = await pageFetch('/api/auth/sign-in/passkey/options', {});
    assert.equal(started.status, 200, JSON.stringify(started.json));
    const signedIn = await pageFetch('/api/auth/sign-in/passkey', { credential: await pageAssertion(started.json.options) });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.json));
    assert.equal((signedIn.json.user as { email: string }).email, email);
    assert.ok((await context.cookies(base)).some((cookie) => cookie.name === '__Host-gatehouse'), 'a session cookie');
    assert.deepEqual((await lastSignIn()).method.split(' ').sort(), ['hwk', 'mfa', 'user']);

    await context.clearCookies();
    await loginPageWithoutPasskeys();
    const first = await pageFetch('/api/auth/sign-in', { email, password: PASSWORD });
    assert.equal(first.status, 401);
    assert.equal(first.json.error, 'mfa_required');
    const options = await pageFetch(first.json.passkey_options as string, {});
    assert.equal(options.status, 200, JSON.stringify(options.json));
    const done = await pageFetch('/api/auth/mfa/verify', { method: 'passkey', credential: await pageAssertion(options.json.options) });
    assert.equal(done.status, 200, JSON.stringify(done.json));
    assert.deepEqual((await lastSignIn()).method.split(' ').sort(), ['hwk', 'mfa', 'pwd', 'user']);
  }));

  it('refuses a cloned authenticator (signature counter going back) and audits it', () => diagnosed(t, async () => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const original = credentials[0]!;
    assert.ok(original.signCount >= 3, `the counter moved with each use (${original.signCount})`);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    const { authenticatorId: cloneId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true } });
    await cdp.send('WebAuthn.addCredential', { authenticatorId: cloneId, credential: { ...original, signCount: 1 } });
    await context.clearCookies();
    await capturePasswordless(true);
    await page.waitForLoadState();
    assert.match(await page.textContent('.alert') ?? '', /could not be verified/);
    assert.equal((await context.cookies(base)).some((cookie) => cookie.name === '__Host-gatehouse'), false, 'no session');
    const clones = (await audit('mfa-challenge')).filter((row) => row.outcome === 'failure' && /cloned authenticator/.test(row.detail));
    assert.equal(clones.length, 1);
  }));
});

describe('required enrolment with a passkey in Chromium (virtual authenticator)', { skip: chromiumSkip(), timeout: 240_000 }, () => {
  let t: TestApp;
  let base = '';
  let browser: Browser;
  let page: Page;
  const email = 'enrol-passkey-chromium@example.com';

  before(async () => {
    ({ t, base } = await listeningOidcApp({ env: { GATEHOUSE_MFA_REQUIRED_FOR_ALL: 'true' } }));
    assert.equal((await postJSON(t, '/api/auth/sign-up', { email, password: PASSWORD })).statusCode, 202);
    assert.equal((await postJSON(t, '/api/auth/verify-email', { token: linkToken(t, email, '/verify-email') })).statusCode, 200);
    browser = await launchChromium();
    const context = await browser.newContext();
    context.setDefaultTimeout(STEP);
    page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true } });
  });
  after(async () => {
    await bounded(browser?.close());
    await bounded(t?.close());
  });

  it('after the password, /login/mfa offers a passkey next to the app; creating it completes the sign-in (amr pwd hwk user mfa)', () => diagnosed(t, async () => {
    // The sign-in page without its passkey glue: only the password form is used here.
    await page.route('**/assets/passkeys.js', (route) => route.abort());
    await page.goto(`${base}/login`);
    await page.unroute('**/assets/passkeys.js');
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
    assert.match(page.url(), /\/login\/mfa/);
    assert.match(await page.textContent('h1') ?? '', /Set up two-step verification/);
    await page.fill('#passkey-name', 'This laptop');
    await Promise.all([page.waitForNavigation(), page.click('text=Create the passkey')]);
    assert.match(await page.textContent('h1') ?? '', /Two-step verification is on/);
    assert.equal(await page.$$eval('pre.recovery-codes', (nodes) => nodes.length), 1);
    const rows = await t.storage.database.db.selectFrom('audit_events').select(['outcome', 'detail']).where('type', '=', 'sign-in').orderBy('at').execute();
    const method = (JSON.parse(String(rows.filter((row) => row.outcome === 'success').at(-1)!.detail)) as { method: string }).method;
    assert.deepEqual(method.split(' ').sort(), ['hwk', 'mfa', 'pwd', 'user']);
    await page.goto(`${base}/account/mfa`);
    assert.match(await page.textContent('main') ?? await page.content(), /This laptop/);
  }));
});
