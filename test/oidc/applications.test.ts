/**
 * User-managed grants (SEC-OAUTH-25) and the tokens that end with a browser session
 * (SEC-OAUTH-22): the applications a user authorised, listed and revoked through
 * `GET/DELETE /api/auth/applications` and on /account; RP-initiated logout and sign-out revoke
 * the tokens tied to the session, never the offline_access ones. Black-box through `app.inject()`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { postJSON, registerAndSignIn, signIn } from '../support/auth.ts';
import { createOidcApp, hidden, introspectAs, obtainCode, obtainTokens, redeem, refreshAs, userinfo, type CodeTokens } from '../support/oidc.ts';

const ISSUER = 'https://id.example';
const SESSION_COOKIE = '__Host-gatehouse';

interface Application {
  client_id: string;
  name: string;
  scopes: string[];
  consented_at: number | null;
  active_grants: number;
}

describe('authorised applications and session-bound tokens (SEC-OAUTH-25, SEC-OAUTH-22)', { timeout: 120_000 }, () => {
  let t: TestApp;
  let users = 0;

  before(async () => {
    t = await createOidcApp({ env: { GATEHOUSE_PUBLIC_URL: ISSUER } });
  });
  after(() => t.close());

  async function newUser(prefix: string): Promise<{ email: string; cookie: string }> {
    const email = `${prefix}-${++users}@example.com`;
    return { email, cookie: await registerAndSignIn(t, email) };
  }

  async function applications(cookie: string): Promise<Application[]> {
    const response = await t.app.inject({ url: '/api/auth/applications', headers: { cookie } });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['cache-control']), /no-store/);
    return (response.json() as { applications: Application[] }).applications;
  }

  function revokeApp(cookie: string, clientId: string, origin = ISSUER): Promise<LightMyRequestResponse> {
    return t.app.inject({ method: 'DELETE', url: `/api/auth/applications/${encodeURIComponent(clientId)}`, headers: { cookie, origin } });
  }

  async function assertLive(clientId: string, tokens: CodeTokens, what: string): Promise<CodeTokens> {
    const active = await introspectAs(t, clientId, tokens.access_token);
    assert.equal(active.json().active, true, `${what}: access token active (${active.body})`);
    assert.equal((await userinfo(t, tokens.access_token)).statusCode, 200, `${what}: userinfo`);
    const refreshed = await refreshAs(t, clientId, tokens.refresh_token!);
    assert.equal(refreshed.statusCode, 200, `${what}: refresh works (${refreshed.body})`);
    return refreshed.json() as CodeTokens;
  }

  async function assertRevoked(clientId: string, tokens: CodeTokens, what: string): Promise<void> {
    assert.equal((await introspectAs(t, clientId, tokens.access_token)).body, '{"active":false}', `${what}: access token inactive`);
    assert.equal((await userinfo(t, tokens.access_token)).statusCode, 401, `${what}: userinfo refuses the access token`);
    const refreshed = await refreshAs(t, clientId, tokens.refresh_token!);
    assert.equal(refreshed.statusCode, 400, `${what}: refresh refused (${refreshed.body})`);
    assert.equal(refreshed.json().error, 'invalid_grant', what);
  }

  it('SEC-OAUTH-25: list the authorised applications, revoke one → its refresh token invalid_grant, its access tokens inactive; the other application unaffected; consent asked again', async () => {
    const { cookie } = await newUser('apps');
    const web = await obtainTokens(t, cookie, { clientId: 'webapp', scope: 'openid profile' });
    const web2 = await obtainTokens(t, cookie, { clientId: 'webapp2', scope: 'openid email' });

    const listed = await applications(cookie);
    assert.deepEqual(listed.map((app) => app.client_id).sort(), ['webapp', 'webapp2']);
    const webapp = listed.find((app) => app.client_id === 'webapp')!;
    assert.equal(webapp.name, 'Web App');
    assert.deepEqual([...webapp.scopes].sort(), ['openid', 'profile']);
    assert.equal(typeof webapp.consented_at, 'number');
    assert.ok(webapp.active_grants >= 1);

    const response = await revokeApp(cookie, 'webapp');
    assert.equal(response.statusCode, 204, response.body);
    await assertRevoked('webapp', web, 'revoked application');
    const web2Next = await assertLive('webapp2', web2, 'other application');
    await assertLive('webapp2', web2Next, 'other application, rotated');

    assert.deepEqual((await applications(cookie)).map((app) => app.client_id), ['webapp2']);
    const again = await t.app.inject({ url: `/oauth/authorize?${new URLSearchParams({ client_id: 'webapp', redirect_uri: 'https://app.example/callback', response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`, headers: { cookie } });
    assert.equal(again.statusCode, 200, 'the consent page again');
    assert.match(again.body, /action="\/oauth\/authorize\/consent"/);
    assert.equal((await revokeApp(cookie, 'webapp')).statusCode, 404, 'nothing left to revoke');
  });

  it('SEC-OAUTH-25: a code issued before the revocation cannot be redeemed after it', async () => {
    const { cookie } = await newUser('pendingcode');
    await obtainTokens(t, cookie, { clientId: 'webapp' });
    const pending = await obtainCode(t, cookie, { clientId: 'webapp' });
    assert.equal((await revokeApp(cookie, 'webapp')).statusCode, 204);
    const response = await redeem(t, 'webapp', pending.code, pending.verifier);
    assert.equal(response.statusCode, 400, `the user revoked the application, yet the outstanding code still gives tokens: ${response.body.slice(0, 200)}`);
    assert.equal(response.json().error, 'invalid_grant');
  });

  it('SEC-OAUTH-25: users see and revoke only their own applications; unauthenticated and cross-site requests are refused', async () => {
    const alice = await newUser('alice');
    const bob = await newUser('bob');
    const aliceTokens = await obtainTokens(t, alice.cookie, { clientId: 'webapp2' });
    assert.deepEqual(await applications(bob.cookie), []);
    assert.equal((await revokeApp(bob.cookie, 'webapp2')).statusCode, 404, 'Bob cannot revoke Alice’s application');
    assert.equal((await t.app.inject({ url: '/api/auth/applications' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/api/auth/applications/webapp2', headers: { origin: ISSUER } })).statusCode, 401);
    const crossSite = await revokeApp(alice.cookie, 'webapp2', 'https://evil.example');
    assert.equal(crossSite.statusCode, 403, crossSite.body);
    await assertLive('webapp2', aliceTokens, 'after refused revocations');
    for (const clientId of ['unknown', 'x'.repeat(300), '../webapp2', 'webapp2%00']) {
      const response = await revokeApp(alice.cookie, clientId);
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${clientId}: ${response.statusCode}`);
    }
  });

  it('SEC-OAUTH-25: a first-party application (no consent page) is listed through its live grant and can be revoked too', async () => {
    const { cookie } = await newUser('firstparty');
    const tokens = await obtainTokens(t, cookie, { clientId: 'firstweb' });
    const listed = await applications(cookie);
    const first = listed.find((app) => app.client_id === 'firstweb');
    assert.ok(first, JSON.stringify(listed));
    assert.equal(first.consented_at, null, 'no consent was asked');
    assert.equal((await revokeApp(cookie, 'firstweb')).statusCode, 204);
    await assertRevoked('firstweb', tokens, 'first-party application');
  });

  it('SEC-OAUTH-25: /account lists the applications and revokes one with a CSRF-protected form', async () => {
    const { cookie } = await newUser('accountpage');
    const web = await obtainTokens(t, cookie, { clientId: 'webapp' });
    const web2 = await obtainTokens(t, cookie, { clientId: 'webapp2' });
    const b = createBrowser(t.app);
    b.jar.set(SESSION_COOKIE, cookie.slice(`${SESSION_COOKIE}=`.length));
    const page = await b.get('/account');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Web App<\/strong>/);
    assert.match(page.body, /Web App Two<\/strong>/);
    assert.match(page.body, /action="\/account\/applications\/webapp\/revoke"/);

    const crossSite = await b.post('/account/applications/webapp/revoke', { csrf: hidden(page.body, 'csrf') }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.statusCode, 403);
    const noToken = await b.post('/account/applications/webapp/revoke', {});
    assert.equal(noToken.statusCode, 403);
    await assertLive('webapp', web, 'after refused form posts').then((next) => Object.assign(web, next));

    const done = await b.post('/account/applications/webapp/revoke', { csrf: hidden(page.body, 'csrf') });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account?notice=application-revoked');
    await assertRevoked('webapp', web, 'revoked on /account');
    await assertLive('webapp2', web2, 'the other one on /account');
    const unknown = await b.post('/account/applications/nobody/revoke', { csrf: hidden(page.body, 'csrf') });
    assert.equal(unknown.statusCode, 404);
  });

  it('SEC-OAUTH-22: RP-initiated logout revokes the tokens tied to that browser session — not the offline_access grant, not another session’s', async () => {
    const { email, cookie } = await newUser('endsession');
    const bound = await obtainTokens(t, cookie, { clientId: 'webapp', scope: 'openid profile' });
    const offline = await obtainTokens(t, cookie, { clientId: 'webapp2', scope: 'openid offline_access' });
    const otherSession = await signIn(t, email);
    const elsewhere = await obtainTokens(t, otherSession, { clientId: 'webapp' });
    const pending = await obtainCode(t, cookie, { clientId: 'webapp' });

    const logout = await t.app.inject({ url: `/oauth/end-session?${new URLSearchParams({ id_token_hint: bound.id_token!, post_logout_redirect_uri: 'https://app.example/bye', state: 'x' })}`, headers: { cookie } });
    assert.equal(logout.statusCode, 303, logout.body);
    assert.match(String(logout.headers.location), /^https:\/\/app\.example\/bye\?state=x$/);
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie } })).statusCode, 401, 'the session ended');

    await assertRevoked('webapp', bound, 'session-bound grant');
    const redeemed = await redeem(t, 'webapp', pending.code, pending.verifier);
    assert.equal(redeemed.statusCode, 400, 'a code of the ended session is worthless');
    const offlineNext = await refreshAs(t, 'webapp2', offline.refresh_token!);
    assert.equal(offlineNext.statusCode, 200, `offline_access survives the logout: ${offlineNext.body}`);
    assert.equal((await introspectAs(t, 'webapp2', (offlineNext.json() as CodeTokens).access_token)).json().active, true);
    await assertLive('webapp', elsewhere, 'another session of the same user');
  });

  it('SEC-OAUTH-22: signing out (API) revokes the session-bound tokens too, and keeps offline_access', async () => {
    const { cookie } = await newUser('signout');
    const bound = await obtainTokens(t, cookie, { clientId: 'webapp' });
    const offline = await obtainTokens(t, cookie, { clientId: 'webapp2', scope: 'openid offline_access' });
    const out = await postJSON(t, '/api/auth/sign-out', {}, { cookie });
    assert.ok(out.statusCode === 200 || out.statusCode === 204, out.body);
    await assertRevoked('webapp', bound, 'after sign-out');
    assert.equal((await refreshAs(t, 'webapp2', offline.refresh_token!)).statusCode, 200, 'offline_access survives sign-out');
  });
});
