/**
 * openid-client 6 against a real listening Gatehouse with pushed authorization requests
 * (RFC 9126): `buildAuthorizationUrlWithPAR` pushes the request (client_secret_basic) and
 * returns the authorization URL with only client_id and request_uri; the user signs in and
 * consents (the page browser of src/ui/test-browser.ts); the code grant ends with a validated
 * ID token. The client is registered with require_pushed_authorization_requests, so the plain
 * `buildAuthorizationUrl` of the same request ends in an invalid_request redirect.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { OIDC_SECRETS, REDIRECT, authorizeInBrowser, bounded, diagnosed, listeningOidcApp, oidcClients } from '../support/oidc.ts';

describe('openid-client 6: pushed authorization requests against Gatehouse', { timeout: 120_000 }, () => {
  let t: TestApp | undefined;
  let base = '';
  before(async () => {
    const clients = oidcClients().map((entry) => (entry.client_id === 'webapp2' ? { ...entry, require_pushed_authorization_requests: true } : entry));
    ({ t, base } = await listeningOidcApp({ clients }));
  });
  after(async () => {
    await bounded(t?.close());
  });

  it('buildAuthorizationUrlWithPAR → sign-in and consent → code grant with ID token validation; not pushed → refused', () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'par-oc@example.com';
    await registerAndSignIn(t, email);
    const config = await client.discovery(new URL(base), 'webapp2', undefined, client.ClientSecretBasic(OIDC_SECRETS.webapp2!), { execute: [client.allowInsecureRequests] });
    assert.equal(config.serverMetadata().pushed_authorization_request_endpoint, `${base}/oauth/par`);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const parameters = { redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce };
    const url = await client.buildAuthorizationUrlWithPAR(config, parameters);
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);

    const b = createBrowser(t.app);
    const { response, signedIn, consented } = await authorizeInBrowser(t, b, Object.fromEntries(url.searchParams), { email });
    assert.ok(signedIn && consented);
    const callback = new URL(String(response.headers.location));
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    assert.equal(tokens.claims()?.aud, 'webapp2');

    // The same request sent directly: this client must push (RFC 9126 §6).
    const direct = client.buildAuthorizationUrl(config, parameters);
    const refused = await authorizeInBrowser(t, b, Object.fromEntries(direct.searchParams));
    const location = new URL(String(refused.response.headers.location));
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.equal(location.searchParams.get('code'), null);
  }));
});
