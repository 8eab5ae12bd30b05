/**
 * The SaaS example (examples/saas, issue 7) end to end: a real listening Gatehouse with the
 * example's clients, the example's API (Express 5 + the kit) and its third-party web app on
 * loopback, the mobile client's HTTP calls, and Chromium for "Log in with Gatehouse".
 *
 * Differences from `npm start -- --config examples/saas/gatehouse.config.json`: in-memory SQLite,
 * ports chosen at random (the web app's redirect URI follows its port), and a refresh reuse window
 * of 0 so a replayed refresh token is treated as theft at once instead of after 10 s.
 * No timing assertions except "refused within a second" (polled, bounded).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import type { Authenticator } from '../../packages/middleware/src/index.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { freePort } from '../support/oauth.ts';
import { bounded, chromiumSkip, diagnosed, launchChromium, listeningOidcApp } from '../support/oidc.ts';
import { API_AUDIENCE, createApi } from '../../examples/saas/api.ts';
import { createWebApp } from '../../examples/saas/webapp.ts';
import { GatehouseError, callApi, refresh, signIn, type MobileTokens } from '../../examples/saas/mobile.ts';

const WITHIN_MS = 1000;
const STEP_TIMEOUT_MS = 10_000;
const MOBILE = 'saas-mobile';
/** The example-only secrets documented in examples/saas/README.md. */
const API_SECRET = 'saas-api-example-secret-DO-NOT-USE-IN-PRODUCTION';
const REPORTS_SECRET = 'reports-app-example-secret-DO-NOT-USE-IN-PRODUCTION';

type ClientEntry = Record<string, unknown> & { client_id: string };
const exampleConfig = JSON.parse(readFileSync(new URL('../../examples/saas/gatehouse.config.json', import.meta.url), 'utf8')) as { clients: ClientEntry[] };
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** Polls `check` every 20 ms until true or `withinMs` passes. */
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function listen(app: { listen(port: number, host: string, done: () => void): Server }, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function rejectsWith(work: Promise<unknown>, error: string): Promise<void> {
  await assert.rejects(work, (thrown: unknown) => {
    assert.ok(thrown instanceof GatehouseError, String(thrown));
    assert.equal(thrown.error, error);
    return true;
  });
}

describe('examples/saas: mobile app, public API, admin route, third-party "Log in with Gatehouse"', { timeout: 120_000 }, () => {
  let t: TestApp | undefined;
  let base = '';
  let apiUrl = '';
  let webOrigin = '';
  let kit: Authenticator | undefined;
  let apiServer: Server | undefined;
  let webServer: Server | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  const user = { email: 'dana@example.com', cookie: '' };
  const admin = { email: 'ops@example.com', cookie: '' };

  before(async () => {
    // The example's clients, as declared; only the web app's redirect URI follows its test port.
    const webPort = await freePort();
    webOrigin = `http://127.0.0.1:${webPort}`;
    const clients = exampleConfig.clients.map((client) => (client.client_id === 'reports-app' ? { ...client, redirect_uris: [`${webOrigin}/callback`] } : client));
    ({ t, base } = await listeningOidcApp({ clients, env: { GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS: '0' } }));

    const api = createApi({ issuer: base, clientId: 'saas-api', clientSecret: API_SECRET });
    kit = api.gatehouse;
    await kit.ready();
    apiServer = await listen(api.app, 0);
    apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
    webServer = await listen(createWebApp({ issuer: base, clientId: 'reports-app', clientSecret: REPORTS_SECRET, baseUrl: webOrigin, apiUrl }), webPort);

    user.cookie = await registerAndSignIn(t, user.email);
    admin.cookie = await registerAndSignIn(t, admin.email);
    // What `gatehouse users create --admin` (or the admin API) does: give the operator the role.
    const users = createSqlUserStore(t.storage.database.db);
    const operator = await users.findByEmail(admin.email);
    assert.ok(operator);
    await users.setRoles(operator.id, ['admin'], Date.now());
  });

  after(async () => {
    await bounded(Promise.allSettled(contexts.map((context) => context.close())));
    await bounded(browser?.close());
    await bounded(closeServer(webServer));
    await bounded(closeServer(apiServer));
    await bounded(kit?.close());
    await bounded(t?.close());
  });

  it('the config declares its secrets only as hashes of the documented example secrets', () => {
    const byId = new Map(exampleConfig.clients.map((client) => [client.client_id, client]));
    assert.equal(byId.get('saas-api')?.client_secret_hash, sha256(API_SECRET));
    assert.equal(byId.get('reports-app')?.client_secret_hash, sha256(REPORTS_SECRET));
    assert.equal(byId.get(MOBILE)?.client_secret_hash, undefined, 'the mobile app is a public client');
    assert.ok(!JSON.stringify(exampleConfig).includes('DO-NOT-USE'), 'no plain secret in the file');
  });

  it('mobile: sign-in → API 200; a narrowed token → 403 insufficient_scope; non-admin → 403 on the admin route; admin → 200', () => diagnosed(t, async () => {
    const tokens = await signIn(base, MOBILE, user.email, PASSWORD);
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(decodeJwt(tokens.access_token).aud?.includes(API_AUDIENCE), 'the token names the API');

    const me = await callApi(apiUrl, '/me', tokens.access_token);
    assert.equal(me.status, 200);
    const principal = (await me.json()) as { subject: string; client: string; scopes: string[]; roles: string[] };
    assert.equal(principal.client, MOBILE);
    assert.ok(principal.scopes.includes('projects:write'));
    assert.equal((await callApi(apiUrl, '/projects', tokens.access_token, { method: 'POST', json: { name: 'Roadmap' } })).status, 201);
    const listed = await callApi(apiUrl, '/projects', tokens.access_token);
    assert.equal(listed.status, 200);
    assert.deepEqual(((await listed.json()) as { projects: { name: string }[] }).projects.map((project) => project.name), ['Roadmap']);

    const anonymous = await fetch(`${apiUrl}/projects`, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    assert.equal(anonymous.status, 401, 'no token');
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');

    // A read-only token (refresh may only narrow the scope): writing is refused.
    const readOnly = await refresh(base, MOBILE, tokens.refresh_token, 'projects:read');
    assert.equal(readOnly.scope, 'projects:read');
    assert.equal((await callApi(apiUrl, '/projects', readOnly.access_token)).status, 200);
    const denied = await callApi(apiUrl, '/projects', readOnly.access_token, { method: 'POST', json: { name: 'Nope' } });
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as { error: string }).error, 'insufficient_scope');
    assert.match(denied.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="projects:write"/);

    // The admin route: a user without the role is refused, the operator is let in.
    const notAdmin = await callApi(apiUrl, '/admin/users', readOnly.access_token);
    assert.equal(notAdmin.status, 403);
    assert.equal(((await notAdmin.json()) as { error: string }).error, 'insufficient_scope');
    const operator = await signIn(base, MOBILE, admin.email, PASSWORD);
    assert.deepEqual(decodeJwt(operator.access_token).roles, ['admin']);
    const adminPage = await callApi(apiUrl, '/admin/users', operator.access_token);
    assert.equal(adminPage.status, 200);
    const seen = ((await adminPage.json()) as { users: { subject: string }[] }).users.map((entry) => entry.subject);
    assert.ok(seen.includes(principal.subject), 'the admin sees the users who called the API');
  }));

  it('mobile: refresh rotates; replaying an old refresh token revokes the family, and the API refuses its access token within a second', () => diagnosed(t, async () => {
    const first = await signIn(base, MOBILE, user.email, PASSWORD);
    const second = await refresh(base, MOBILE, first.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token, 'a new refresh token');
    assert.notEqual(second.access_token, first.access_token);
    const third = await refresh(base, MOBILE, second.refresh_token);
    assert.equal((await callApi(apiUrl, '/me', third.access_token)).status, 200);
    assert.equal(decodeJwt(third.access_token).gid, decodeJwt(first.access_token).gid, 'one family (grant)');

    // An attacker (or a buggy client) presents a refresh token that was already rotated.
    await rejectsWith(refresh(base, MOBILE, first.refresh_token), 'invalid_grant');
    // The whole family is gone: the live refresh token too …
    await rejectsWith(refresh(base, MOBILE, third.refresh_token), 'invalid_grant');
    // … and the family's access tokens, at the API, through the kit's revocation stream.
    const refused = async (tokens: MobileTokens) => (await callApi(apiUrl, '/me', tokens.access_token)).status === 401;
    assert.ok(await eventually(() => refused(third), WITHIN_MS), 'the latest access token refused within a second');
    assert.ok(await refused(first), 'and the first one');
  }));

  it('a signed-out device session: its already-issued access token is refused by the API within a second', () => diagnosed(t, async () => {
    const phone = await signIn(base, MOBILE, user.email, PASSWORD);
    const other = await signIn(base, MOBILE, user.email, PASSWORD);
    assert.equal((await callApi(apiUrl, '/me', phone.access_token)).status, 200);
    // The user signs the phone out from the account page (the browser session's sessions API).
    const sid = String(decodeJwt(phone.access_token).sid);
    const signedOut = await fetch(`${base}/api/auth/sessions/${encodeURIComponent(sid)}`, { method: 'DELETE', headers: { cookie: user.cookie, origin: base }, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    assert.equal(signedOut.status, 204);
    assert.ok(await eventually(async () => (await callApi(apiUrl, '/me', phone.access_token)).status === 401, WITHIN_MS), 'refused within a second');
    const body = (await (await callApi(apiUrl, '/me', phone.access_token)).json()) as { error: string };
    assert.equal(body.error, 'invalid_token');
    await rejectsWith(refresh(base, MOBILE, phone.refresh_token), 'invalid_grant');
    assert.equal((await callApi(apiUrl, '/me', other.access_token)).status, 200, 'the other device is still signed in');
  }));

  it('third-party web app: "Log in with Gatehouse" (code + PKCE, Chromium) → the app shows the user and reads projects; writing is refused for lack of scope', { skip: chromiumSkip() }, () => diagnosed(t, async () => {
    assert.ok(t);
    const named = await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: { cookie: user.cookie, origin: base, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'Dana Scully' }) });
    assert.equal(named.statusCode, 200, named.body);

    browser = await launchChromium();
    const context = await browser.newContext({ javaScriptEnabled: false });
    contexts.push(context);
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();

    await page.goto(`${webOrigin}/`);
    await page.getByRole('link', { name: 'Log in with Gatehouse' }).click();
    // At Gatehouse: no session in this browser, so the hosted sign-in page.
    await page.waitForURL(new RegExp(`^${base}/login\\?return_to=`));
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A third-party app: Gatehouse asks the user.
    await page.getByRole('heading', { name: /Allow Acme Reports/ }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back at the app, signed in, with the user's projects read from the API.
    await page.waitForURL(`${webOrigin}/`);
    assert.equal(await page.locator('#user').innerText(), `Signed in as Dana Scully <${user.email}>`);
    assert.equal(await page.locator('#api-status').innerText(), 'API answered 200');
    assert.match(await page.locator('main').innerText(), /Roadmap/, 'the project the mobile app created');

    // The app was granted projects:read only.
    await page.getByRole('button', { name: 'Add a project' }).click();
    await page.waitForURL(`${webOrigin}/?notice=**`);
    assert.equal(await page.getByRole('status').innerText(), 'The API refused: 403 insufficient_scope');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Log in with Gatehouse' }).waitFor();
  }));
});
