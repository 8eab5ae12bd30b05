/**
 * Step-up with a real relying party (issue 16, SEC-OIDF-09): openid-client 6's authorization-code
 * flow asks /oauth/authorize for `acr_values=2` (the MFA level) and `max_age`. A password-only
 * session must do the second step (a TOTP code computed here by our own RFC 6238 code, checked
 * against the RFC's Appendix B vectors); openid-client validates the ID token (signature, iss,
 * aud, nonce, and auth_time against max_age), and jose verifies `acr`, `amr`, `auth_time` against
 * the published JWKS. The user agent is plain HTTP with a cookie jar (the hosted pages work
 * without JavaScript); Gatehouse listens on http://localhost so openid-client talks to it over HTTP.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { base32Decode } from '../support/mfa.ts';
import { bounded, browse, follow, hidden, isConsentPage, isLoginPage, listeningOidcApp, OIDC_SCOPES, oidcClients, pressConsent, signInOnPage } from '../support/oidc.ts';
import { rfc6238 } from './rfc6238.ts';

const RP_SECRET = 'rp-step-up-secret-0123456789abcdef0123456789';
const RP_REDIRECT = 'https://rp.example/cb';
const SESSION_COOKIE = '__Host-gatehouse';

describe('RFC 6238 Appendix B: the test-side TOTP generator', () => {
  const seeds = { sha1: '12345678901234567890', sha256: '12345678901234567890123456789012', sha512: '1234567890123456789012345678901234567890123456789012345678901234' } as const;
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it('matches every vector (SHA-1, SHA-256, SHA-512; 8 digits)', () => {
    for (const [time, sha1, sha256, sha512] of vectors) {
      assert.equal(rfc6238(Buffer.from(seeds.sha1), time, { digits: 8 }), sha1, `SHA-1 at ${time}`);
      assert.equal(rfc6238(Buffer.from(seeds.sha256), time, { digits: 8, algorithm: 'sha256' }), sha256, `SHA-256 at ${time}`);
      assert.equal(rfc6238(Buffer.from(seeds.sha512), time, { digits: 8, algorithm: 'sha512' }), sha512, `SHA-512 at ${time}`);
    }
  });
});

describe('openid-client step-up: acr_values=2 and max_age through the second factor', () => {
  let t: TestApp;
  let base = '';
  let b: PageBrowser;
  let config: client.Configuration;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let secret: Buffer;
  const email = 'oc-stepup@example.com';
  /** TOTP steps already used: the server refuses a code twice (replay cache), so each use takes a fresh step within ±1. */
  const usedSteps = new Set<number>();
  /** auth_time of the last full sign-in (max_age=0). */
  let lastAuthTime = 0;

  function freshCode(): string {
    const current = Math.floor(Date.now() / 30_000);
    const step = [current + 1, current, current - 1].find((candidate) => !usedSteps.has(candidate));
    assert.ok(step !== undefined, 'a TOTP step is free');
    usedSteps.add(step);
    return rfc6238(secret, step * 30);
  }

  before(async () => {
    const rp = {
      client_id: 'rp-stepup',
      name: 'Step-up RP',
      type: 'confidential',
      token_endpoint_auth_method: 'client_secret_post',
      client_secret_hash: createHash('sha256').update(RP_SECRET).digest('base64url'),
      grant_types: ['authorization_code'],
      redirect_uris: [RP_REDIRECT],
      scopes: OIDC_SCOPES,
      audiences: [],
    };
    ({ t, base } = await listeningOidcApp({ clients: oidcClients([rp]) }));
    jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    config = await client.discovery(new URL(base), 'rp-stepup', RP_SECRET, undefined, { execute: [client.allowInsecureRequests] });
    // A password-only session, then an authenticator app added in it (the first factor needs no step-up).
    const cookie = await registerAndSignIn(t, email);
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    secret = base32Decode(enrolment.secret);
    const confirmed = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: freshCode() }, { cookie });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    b = createBrowser(t.app);
    b.jar.set(SESSION_COOKIE, cookie.slice(`${SESSION_COOKIE}=`.length));
  });
  after(async () => bounded(t?.close()));

  /** openid-client builds the request; returns it with its checks. */
  async function authorizationRequest(extra: Record<string, string>) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: RP_REDIRECT, scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra });
    return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } };
  }

  async function secondStep(page: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    assert.equal(page.statusCode, 200, page.body.slice(0, 300));
    assert.match(page.body, /action="\/login\/mfa"/, 'the second-step page');
    const returnTo = /name="return_to" value="([^"]*)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
    const response = await b.post('/login/mfa', { method: 'totp', code: freshCode(), csrf: hidden(page.body, 'csrf'), ...(returnTo ? { return_to: returnTo } : {}) });
    assert.equal(response.statusCode, 303, response.body.slice(0, 300));
    return follow(t, b, response);
  }

  /** The redirect to the RP: through consent when it is asked. */
  async function toRelyingParty(response: LightMyRequestResponse): Promise<URL> {
    const final = isConsentPage(response) ? await pressConsent(b, response) : response;
    assert.equal(final.statusCode, 303, final.body.slice(0, 300));
    const location = new URL(String(final.headers.location));
    assert.equal(location.origin + location.pathname, RP_REDIRECT, String(final.headers.location));
    return location;
  }

  /** jose, independently of openid-client: our ID token for this RP, with the authentication claims. */
  async function verified(idToken: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(idToken, jwks, { issuer: base, audience: 'rp-stepup', requiredClaims: ['sub', 'auth_time', 'acr', 'amr'] });
    return payload;
  }

  it('acr_values=2 with a password-only session: the second step, then acr 2, amr [mfa otp pwd], auth_time of the step-up', async () => {
    const before = b.jar.get(SESSION_COOKIE);
    const { url, checks } = await authorizationRequest({ acr_values: '2' });
    const started = Math.floor(Date.now() / 1000);
    const page = await browse(t, b, url.pathname + url.search);
    assert.ok(!isLoginPage(page), 'no password again: the session is kept, only the second factor is asked');
    const callback = await toRelyingParty(await secondStep(page));
    assert.notEqual(b.jar.get(SESSION_COOKIE), before, 'SEC-SESS-02: a new session id after the step-up');

    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    const claims = tokens.claims()!;
    assert.equal(claims.acr, '2');
    assert.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
    const payload = await verified(tokens.id_token!);
    assert.equal(payload.acr, '2');
    assert.deepEqual(payload.amr, claims.amr);
    assert.ok(typeof payload.auth_time === 'number' && payload.auth_time >= started && payload.auth_time <= Math.ceil(Date.now() / 1000), `auth_time ${String(payload.auth_time)} is the step-up's`);
  });

  it('max_age=0 with acr_values=2: password and second factor again, a fresh auth_time that openid-client checks against max_age', async () => {
    const before = b.jar.get(SESSION_COOKIE);
    const { url, checks } = await authorizationRequest({ acr_values: '2', max_age: '0' });
    const started = Math.floor(Date.now() / 1000);
    const login = await browse(t, b, url.pathname + url.search);
    assert.ok(isLoginPage(login), 'max_age=0: a full sign-in');
    const callback = await toRelyingParty(await secondStep(await signInOnPage(t, b, login, email, PASSWORD)));
    assert.notEqual(b.jar.get(SESSION_COOKIE), before, 'a new session');
    // openid-client: auth_time is required and must be within max_age (OIDC Core §3.1.3.7 step 13).
    const tokens = await client.authorizationCodeGrant(config, callback, { ...checks, maxAge: 0 });
    const payload = await verified(tokens.id_token!);
    assert.equal(payload.acr, '2');
    assert.deepEqual([...(payload.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
    assert.ok((payload.auth_time as number) >= started, 'auth_time is this sign-in');
    lastAuthTime = payload.auth_time as number;
  });

  it('a small max_age the session satisfies: no sign-in, no second step; the same auth_time and acr 2', async () => {
    const before = b.jar.get(SESSION_COOKIE);
    const { url, checks } = await authorizationRequest({ acr_values: '2', max_age: '600' });
    const response = await browse(t, b, url.pathname + url.search);
    assert.ok(!isLoginPage(response) && !/action="\/login\/mfa"/.test(response.body), 'single sign-on: nothing asked');
    assert.equal(b.jar.get(SESSION_COOKIE), before, 'the same session');
    const tokens = await client.authorizationCodeGrant(config, await toRelyingParty(response), { ...checks, maxAge: 600 });
    const payload = await verified(tokens.id_token!);
    assert.equal(payload.acr, '2');
    assert.ok((payload.amr as string[]).includes('mfa'));
    assert.equal(payload.auth_time, lastAuthTime, 'the session\'s auth_time, unchanged');
  });
});
