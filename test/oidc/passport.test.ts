/**
 * Gatehouse behind the most common Node.js integration: a small Express 5 app with passport and
 * passport-oauth2, configured the way tutorials show it (`authorizationURL`, `tokenURL`,
 * `clientID`, `clientSecret`, `callbackURL`, `scope`, `pkce: true`, `state: true`), fetching the
 * profile from /oauth/userinfo in `userProfile`. passport-oauth2 keeps the PKCE verifier and
 * state in `req.session` (express-session); that package is not installed here, so the app
 * passes the strategy's documented `store` option: a minimal in-memory store whose entries are
 * bound to the browser by a cookie. Chromium clicks through the hosted sign-in and consent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import passport from 'passport';
import OAuth2Strategy from 'passport-oauth2';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { bounded, chromiumSkip, diagnosed, launchChromium, listeningOidcApp, OIDC_SCOPES, oidcClients } from '../support/oidc.ts';

const TEST_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 10_000;
const CLIENT_SECRET = 'tutorial-secret-00112233445566778899aabbccddeeff';
const skip = chromiumSkip();

interface Profile {
  sub: string;
  email?: string;
  name?: string;
  [claim: string]: unknown;
}

/**
 * passport-oauth2's state store interface (`store(req, verifier, state, meta, cb)` and
 * `verify(req, providedState, cb)`), in memory, each entry bound to the browser that started the
 * login by a cookie — what the session-backed PKCESessionStore does with express-session.
 */
function memoryStateStore() {
  const pending = new Map<string, { verifier: string; state: unknown }>();
  const cookieName = 'rp_oauth_state';
  const readCookie = (req: Request) => /(?:^|;\s*)rp_oauth_state=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
  return {
    pending,
    store(req: Request, verifier: string, state: unknown, _meta: unknown, callback: (error: Error | null, handle?: string) => void): void {
      const handle = randomBytes(24).toString('base64url');
      pending.set(handle, { verifier, state });
      req.res?.cookie(cookieName, handle, { httpOnly: true, sameSite: 'lax', path: '/' });
      callback(null, handle);
    },
    verify(req: Request, providedState: string, callback: (error: Error | null, ok: string | false, state?: unknown) => void): void {
      const bound = readCookie(req);
      const entry = typeof providedState === 'string' ? pending.get(providedState) : undefined;
      if (!entry || bound !== providedState) return callback(null, false, { message: 'Invalid authorization request state.' });
      pending.delete(providedState);
      req.res?.clearCookie(cookieName, { path: '/' });
      callback(null, entry.verifier, entry.state);
    },
  };
}

describe('passport-oauth2 in an Express 5 app, as tutorials configure it (SEC-OIDF-02, SEC-OAUTH-06, SEC-OAUTH-30)', { skip, timeout: TEST_TIMEOUT_MS * 3 }, () => {
  let t: TestApp | undefined;
  let base = '';
  let rpServer: Server | undefined;
  let rpOrigin = '';
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const tokenResponses: Record<string, unknown>[] = [];
  const store = memoryStateStore();

  before(async () => {
    // The Express app listens first (its port is part of the registered redirect URI); routes come after.
    const rp = express();
    rpServer = await new Promise<Server>((resolve) => {
      const server = rp.listen(0, '127.0.0.1', () => resolve(server));
    });
    rpOrigin = `http://127.0.0.1:${(rpServer.address() as AddressInfo).port}`;

    ({ t, base } = await listeningOidcApp({
      clients: oidcClients([
        {
          client_id: 'tutorial',
          name: 'Tutorial App',
          type: 'confidential',
          // passport-oauth2 (node-oauth) sends client_id and client_secret in the body.
          token_endpoint_auth_method: 'client_secret_post',
          client_secret_hash: createHash('sha256').update(CLIENT_SECRET).digest('base64url'),
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: [`${rpOrigin}/auth/gatehouse/callback`],
          scopes: OIDC_SCOPES,
          audiences: [],
        },
      ]),
    }));

    // --- the tutorial app ---
    const authenticator = new passport.Passport();
    const strategy = new OAuth2Strategy(
      {
        authorizationURL: `${base}/oauth/authorize`,
        tokenURL: `${base}/oauth/token`,
        clientID: 'tutorial',
        clientSecret: CLIENT_SECRET,
        callbackURL: `${rpOrigin}/auth/gatehouse/callback`,
        scope: ['openid', 'profile', 'email'],
        pkce: true,
        state: true,
        store: store as unknown as OAuth2Strategy.StateStore,
      },
      (accessToken: string, _refreshToken: string, params: Record<string, unknown>, profile: Profile, done: (error: Error | null, user?: Express.User) => void) => {
        tokenResponses.push({ ...params, access_token: accessToken });
        done(null, { profile } as Express.User);
      },
    );
    // The profile comes from the OpenID Connect userinfo endpoint (RFC 6750 bearer header).
    strategy.userProfile = function userProfile(accessToken: string, done: (error: Error | null, profile?: unknown) => void): void {
      const oauth2 = (this as unknown as { _oauth2: { useAuthorizationHeaderforGET(use: boolean): void; get(url: string, token: string, callback: (error: unknown, body?: string | Buffer) => void): void } })._oauth2;
      oauth2.useAuthorizationHeaderforGET(true);
      oauth2.get(`${base}/oauth/userinfo`, accessToken, (error, body) => {
        if (error) return done(new Error(`userinfo failed: ${JSON.stringify(error)}`));
        try {
          done(null, JSON.parse(String(body)));
        } catch (parseError) {
          done(parseError as Error);
        }
      });
    };
    authenticator.use('gatehouse', strategy);
    rp.use(authenticator.initialize());
    rp.get('/', (_req, res) => void res.send('<!doctype html><title>Tutorial</title><a href="/auth/gatehouse">Sign in with Gatehouse</a>'));
    rp.get('/auth/gatehouse', authenticator.authenticate('gatehouse', { session: false }));
    rp.get('/auth/gatehouse/callback', authenticator.authenticate('gatehouse', { session: false, failureRedirect: '/login-failed' }), (req, res) => {
      const profile = (req.user as { profile: Profile }).profile;
      res.type('html').send(`<!doctype html><title>Profile</title><h1>Hello</h1><pre id="profile">${JSON.stringify(profile).replace(/</g, '\\u003c')}</pre>`);
    });
    rp.get('/login-failed', (_req, res) => void res.status(401).send('<!doctype html><title>Failed</title><h1>Sign-in failed</h1>'));
    // Errors in the app (for example a failed token request) are shown, not swallowed.
    rp.use((error: Error, _req: Request, res: express.Response, _next: express.NextFunction) => void res.status(500).type('text').send(`RP error: ${error.message}`));

    browser = await launchChromium();
  });

  after(async () => {
    await bounded(Promise.allSettled(contexts.map((context) => context.close())));
    await bounded(browser?.close());
    await bounded(new Promise<void>((resolve) => {
      rpServer?.closeAllConnections();
      rpServer ? rpServer.close(() => resolve()) : resolve();
    }));
    await bounded(t?.close());
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    assert.ok(browser);
    const context = await browser.newContext({ javaScriptEnabled: false });
    contexts.push(context);
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    return { context, page: await context.newPage() };
  }

  async function signInOnHostedPage(page: Page, email: string): Promise<void> {
    await page.goto(`${rpOrigin}/`);
    await page.getByRole('link', { name: 'Sign in with Gatehouse' }).click();
    await page.waitForURL(`${base}/login?**`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Allow Tutorial App/ }).waitFor();
  }

  it('sign in with Gatehouse → hosted login → consent → the app shows the userinfo profile', { timeout: TEST_TIMEOUT_MS }, () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'passport-user@example.com';
    const cookie = await registerAndSignIn(t, email);
    const named = await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: { cookie, origin: base, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'Grace Hopper' }) });
    assert.equal(named.statusCode, 200, named.body);

    const { page } = await newPage();
    // The authorization request passport built: PKCE S256 and a state it stored.
    const [request] = await Promise.all([page.waitForRequest((item) => item.url().startsWith(`${base}/oauth/authorize`)), signInOnHostedPage(page, email)]);
    const sent = new URL(request.url()).searchParams;
    assert.equal(sent.get('code_challenge_method'), 'S256');
    assert.equal(sent.get('response_type'), 'code');
    assert.ok(store.pending.has(sent.get('state') ?? ''), 'passport stored the state it sent');

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpOrigin}/auth/gatehouse/callback?**`);
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /RP error/, text);
    const profile = JSON.parse(await page.locator('#profile').innerText()) as Profile;
    assert.equal(profile.email, email);
    assert.equal(profile.email_verified, true);
    assert.equal(profile.name, 'Grace Hopper');
    assert.match(profile.sub, /\S/);
    assert.equal(store.pending.size, 0, 'the state was used once');

    const params = tokenResponses.at(-1);
    assert.ok(params);
    assert.equal(String(params.token_type).toLowerCase(), 'bearer');
    assert.equal(typeof params.id_token, 'string', 'the token response carried an ID token');
    assert.equal(params.scope, 'openid profile email');
    // jose, as a resource server or the app would: both tokens verify against the published JWKS.
    const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), { timeoutDuration: STEP_TIMEOUT_MS });
    const id = await jwtVerify(String(params.id_token), jwks, { issuer: base, audience: 'tutorial', typ: 'JWT', requiredClaims: ['sub', 'iat', 'exp'] });
    assert.equal(id.payload.sub, profile.sub);
    const access = await jwtVerify(String(params.access_token), jwks, { issuer: base, audience: base, typ: 'at+jwt', requiredClaims: ['sub', 'jti', 'client_id', 'scope'] });
    assert.equal(access.payload.sub, profile.sub);
    assert.equal(access.payload.client_id, 'tutorial');
  }));

  it('SEC-OAUTH-30: the user presses Deny → access_denied → passport fails the login, no profile', { timeout: TEST_TIMEOUT_MS }, () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'passport-denier@example.com';
    await registerAndSignIn(t, email);
    const before = tokenResponses.length;
    const { page } = await newPage();
    await signInOnHostedPage(page, email);
    const [callback] = await Promise.all([page.waitForRequest((item) => item.url().startsWith(`${rpOrigin}/auth/gatehouse/callback`)), page.getByRole('button', { name: 'Deny' }).click()]);
    const answer = new URL(callback.url()).searchParams;
    assert.equal(answer.get('error'), 'access_denied');
    assert.equal(answer.get('iss'), base);
    assert.equal(answer.get('code'), null);
    await page.waitForURL(`${rpOrigin}/login-failed`);
    assert.equal(tokenResponses.length, before, 'no token request was made');
  }));
});
