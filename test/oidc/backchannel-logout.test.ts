/**
 * OpenID Connect Back-Channel Logout 1.0 (SEC-OIDF-17): a relying party on loopback receives a
 * logout token for every way a session ends today, and verifies it with jose against our JWKS;
 * the token is refused by every other JWT surface (SEC-JWT-11); a failed delivery is retried;
 * the user's logout never waits for the relying party.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { TestApp } from '../support/app.ts';
import { postJSON, registerAndSignIn, signIn, PASSWORD } from '../support/auth.ts';
import { assertErrorPage, introspectAs, manualClock, obtainTokens, oidcClients, POST_LOGOUT, userinfo } from '../support/oidc.ts';
import { createBrowser } from '../../src/ui/test-browser.ts';
import { BACKOFF_MAX_MS } from '../../src/features/webhooks/worker.ts';
import { clientsEnv } from '../support/oauth.ts';
import { createWebhookTestApp, LOOPBACK_ALLOWED, startReceiver, type Receiver } from '../webhooks/support.ts';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('back-channel logout', () => {
  let t: TestApp;
  let rp: Receiver;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  const clock = manualClock(Date.now());
  const seenJti = new Set<string>();

  before(async () => {
    rp = await startReceiver();
    // `webapp` (a code-flow fixture client) registers a back-channel logout URI on the RP.
    const clients = oidcClients().map((client) => (client.client_id === 'webapp' ? { ...client, backchannel_logout_uri: `${rp.url}/backchannel`, backchannel_logout_session_required: true } : client));
    t = await createWebhookTestApp({ env: { ...LOOPBACK_ALLOWED, ...clientsEnv(clients) }, now: clock.now });
    jwks = createLocalJWKSet((await t.app.inject({ url: '/.well-known/jwks.json' })).json() as JSONWebKeySet);
  });
  after(async () => {
    await t.close();
    await rp.close();
  });

  /** The logout tokens the RP received since `from`, verified as an RP must (§2.6). */
  async function logoutTokens(from: number): Promise<Record<string, unknown>[]> {
    const tokens = [];
    for (const request of rp.received.slice(from)) {
      assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
      const token = new URLSearchParams(request.body).get('logout_token');
      assert.ok(token, 'a logout_token parameter');
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: t.config.publicUrl, audience: 'webapp', typ: 'logout+jwt', requiredClaims: ['iat', 'jti', 'exp', 'events', 'sid', 'sub'], currentDate: new Date(clock.now()) });
      assert.equal(protectedHeader.alg, t.config.idTokenSigningAlgorithm, 'signed with the ID-token algorithm');
      assert.deepEqual(payload.events, { [EVENT]: {} });
      assert.equal(payload.nonce, undefined, 'no nonce (§2.4)');
      assert.ok(!seenJti.has(payload.jti!), 'jti unique');
      seenJti.add(payload.jti!);
      tokens.push({ ...payload, raw: token });
    }
    return tokens;
  }

  async function signedInWithTokens(email: string, options: { fresh?: boolean } = {}): Promise<{ cookie: string; sid: string; sub: string; idToken: string }> {
    const cookie = options.fresh === false ? await signIn(t, email) : await registerAndSignIn(t, email);
    const tokens = await obtainTokens(t, cookie, { clientId: 'webapp', scope: 'openid profile' });
    const claims = decodeJwt(tokens.id_token!);
    return { cookie, sid: String(claims.sid), sub: String(claims.sub), idToken: tokens.id_token! };
  }

  async function expectLogout(session: { sid: string; sub: string }, from: number): Promise<Record<string, unknown>> {
    await t.app.webhookDelivery.runDue();
    const tokens = await logoutTokens(from);
    assert.equal(tokens.length, 1, 'one logout token');
    assert.equal(tokens[0]!.sid, session.sid);
    assert.equal(tokens[0]!.sub, session.sub);
    return tokens[0]!;
  }

  it('discovery advertises back-channel logout with sid', async () => {
    const document = (await t.app.inject({ url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    assert.equal(document.backchannel_logout_supported, true);
    assert.equal(document.backchannel_logout_session_supported, true);
  });

  it('signing out on the account page delivers a valid logout token', async () => {
    const session = await signedInWithTokens('bc-account@example.com');
    const from = rp.received.length;
    const browser = createBrowser(t.app);
    const [name, value] = session.cookie.split('=') as [string, string];
    browser.jar.set(name, value);
    const out = await browser.submit('/account', '/logout', {});
    assert.equal(out.statusCode, 303, out.body);
    await expectLogout(session, from);
  });

  it('the sign-out API, RP-initiated logout, session revocation and a password change each deliver one', async () => {
    const apiSession = await signedInWithTokens('bc-api@example.com');
    let from = rp.received.length;
    assert.equal((await postJSON(t, '/api/auth/sign-out', {}, { cookie: apiSession.cookie })).statusCode, 204);
    await expectLogout(apiSession, from);

    const rpInitiated = await signedInWithTokens('bc-rp@example.com');
    from = rp.received.length;
    const end = await t.app.inject({ url: `/oauth/end-session?${new URLSearchParams({ id_token_hint: rpInitiated.idToken, post_logout_redirect_uri: POST_LOGOUT })}`, headers: { cookie: rpInitiated.cookie } });
    assert.ok(end.statusCode === 302 || end.statusCode === 303, end.body);
    await expectLogout(rpInitiated, from);

    const revoked = await signedInWithTokens('bc-revoke@example.com');
    const other = await signIn(t, 'bc-revoke@example.com');
    from = rp.received.length;
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${revoked.sid}`, headers: { cookie: other, origin: new URL(t.config.publicUrl).origin } });
    assert.equal(removed.statusCode, 204, removed.body);
    await expectLogout(revoked, from);

    const changed = await signedInWithTokens('bc-password@example.com');
    from = rp.received.length;
    const change = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: 'a different long passphrase 42' }, { cookie: changed.cookie });
    assert.equal(change.statusCode, 200, change.body);
    await expectLogout(changed, from);
  });

  it('SEC-JWT-11: a logout token is refused as an access token and as id_token_hint', async () => {
    const session = await signedInWithTokens('bc-confusion@example.com');
    const from = rp.received.length;
    await postJSON(t, '/api/auth/sign-out', {}, { cookie: session.cookie });
    const token = String((await expectLogout(session, from)).raw);
    assert.equal(decodeProtectedHeader(token).typ, 'logout+jwt');
    const info = await userinfo(t, token);
    assert.equal(info.statusCode, 401);
    const introspected = await introspectAs(t, 'webapp2', token);
    assert.deepEqual(introspected.json(), { active: false });
    const cookie = await signIn(t, 'bc-confusion@example.com');
    const hint = await t.app.inject({ url: `/oauth/end-session?${new URLSearchParams({ id_token_hint: token, post_logout_redirect_uri: POST_LOGOUT })}`, headers: { cookie } });
    assertErrorPage(hint, 'logout token as id_token_hint');
  });

  it('a failed delivery is retried; the user signs out at once while the RP is down', async () => {
    const session = await signedInWithTokens('bc-retry@example.com');
    rp.mode = 'fail';
    const from = rp.received.length;
    const out = await postJSON(t, '/api/auth/sign-out', {}, { cookie: session.cookie });
    assert.equal(out.statusCode, 204, 'the logout completes without waiting for the RP');
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: session.cookie } })).statusCode, 401);
    await t.app.webhookDelivery.runDue();
    assert.equal(rp.received.length, from + 1);
    const failed = await logoutTokens(from);
    rp.mode = 'ok';
    clock.advance(BACKOFF_MAX_MS);
    await t.app.webhookDelivery.runDue();
    const retried = await logoutTokens(from + 1);
    assert.equal(retried.length, 1, 'tried again, with a fresh token (new iat, exp and jti)');
    assert.ok([...failed, ...retried].every((token) => token.sid === session.sid));
    clock.advance(BACKOFF_MAX_MS);
    assert.equal(await t.app.webhookDelivery.runDue(), 0, 'delivered: not sent again');
  });

  it('a client without backchannel_logout_uri gets nothing; validation refuses a bad URI', async () => {
    const cookie = await registerAndSignIn(t, 'bc-none@example.com');
    await obtainTokens(t, cookie, { clientId: 'webapp2', scope: 'openid' });
    const from = rp.received.length;
    await postJSON(t, '/api/auth/sign-out', {}, { cookie });
    await t.app.webhookDelivery.runDue();
    assert.equal(rp.received.length, from);
    const { validateClientMetadata } = await import('../../src/features/clients/validation.ts');
    for (const uri of ['http://rp.example/logout', 'https://rp.example/logout#frag', 'ftp://rp.example/', 'https://user@rp.example/']) {
      assert.throws(() => validateClientMetadata({ name: 'x', type: 'confidential', grant_types: ['client_credentials'], backchannel_logout_uri: uri }), /backchannel_logout_uri/, uri);
    }
  });
});
