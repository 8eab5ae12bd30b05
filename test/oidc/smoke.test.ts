/**
 * The authorization code flow end to end through `app.inject()`: sign-in, consent, code, token
 * exchange with PKCE, ID token, userinfo, code reuse. The browser and real-client versions of
 * these checks live beside this file; this one pins the server's own behaviour step by step.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn, setCookie } from '../support/auth.ts';
import { basic, claims, createOAuthApp, fixtureClients, postForm, SECRETS } from '../support/oauth.ts';

const REDIRECT = 'https://app.example/callback';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function hidden(body: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(body);
  assert.ok(match, `hidden field ${name}`);
  return match[1]!.replaceAll('&amp;', '&');
}

describe('authorization code flow (inject)', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = await createOAuthApp({
      clients: fixtureClients({
        extra: [{ client_id: 'webapp', name: 'Web App', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: createHash('sha256').update('webapp-secret-webapp-secret-webapp-secret').digest('base64url'), grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT], post_logout_redirect_uris: ['https://app.example/bye'], scopes: ['openid', 'profile', 'email', 'offline_access'], audiences: [] }],
      }),
    });
    cookie = await registerAndSignIn(t, 'oidc-user@example.com');
  });
  after(() => t.close());

  async function authorize(query: Record<string, string>, cookies: string): Promise<LightMyRequestResponse> {
    return t.app.inject({ url: `/oauth/authorize?${new URLSearchParams(query)}`, headers: { cookie: cookies } });
  }

  it('consent, code, token with PKCE, ID token, userinfo; a second redemption fails and revokes', async () => {
    const { verifier, challenge } = pkce();
    const query = { client_id: 'webapp', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid email profile', state: 'st-1', nonce: 'n-1', code_challenge: challenge, code_challenge_method: 'S256' };
    const consentPage = await authorize(query, cookie);
    assert.equal(consentPage.statusCode, 200, consentPage.body);
    assert.match(consentPage.body, /Allow <strong>Web App<\/strong>/);
    assert.match(String(consentPage.headers['content-security-policy']), /form-action 'self' https:\/\/app\.example/);
    const csrfCookie = setCookie(consentPage, '__Host-gatehouse-csrf')?.split(';')[0];
    const cookies = csrfCookie ? `${cookie}; ${csrfCookie}` : cookie;
    const form = new URLSearchParams({ interaction: hidden(consentPage.body, 'interaction'), decision: 'allow' });
    form.set(FIELD, hidden(consentPage.body, FIELD));
    const answer = await t.app.inject({ method: 'POST', url: '/oauth/authorize/consent', headers: { cookie: cookies, origin: new URL(t.config.publicUrl).origin, 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
    assert.equal(answer.statusCode, 303, answer.body);
    const location = new URL(String(answer.headers.location));
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
    assert.equal(location.searchParams.get('state'), 'st-1');
    assert.equal(location.searchParams.get('iss'), t.config.publicUrl);
    const code = location.searchParams.get('code')!;

    const exchange = (params: Record<string, string>) => postForm(t, '/oauth/token', params, { authorization: basic('webapp', 'webapp-secret-webapp-secret-webapp-secret') });
    const token = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(token.statusCode, 200, token.body);
    const body = token.json() as { access_token: string; id_token: string; refresh_token: string; scope: string };
    const id = claims(body.id_token);
    assert.equal(id.aud, 'webapp');
    assert.equal(id.nonce, 'n-1');
    assert.equal(id.email, 'oidc-user@example.com');
    assert.equal(typeof id.at_hash, 'string');
    assert.ok(Array.isArray(claims(body.access_token).aud) || claims(body.access_token).aud === t.config.publicUrl);

    const userinfo = await t.app.inject({ url: '/oauth/userinfo', headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(userinfo.statusCode, 200, userinfo.body);
    assert.equal((userinfo.json() as { email: string }).email, 'oidc-user@example.com');

    // Remembered consent: the next request goes straight to a code.
    const again = await authorize({ ...query, code_challenge: pkce().challenge }, cookie);
    assert.equal(again.statusCode, 303, again.body);
    assert.ok(new URL(String(again.headers.location)).searchParams.get('code'));

    const replay = await exchange({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(replay.statusCode, 400);
    assert.equal((replay.json() as { error: string }).error, 'invalid_grant');
    const after = await t.app.inject({ url: '/oauth/userinfo', headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(after.statusCode, 401, 'the tokens of the first redemption were revoked');
    void SECRETS;
  });

  it('unknown client or redirect URI: an error page, never a redirect', async () => {
    const { challenge } = pkce();
    for (const [client, redirect] of [['nobody', REDIRECT], ['webapp', 'https://evil.example/callback'], ['webapp', `${REDIRECT}/`]] as const) {
      const response = await authorize({ client_id: client, redirect_uri: redirect, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }, cookie);
      assert.equal(response.statusCode >= 400 && response.statusCode < 500, true, `${client} ${redirect}: ${response.statusCode}`);
      assert.equal(response.headers.location, undefined);
    }
  });
});

const FIELD = 'csrf';
