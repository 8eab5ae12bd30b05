/**
 * Gatehouse as an OpenID Provider for a real, certified relying-party library: openid-client 6
 * (discovery → authorization URL with PKCE S256, state and nonce → Chromium signs in on the hosted
 * /login page and consents → the code lands on a loopback callback server → code grant with ID
 * token validation → userinfo → refresh → revocation → introspection → RP-initiated logout).
 * Independently of openid-client, `jose` verifies every ID token and access token against the
 * published JWKS, as a resource server would.
 *
 * The browser uses http://localhost (a secure context: the `__Host-` cookies work over plain
 * HTTP), JavaScript off — the hosted pages must work without it. The relying party lives on
 * http://127.0.0.1:<port>, another site.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { bounded, chromiumSkip, diagnosed, launchChromium, listeningOidcApp, OIDC_SCOPES, oidcClients, startCallbackServer, type CallbackServer } from '../support/oidc.ts';

const TEST_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 10_000;
const RP_SECRET = 'rp-secret-a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SESSION_COOKIE = '__Host-gatehouse';
const skip = chromiumSkip();

describe('openid-client 6 + Chromium against Gatehouse (SEC-OIDF-02, SEC-OIDF-05, SEC-OIDF-13, SEC-OIDF-16)', { skip, timeout: TEST_TIMEOUT_MS * 2 }, () => {
  let t: TestApp | undefined;
  let base = '';
  let rp: CallbackServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  before(async () => {
    rp = await startCallbackServer();
    const { createHash } = await import('node:crypto');
    const rpClient = {
      client_id: 'rp',
      name: 'Relying Party',
      type: 'confidential',
      // openid-client's default with a string secret is client_secret_post (Basic OP variant oidcc-server-client-secret-post).
      token_endpoint_auth_method: 'client_secret_post',
      client_secret_hash: createHash('sha256').update(RP_SECRET).digest('base64url'),
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [`${rp.origin}/cb`],
      post_logout_redirect_uris: [`${rp.origin}/logged-out`],
      scopes: OIDC_SCOPES,
      audiences: [],
    };
    ({ t, base } = await listeningOidcApp({ clients: oidcClients([rpClient]) }));
    jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), { timeoutDuration: STEP_TIMEOUT_MS });
    browser = await launchChromium();
  });

  after(async () => {
    await bounded(Promise.allSettled(contexts.map((context) => context.close())));
    await bounded(browser?.close());
    await bounded(rp?.close());
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

  async function discover(): Promise<client.Configuration> {
    return client.discovery(new URL(base), 'rp', RP_SECRET, undefined, { execute: [client.allowInsecureRequests], timeout: STEP_TIMEOUT_MS / 1000 });
  }

  /** jose, independently of openid-client: an ID token of ours for `rp`. */
  async function verifyIdToken(token: string): Promise<JWTPayload> {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: base, audience: 'rp', typ: 'JWT', requiredClaims: ['sub', 'iat', 'exp', 'auth_time'] });
    assert.equal(typeof protectedHeader.kid, 'string', 'ID token header has a kid');
    assert.notEqual(protectedHeader.typ, 'at+jwt');
    return payload;
  }

  /** jose: an RFC 9068 access token of ours, usable at the userinfo endpoint (aud names the issuer). */
  async function verifyAccessToken(token: string): Promise<JWTPayload> {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: base, audience: base, typ: 'at+jwt', requiredClaims: ['sub', 'iat', 'exp', 'jti', 'client_id', 'scope'] });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(typeof protectedHeader.kid, 'string');
    assert.equal(payload.client_id, 'rp');
    return payload;
  }

  it('discovery → code + PKCE S256 in Chromium (hosted /login, consent) → token + ID token → userinfo → refresh → revocation → introspection → end-session', { timeout: TEST_TIMEOUT_MS }, () => diagnosed(t, async () => {
    assert.ok(t && rp);
    const email = 'oc-user@example.com';
    const cookie = await registerAndSignIn(t, email);
    const named = await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: { cookie, origin: base, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'Ada Lovelace' }) });
    assert.equal(named.statusCode, 200, named.body);

    // Discovery (openid-client checks issuer == the URL it asked, among others).
    const config = await discover();
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, base);
    assert.ok(config.serverMetadata().supportsPKCE('S256'));

    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(config, { redirect_uri: `${rp.origin}/cb`, scope: 'openid profile email', code_challenge: challenge, code_challenge_method: 'S256', state, nonce });

    // Chromium: the authorization request sends a browser without a session to the hosted /login.
    const { context, page } = await newPage();
    await page.goto(authorizationUrl.href);
    assert.match(page.url(), new RegExp(`^${base}/login\\?return_to=`), 'sign-in on the hosted page');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back in the authorization request: the consent page names the client and what it asks.
    await page.getByRole('heading', { name: /Allow Relying Party/ }).waitFor();
    const consentText = await page.locator('main').innerText();
    assert.match(consentText, /See your name/);
    assert.match(consentText, /See your email address/);
    assert.match(consentText, /127\.0\.0\.1/, 'the redirect host is shown');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.origin}/cb?**`);
    const callback = new URL(page.url());
    assert.equal(callback.searchParams.get('iss'), base, 'RFC 9207 iss');
    assert.equal(callback.searchParams.get('state'), state);
    const hit = rp.hits.find((item) => item.url.pathname === '/cb');
    assert.ok(hit);
    assert.equal(hit.referer, undefined, 'no Referer reaches the client (SEC-OAUTH-28)');

    // Code grant: openid-client checks iss, state, the ID token (signature, iss, aud, exp, iat, nonce, at_hash …).
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token, 'a refresh token');
    assert.ok(tokens.id_token);
    const idClaims = tokens.claims();
    assert.ok(idClaims);
    assert.equal(idClaims.nonce, nonce);
    assert.equal(idClaims.email, email);
    assert.equal(idClaims.name, 'Ada Lovelace');
    assert.equal(typeof idClaims.sid, 'string');
    assert.equal(typeof idClaims.at_hash, 'string');
    const joseId = await verifyIdToken(tokens.id_token);
    assert.equal(joseId.sub, idClaims.sub);
    assert.equal(typeof joseId.auth_time, 'number');
    const access = await verifyAccessToken(tokens.access_token);
    assert.equal(access.sub, idClaims.sub);
    assert.equal(decodeProtectedHeader(tokens.id_token).kid !== undefined, true);

    // Userinfo (openid-client checks sub == the ID token's sub).
    const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    assert.equal(info.sub, idClaims.sub);
    assert.equal(info.email, email);
    assert.equal(info.name, 'Ada Lovelace');

    // Refresh: a new access token (verified by jose) and a rotated refresh token.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    const refreshedAccess = await verifyAccessToken(refreshed.access_token);
    assert.equal(refreshedAccess.sub, idClaims.sub);
    if (refreshed.id_token) {
      const again = await verifyIdToken(refreshed.id_token);
      assert.equal(again.sub, joseId.sub);
      assert.equal(again.auth_time, joseId.auth_time);
    }

    // Introspection of what is live, revocation, introspection again.
    assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, true);
    assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, true);
    await client.tokenRevocation(config, refreshed.access_token);
    assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false, 'revoked access token is inactive');
    await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, idClaims.sub), 'userinfo refuses the revoked token');
    // The rotated-away refresh token is no longer active.
    assert.equal((await client.tokenIntrospection(config, tokens.refresh_token)).active, false);

    // A second authorization for the same client: remembered consent, straight to a code.
    const verifier2 = client.randomPKCECodeVerifier();
    const state2 = client.randomState();
    const second = client.buildAuthorizationUrl(config, { redirect_uri: `${rp.origin}/cb`, scope: 'openid email', code_challenge: await client.calculatePKCECodeChallenge(verifier2), code_challenge_method: 'S256', state: state2 });
    await page.goto(second.href);
    await page.waitForURL(`${rp.origin}/cb?**`);
    const tokens2 = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier2, expectedState: state2 });
    assert.ok(tokens2.id_token && tokens2.refresh_token);
    await verifyIdToken(tokens2.id_token);
    await verifyAccessToken(tokens2.access_token);
    const sid = tokens2.claims()?.sid;
    assert.equal(sid, idClaims.sid, 'same browser session');

    // RP-initiated logout with id_token_hint, registered post_logout_redirect_uri and state.
    const logoutState = client.randomState();
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens2.id_token, post_logout_redirect_uri: `${rp.origin}/logged-out`, state: logoutState });
    await page.goto(endSession.href);
    await page.waitForURL(`${rp.origin}/logged-out?**`);
    assert.equal(new URL(page.url()).searchParams.get('state'), logoutState);
    assert.equal((await context.cookies(base)).find((item) => item.name === SESSION_COOKIE), undefined, 'the session cookie is gone');

    // The browser session ended: a silent request now fails with login_required.
    const state3 = client.randomState();
    const silent = client.buildAuthorizationUrl(config, { redirect_uri: `${rp.origin}/cb`, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: state3, prompt: 'none' });
    await page.goto(silent.href);
    await page.waitForURL(`${rp.origin}/cb?**`);
    const silentAnswer = new URL(page.url()).searchParams;
    assert.equal(silentAnswer.get('error'), 'login_required');
    assert.equal(silentAnswer.get('state'), state3);
    assert.equal(silentAnswer.get('code'), null);

    // Tokens tied to the ended session are revoked (the grant had no offline_access).
    assert.equal((await client.tokenIntrospection(config, tokens2.access_token)).active, false, 'access token of the ended session inactive');
    await assert.rejects(client.refreshTokenGrant(config, tokens2.refresh_token), (error: unknown) => {
      assert.ok(error instanceof client.ResponseBodyError, String(error));
      assert.equal(error.error, 'invalid_grant');
      return true;
    });
    // Only the browser's session ended: the user's other session (the API sign-in) lives on.
    const other = await fetch(`${base}/api/auth/session`, { headers: { cookie }, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    assert.equal(other.status, 200);
  }));

  it('jose: the JWKS has a key for every token kid and no private members (SEC-JWT-19)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const response = await fetch(`${base}/.well-known/jwks.json`, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    assert.equal(response.status, 200);
    const set = (await response.json()) as { keys: Record<string, unknown>[] };
    assert.ok(set.keys.length >= 1);
    for (const key of set.keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[member], undefined, `no ${member}`);
      assert.equal(typeof key.kid, 'string');
    }
  });
});
