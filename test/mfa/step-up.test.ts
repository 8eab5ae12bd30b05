/**
 * Step-up through the authorization endpoint (SEC-OIDF-09, SEC-SESS-02, SEC-ASVS-08):
 * `acr_values=2` makes a password-only session do its second factor; `prompt=none` then says
 * `interaction_required`; `max_age` re-authentication of an MFA user goes through both factors.
 * The ID token's `acr`, `amr` and `auth_time` say what happened; userinfo states the same `amr` and `acr`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { authzQuery, browse, createOidcApp, follow, hidden, isConsentPage, manualClock, pkce, pressConsent, redeem, REDIRECT, signInOnPage, authorizeUrl, userinfo } from '../support/oidc.ts';
import { base32Decode } from '../support/mfa.ts';

const SESSION_COOKIE = '__Host-gatehouse';

describe('acr_values and max_age step-up (hosted pages)', () => {
  const clock = manualClock();
  let t: TestApp;
  let secret: Buffer;
  const email = 'stepup@example.com';
  let b: PageBrowser;

  before(async () => {
    t = await createOidcApp({ now: clock.now });
    const cookie = await registerAndSignIn(t, email);
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    secret = base32Decode(enrolment.secret);
    assert.equal((await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(secret, clock.now()) }, { cookie })).statusCode, 200);
    // A password-only session from before the enrolment.
    b = createBrowser(t.app);
    b.jar.set(SESSION_COOKIE, cookie.slice(`${SESSION_COOKIE}=`.length));
  });
  after(async () => t.close());

  async function toClient(response: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    let current = response;
    if (isConsentPage(current)) current = await pressConsent(b, current);
    assert.equal(current.statusCode, 303, current.body.slice(0, 300));
    return current;
  }

  async function secondStep(page: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    assert.match(page.body, /action="\/login\/mfa"/, 'the second-step page');
    const returnTo = /name="return_to" value="([^"]*)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
    clock.advance(30_000); // a new TOTP step: the enrolment's code is spent
    const response = await b.post('/login/mfa', { method: 'totp', code: totp(secret, clock.now()), csrf: hidden(page.body, 'csrf'), ...(returnTo ? { return_to: returnTo } : {}) });
    assert.equal(response.statusCode, 303, response.body.slice(0, 300));
    return follow(t, b, response);
  }

  async function idToken(response: LightMyRequestResponse, verifier: string): Promise<Record<string, unknown>> {
    const code = new URL(String(response.headers.location)).searchParams.get('code');
    assert.ok(code, `a code: ${String(response.headers.location)}`);
    const tokens = await redeem(t, 'webapp', code, verifier, REDIRECT);
    assert.equal(tokens.statusCode, 200, tokens.body);
    const claims = decodeJwt(tokens.json().id_token as string);
    // userinfo states the same authentication as the ID token (the access token carries amr and acr).
    const info = await userinfo(t, tokens.json().access_token as string);
    assert.equal(info.statusCode, 200, info.body);
    assert.deepEqual(info.json().amr, claims.amr);
    assert.equal(info.json().acr, claims.acr);
    return claims;
  }

  it('discovery lists acr_values_supported', async () => {
    assert.deepEqual((await t.app.inject({ url: '/.well-known/openid-configuration' })).json().acr_values_supported, ['1', '2']);
  });

  it('acr_values=1 2 with a password session: no step-up, acr 1', async () => {
    const { verifier, challenge } = pkce();
    const response = await toClient(await browse(t, b, authorizeUrl(authzQuery({ challenge, extra: { acr_values: '1 2' } }))));
    const claims = await idToken(response, verifier);
    assert.equal(claims.acr, '1');
    assert.deepEqual(claims.amr, ['pwd']);
  });

  it('prompt=none with acr_values=2 and no second factor in the session → interaction_required', async () => {
    const { challenge } = pkce();
    const response = await b.get(authorizeUrl(authzQuery({ challenge, extra: { acr_values: '2', prompt: 'none' } })));
    assert.equal(response.statusCode, 303);
    assert.equal(new URL(String(response.headers.location)).searchParams.get('error'), 'interaction_required');
  });

  it('acr_values=2: the second step, a new session id, then an ID token with acr 2 and amr [pwd otp mfa] and a later auth_time', async () => {
    const before = b.jar.get(SESSION_COOKIE);
    const { verifier, challenge } = pkce();
    const page = await browse(t, b, authorizeUrl(authzQuery({ challenge, extra: { acr_values: '2' } })));
    const response = await toClient(await secondStep(page));
    assert.notEqual(b.jar.get(SESSION_COOKIE), before, 'SEC-SESS-02: a new session id');
    const old = await t.app.inject({ url: '/api/auth/session', headers: { cookie: `${SESSION_COOKIE}=${before!}` } });
    assert.equal(old.statusCode, 401, 'the old session id no longer works');
    const claims = await idToken(response, verifier);
    assert.equal(claims.acr, '2');
    assert.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
    assert.equal(claims.auth_time, Math.floor(clock.now() / 1000));
  });

  it('max_age re-authentication of an MFA user: password, second factor, acr 2 and a fresh auth_time', async () => {
    clock.advance(120_000);
    const { verifier, challenge } = pkce();
    const login = await browse(t, b, authorizeUrl(authzQuery({ challenge, extra: { max_age: '60' } })));
    const afterPassword = await signInOnPage(t, b, login, email, PASSWORD);
    const response = await toClient(await secondStep(afterPassword));
    const claims = await idToken(response, verifier);
    assert.equal(claims.acr, '2');
    assert.ok((claims.amr as string[]).includes('mfa'));
    assert.equal(claims.auth_time, Math.floor(clock.now() / 1000));
  });
});
