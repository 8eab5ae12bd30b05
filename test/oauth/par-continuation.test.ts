/**
 * Pushed authorization requests (RFC 9126) when the browser is not signed in yet: openid-client
 * pushes the request and gets the one-time `request_uri`; the first visit spends it, and the
 * sign-in page (/login → return_to), the second step (/login/mfa) and consent continue an
 * internal interaction bound to that browser — never the request_uri again. A second use of the
 * request_uri (the same browser again, another browser) is refused, and so is the continuation
 * URL in another browser. A real listening Gatehouse for openid-client; the user agent is the
 * page browser (HTTP with a cookie jar, src/ui/test-browser.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import * as client from 'openid-client';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { base32Decode } from '../support/mfa.ts';
import { OIDC_SECRETS, REDIRECT, bounded, browse, diagnosed, follow, hidden, isConsentPage, isLoginPage, listeningOidcApp, oidcClients, pressConsent, signInOnPage } from '../support/oidc.ts';
import { createHmac } from 'node:crypto';

const CONTINUE = '/oauth/authorize/continue?interaction=';

/** RFC 6238 TOTP as an authenticator app computes it: HMAC-SHA-1, 30-second steps, 6 digits. */
function totp(secret: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

describe('PAR: the authorization continues through sign-in, second step and consent without the spent request_uri', { timeout: 120_000 }, () => {
  let t: TestApp | undefined;
  let base = '';
  let config: client.Configuration;
  before(async () => {
    // webapp2 must push (RFC 9126 §6): nothing but the pushed request gets through.
    const clients = oidcClients().map((entry) => (entry.client_id === 'webapp2' ? { ...entry, require_pushed_authorization_requests: true } : entry));
    ({ t, base } = await listeningOidcApp({ clients }));
    config = await client.discovery(new URL(base), 'webapp2', undefined, client.ClientSecretBasic(OIDC_SECRETS.webapp2!), { execute: [client.allowInsecureRequests] });
  });
  after(async () => {
    await bounded(t?.close());
  });

  /** openid-client pushes a request; returns the authorization URL (client_id + request_uri) and the checks for the code grant. */
  async function pushed(): Promise<{ url: string; checks: { pkceCodeVerifier: string; expectedState: string; expectedNonce: string } }> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    return { url: url.pathname + url.search, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
  }

  /** The first hop only: where /oauth/authorize sends a browser that is not signed in. */
  async function firstHop(b: PageBrowser, url: string): Promise<URL> {
    const response = await b.get(url);
    assert.equal(response.statusCode, 303, response.body.slice(0, 300));
    const location = new URL(String(response.headers.location), base);
    assert.equal(location.pathname, '/login');
    const returnTo = location.searchParams.get('return_to') ?? '';
    assert.ok(returnTo.startsWith(CONTINUE), returnTo);
    assert.ok(!returnTo.includes('request_uri') && !location.search.includes('request_uri'), 'the continuation does not carry the request_uri');
    return location;
  }

  /** An error page (invalid_request): no redirect, so no code and nothing sent to the client. */
  function assertRefusedPage(response: LightMyRequestResponse, what: string): void {
    assert.equal(response.statusCode, 400, `${what}: ${response.statusCode} ${response.body.slice(0, 200)}`);
    assert.match(String(response.headers['content-type']), /^text\/html/, what);
    assert.equal(response.headers.location, undefined, `${what}: never a redirect with a code`);
  }

  async function toCallback(response: LightMyRequestResponse, b: PageBrowser): Promise<URL> {
    const final = isConsentPage(response) ? await pressConsent(b, response) : response;
    assert.equal(final.statusCode, 303, final.body.slice(0, 300));
    const callback = new URL(String(final.headers.location));
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT);
    assert.ok(callback.searchParams.get('code'), String(final.headers.location));
    return callback;
  }

  it('sign-in page round trip and consent, then the code grant; the spent request_uri is refused in the same and in another browser', () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'par-continue@example.com';
    await registerAndSignIn(t, email);
    const { url, checks } = await pushed();
    const b = createBrowser(t.app);
    const login = await firstHop(b, url);
    const page = await browse(t, b, login.pathname + login.search);
    assert.ok(isLoginPage(page));
    const consent = await signInOnPage(t, b, page, email, PASSWORD);
    assert.ok(isConsentPage(consent), 'consent after the sign-in, from the continuation');
    const callback = await toCallback(consent, b);
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    assert.equal(tokens.claims()?.aud, 'webapp2');

    // RFC 9126 §7.3: the request_uri was used once; every later use is refused.
    assertRefusedPage(await b.get(url), 'the same browser again');
    assertRefusedPage(await createBrowser(t.app).get(url), 'another browser');
  }));

  it('the continuation belongs to the browser that spent the request_uri: another browser is refused, the first one completes', () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'par-continue-2@example.com';
    const otherEmail = 'par-continue-thief@example.com';
    await registerAndSignIn(t, email);
    const thiefCookie = await registerAndSignIn(t, otherEmail);
    const { url, checks } = await pushed();
    const b = createBrowser(t.app);
    const login = await firstHop(b, url);
    const continuation = login.searchParams.get('return_to')!;

    // Another browser with the continuation URL — signed in, or not — gets no further.
    const thief = createBrowser(t.app);
    assertRefusedPage(await thief.get(continuation), 'a browser without the binding');
    thief.jar.set('__Host-gatehouse', thiefCookie.slice('__Host-gatehouse='.length));
    assertRefusedPage(await thief.get(continuation), 'a signed-in browser without the binding');
    assertRefusedPage(await thief.get(url), 'nor with the request_uri');

    const consent = await signInOnPage(t, b, await browse(t, b, login.pathname + login.search), email, PASSWORD);
    const tokens = await client.authorizationCodeGrant(config, await toCallback(consent, b), checks);
    assert.ok(tokens.access_token);
  }));

  it('a signed-in browser that already consented goes straight to the code; a fresh push works again', () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'par-continue-3@example.com';
    const cookie = await registerAndSignIn(t, email);
    const b = createBrowser(t.app);
    b.jar.set('__Host-gatehouse', cookie.slice('__Host-gatehouse='.length));
    const first = await pushed();
    await toCallback(await browse(t, b, first.url), b);
    const second = await pushed();
    const direct = await browse(t, b, second.url);
    assert.equal(direct.statusCode, 303, 'consent remembered: no page in between');
    const tokens = await client.authorizationCodeGrant(config, await toCallback(direct, b), second.checks);
    assert.ok(tokens.access_token);
  }));

  it('through the second step (TOTP) after the password: the continuation survives /login/mfa', () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'par-continue-mfa@example.com';
    const setup = await registerAndSignIn(t, email);
    const used = new Set<number>();
    let secret: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    const freshCode = (): string => {
      const current = Math.floor(Date.now() / 30_000);
      const step = [current + 1, current, current - 1].find((candidate) => !used.has(candidate));
      assert.ok(step !== undefined, 'a TOTP step is free');
      used.add(step);
      return totp(secret, step);
    };
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie: setup })).json();
    secret = base32Decode(enrolment.secret);
    const confirmed = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: freshCode() }, { cookie: setup });
    assert.equal(confirmed.statusCode, 200, confirmed.body);

    const { url, checks } = await pushed();
    const b = createBrowser(t.app);
    const login = await firstHop(b, url);
    const secondStep = await signInOnPage(t, b, await browse(t, b, login.pathname + login.search), email, PASSWORD);
    assert.equal(secondStep.statusCode, 200, secondStep.body.slice(0, 300));
    assert.match(secondStep.body, /action="\/login\/mfa"/, 'the second-step page');
    const returnTo = /name="return_to" value="([^"]*)"/.exec(secondStep.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(returnTo?.startsWith(CONTINUE), `the second step returns to the continuation: ${returnTo}`);
    const stepped = await b.post('/login/mfa', { method: 'totp', code: freshCode(), csrf: hidden(secondStep.body, 'csrf'), return_to: returnTo! });
    assert.equal(stepped.statusCode, 303, stepped.body.slice(0, 300));
    const consent = await follow(t, b, stepped);
    const tokens = await client.authorizationCodeGrant(config, await toCallback(consent, b), checks);
    const claims = tokens.claims()!;
    assert.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
  }));
});
