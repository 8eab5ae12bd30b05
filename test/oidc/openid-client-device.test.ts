/**
 * openid-client 6 runs the device authorization grant (RFC 8628) against a real listening
 * Gatehouse, through the `gatehouse login`-style example (examples/device-login/login.ts):
 * discovery → initiateDeviceAuthorization → the user enters the code on /device, signs in and
 * confirms (the page browser of src/ui/test-browser.ts) → pollDeviceAuthorizationGrant ends with
 * a validated ID token, an access token that works at userinfo, and a refresh token. A denial
 * ends the poll with access_denied. The poll interval is 1 s here; openid-client waits it (and
 * honours slow_down), so nothing depends on how fast the machine is.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { deviceClients } from '../support/device.ts';
import { bounded, diagnosed, follow, hidden, listeningOidcApp, signInOnPage } from '../support/oidc.ts';
import { deviceLogin } from '../../examples/device-login/login.ts';

describe('openid-client 6: device authorization grant against Gatehouse', { timeout: 120_000 }, () => {
  let t: TestApp | undefined;
  let base = '';

  before(async () => {
    ({ t, base } = await listeningOidcApp({ clients: deviceClients(), env: { GATEHOUSE_DEVICE_POLL_INTERVAL_SECONDS: '1' } }));
  });
  after(async () => {
    await bounded(t?.close());
  });

  /** The person with the phone: opens verification_uri_complete, signs in, answers. */
  async function answer(verificationUriComplete: string, email: string, decision: 'allow' | 'deny'): Promise<void> {
    assert.ok(t);
    const b = createBrowser(t.app);
    const url = new URL(verificationUriComplete);
    assert.equal(url.origin, base);
    const form = await b.get(url.pathname + url.search);
    assert.equal(form.statusCode, 200);
    const userCode = url.searchParams.get('user_code') ?? '';
    assert.ok(form.body.includes(`value="${userCode}"`), 'the code is filled in');
    let page = await follow(t, b, await b.post('/device', { user_code: userCode, csrf: hidden(form.body, 'csrf') }));
    page = await signInOnPage(t, b, page, email, PASSWORD);
    assert.ok(page.body.includes(userCode), page.body.slice(0, 300));
    const done = await b.post('/device/confirm', { interaction: hidden(page.body, 'interaction'), decision, csrf: hidden(page.body, 'csrf') });
    assert.equal(done.statusCode, 200);
  }

  it('discovery → device authorization → the user confirms on /device → tokens, ID token validated → userinfo → refresh', () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'device-oc@example.com';
    await registerAndSignIn(t, email);
    let approval: Promise<void> | undefined;
    const tokens = await deviceLogin({
      issuer: base,
      clientId: 'tv',
      allowInsecure: true,
      prompt: (instructions) => {
        assert.equal(instructions.verificationUri, `${base}/device`);
        assert.match(instructions.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
        assert.ok(instructions.verificationUriComplete);
        approval = answer(instructions.verificationUriComplete, email, 'allow');
      },
    });
    await approval;
    const claims = tokens.claims();
    assert.ok(claims, 'an ID token, validated by openid-client');
    assert.equal(claims.iss, base);
    assert.equal(claims.aud, 'tv');
    assert.equal(tokens.scope, 'openid profile offline_access');
    assert.ok(tokens.refresh_token);

    const config = await client.discovery(new URL(base), 'tv', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    assert.equal(config.serverMetadata().device_authorization_endpoint, `${base}/oauth/device_authorization`);
    const profile = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(profile.sub, claims.sub);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
  }));

  it('a denial on /device ends the poll with access_denied', () => diagnosed(t, async () => {
    assert.ok(t);
    const email = 'device-oc-deny@example.com';
    await registerAndSignIn(t, email);
    let approval: Promise<void> | undefined;
    await assert.rejects(
      deviceLogin({ issuer: base, clientId: 'tv', scope: 'openid', allowInsecure: true, prompt: (instructions) => void (approval = answer(instructions.verificationUriComplete!, email, 'deny')) }),
      (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'access_denied',
    );
    await approval;
  }));
});
