/**
 * Hostile authorization requests and the code they should never produce (security-requirements
 * §2.1–2.3, 2.7, 2.9, SEC-JWT-11, SEC-REL-01): redirect-URI manipulation, open redirects, PKCE
 * abuse, code binding, lifetime and reuse, front-channel tokens, state/iss, consent integrity,
 * clickjacking and leakage headers, bearer-token handling at userinfo, cross-JWT confusion.
 * Black-box through `app.inject()`, plus one Chromium check that the pages cannot be framed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { Browser, BrowserContext } from 'playwright-core';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { clientToken, introspect } from '../support/oauth.ts';
import {
  answerConsent,
  assertErrorPage,
  assertErrorRedirect,
  authorize,
  authorizeInBrowser,
  authorizeUrl,
  authzQuery,
  bounded,
  browse,
  chromiumSkip,
  clientAuth,
  codeTokens,
  createOidcApp,
  diagnosed,
  hidden,
  introspectAs,
  isConsentPage,
  isLoginPage,
  launchChromium,
  listeningOidcApp,
  location,
  manualClock,
  NATIVE_REDIRECT,
  NATIVE_REDIRECT_V6,
  obtainCode,
  obtainTokens,
  oidcClients,
  OIDC_SCOPES,
  OIDC_SECRETS,
  pkce,
  POST_LOGOUT,
  pressConsent,
  redeem,
  REDIRECT,
  REDIRECT_2,
  redirectParams,
  refreshAs,
  startCallbackServer,
  tokenAs,
  userinfo,
  withCsrfCookie,
} from '../support/oidc.ts';

const ISSUER = 'https://id.example';
const SESSION_COOKIE = '__Host-gatehouse';

/** Extra clients: a public native app twin, a confidential client registered with a loopback URI, one without refresh. */
const EXTRA_CLIENTS = [
  { client_id: 'native2', name: 'Native Two', type: 'public', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [NATIVE_REDIRECT], scopes: OIDC_SCOPES, audiences: [] },
  {
    client_id: 'loopconf',
    name: 'Loopback Confidential',
    type: 'confidential',
    token_endpoint_auth_method: 'client_secret_basic',
    client_secret_hash: createHash('sha256').update(OIDC_SECRETS.loopconf!).digest('base64url'),
    grant_types: ['authorization_code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    scopes: OIDC_SCOPES,
    audiences: [],
  },
];

/** SEC-OAUTH-01 corpus: every value differs from the registered `https://app.example/callback`. */
const REDIRECT_VARIANTS: readonly string[] = [
  'https://app.example/callback/',
  'https://app.example/Callback',
  'https://app.example/CALLBACK',
  'https://APP.example/callback',
  'https://app.EXAMPLE/callback',
  'HTTPS://app.example/callback',
  'https://app.example/callback?',
  'https://app.example/callback?x=1',
  'https://app.example/callback?code=attacker',
  'https://app.example/callback#',
  'https://app.example/callback#frag',
  'http://app.example/callback',
  'https://app.example:443/callback',
  'https://app.example:8443/callback',
  'https://app.example.evil.com/callback',
  'https://evil.com/app.example/callback',
  'https://evil.com/?https://app.example/callback',
  'https://app.example@evil.com/callback',
  'https://app.example:443@evil.com/callback',
  'https://evil.com\\@app.example/callback',
  'https://evil.com%40app.example/callback',
  'https://user:pass@app.example/callback',
  'https://app.example/callback/../x',
  'https://app.example/x/../callback',
  'https://app.example/./callback',
  'https://app.example//callback',
  'https://app.example/callback/.',
  'https://app.example/callback/%2e%2e/',
  'https://app.example/callback/%2E%2E/evil',
  'https://app.example/callback/%252e%252e/',
  'https://app.example/callback%2f..',
  'https://app.example/callback%2F..%2F..%2Fevil',
  'https://app.example/%63allback',
  'https://app.example/callback%3Fx=1',
  'https://app.example/callback%23frag',
  'https://app.example/callback;jsessionid=x',
  'https://app.example/callback\\',
  'https://app.example\\callback',
  'https://app.example./callback',
  'https://app.example../callback',
  'https://аpp.example/callback', // Cyrillic а
  'https://xn--pp-7kc.example/callback',
  'https://ａｐｐ.example/callback', // fullwidth
  ' https://app.example/callback',
  'https://app.example/callback ',
  'https://app.example/callback%20',
  'https://app.example/callback\t',
  'https://app.example/callback\r\nLocation: https://evil.com',
  'https://app.example/callback%0d%0aSet-Cookie:%20x=1',
  'https://app.example/callback\u0000',
  'http://localhost:80@evil.com',
  'http://localhost:80@evil.com/callback',
  '//app.example/callback',
  '//evil.com',
  '/callback',
  'app.example/callback',
  'https:app.example/callback',
  'https:/app.example/callback',
  'https:///app.example/callback',
  'javascript:alert(1)//https://app.example/callback',
  'data:text/html,<script>alert(1)</script>',
  'https://app.example/callback'.repeat(100),
];

describe('hostile authorization requests (inject)', { timeout: 120_000 }, () => {
  let t: TestApp;
  let users = 0;

  before(async () => {
    t = await createOidcApp({ clients: oidcClients(EXTRA_CLIENTS), env: { GATEHOUSE_PUBLIC_URL: ISSUER } });
  });
  after(() => t.close());

  async function signedInBrowser(prefix = 'h'): Promise<{ email: string; b: PageBrowser; cookie: string }> {
    const email = `${prefix}-${++users}@example.com`;
    const cookie = await registerAndSignIn(t, email);
    const b = createBrowser(t.app);
    b.jar.set(SESSION_COOKIE, cookie.slice(`${SESSION_COOKIE}=`.length));
    return { email, b, cookie };
  }

  /** A browser whose user already consented to webapp (so requests are answered without a page). */
  async function consentedBrowser(prefix = 'c', clientId = 'webapp'): Promise<{ email: string; b: PageBrowser; cookie: string }> {
    const user = await signedInBrowser(prefix);
    const { response } = await authorizeInBrowser(t, user.b, authzQuery({ clientId, challenge: pkce().challenge, redirectUri: clientId === 'native' || clientId === 'native2' ? NATIVE_REDIRECT : REDIRECT }));
    assert.ok(redirectParams(t, response, clientId === 'native' || clientId === 'native2' ? NATIVE_REDIRECT : REDIRECT).get('code'));
    return user;
  }

  function get(b: PageBrowser, query: Record<string, string>): Promise<LightMyRequestResponse> {
    return b.get(authorizeUrl(query));
  }

  /** Every Location is on this server or a registered redirect host of the client (SEC-OAUTH-04). */
  function assertNoForeignRedirect(response: LightMyRequestResponse, allowedOrigins: string[], what: string): void {
    const target = response.headers.location;
    if (target === undefined) return;
    const url = new URL(String(target), ISSUER);
    assert.ok([ISSUER, ...allowedOrigins].includes(url.origin), `${what}: redirected to ${url.href}`);
  }

  // --- SEC-OAUTH-01 ---------------------------------------------------------------------------

  it('SEC-OAUTH-01: every redirect_uri variant of the registered one → error page, no Location — logged out, logged in with consent, and with prompt=none', async () => {
    const anonymous = createBrowser(t.app);
    const { b } = await consentedBrowser('variants');
    for (const variant of REDIRECT_VARIANTS) {
      for (const [who, browser] of [['logged out', anonymous], ['logged in', b]] as const) {
        for (const prompt of [undefined, 'none']) {
          const query = authzQuery({ challenge: pkce().challenge, redirectUri: variant, state: 'st', ...(prompt ? { extra: { prompt } } : {}) });
          const response = await get(browser, query);
          assertErrorPage(response, `${who} ${prompt ?? ''} ${JSON.stringify(variant)}`);
        }
      }
    }
  });

  it('SEC-OAUTH-01: a redirect_uri sent twice (registered and evil) → error page', async () => {
    const { b } = await consentedBrowser('dup');
    const { challenge } = pkce();
    for (const pair of [[REDIRECT, 'https://evil.com/cb'], ['https://evil.com/cb', REDIRECT], [REDIRECT, REDIRECT]]) {
      const params = new URLSearchParams(authzQuery({ challenge }));
      params.delete('redirect_uri');
      for (const value of pair) params.append('redirect_uri', value);
      assertErrorPage(await b.get(`/oauth/authorize?${params}`), `redirect_uri ${pair.join(' + ')}`);
    }
    const twice = new URLSearchParams(authzQuery({ challenge }));
    twice.append('client_id', 'webapp2');
    assertErrorPage(await b.get(`/oauth/authorize?${twice}`), 'client_id twice');
  });

  // --- SEC-OAUTH-02 ---------------------------------------------------------------------------

  it('SEC-OAUTH-02: a public native client registered with http://127.0.0.1/cb or http://[::1]/cb may use any port there — and the code is redeemed with that exact URI', async () => {
    const { cookie } = await consentedBrowser('loopok', 'native');
    for (const redirectUri of ['http://127.0.0.1:51234/cb', 'http://[::1]:51234/cb', 'http://127.0.0.1:1/cb', 'http://127.0.0.1:65535/cb', NATIVE_REDIRECT, NATIVE_REDIRECT_V6]) {
      const result = await obtainCode(t, cookie, { clientId: 'native', redirectUri, state: 'lb' });
      const token = await redeem(t, 'native', result.code, result.verifier, redirectUri);
      assert.equal(token.statusCode, 200, `${redirectUri}: ${token.body}`);
      assert.equal(token.json().refresh_token !== undefined, true);
    }
    // The port is part of the redirect URI at the token endpoint: another port → invalid_grant.
    const result = await obtainCode(t, cookie, { clientId: 'native', redirectUri: 'http://127.0.0.1:51234/cb' });
    const other = await redeem(t, 'native', result.code, result.verifier, 'http://127.0.0.1:51235/cb');
    assert.equal(other.statusCode, 400);
    assert.equal(other.json().error, 'invalid_grant');
  });

  it('SEC-OAUTH-02: the loopback port exception covers nothing else (path, host, localhost, other loopback forms, https, confidential clients)', async () => {
    const { b } = await consentedBrowser('loopbad', 'native');
    const bad = [
      'http://127.0.0.1:51234/other',
      'http://127.0.0.1:51234/cb/',
      'http://127.0.0.1:51234/CB',
      'http://127.0.0.1:51234/cb?x=1',
      'http://127.0.0.1:51234/cb#x',
      'http://127.0.0.1:51234/cb/../cb',
      'http://127.0.0.2:51234/cb',
      'http://127.1:51234/cb',
      'http://0x7f000001:51234/cb',
      'http://2130706433:51234/cb',
      'http://[::ffff:127.0.0.1]:51234/cb',
      'http://[0:0:0:0:0:0:0:1]:51234/cb',
      'http://localhost:51234/cb',
      'http://localhost/cb',
      'http://localhost.evil.com:51234/cb',
      'http://127.0.0.1.evil.com:51234/cb',
      'http://127.0.0.1:51234@evil.com/cb',
      'http://evil.com@127.0.0.1:51234/cb',
      'https://127.0.0.1:51234/cb',
      'http://127.0.0.1:0/cb',
      'http://127.0.0.1:65536/cb',
      'http://127.0.0.1:123456/cb',
      'http://127.0.0.1:-1/cb',
      'http://127.0.0.1:/cb',
      'http://127.0.0.1: 5000/cb',
      'http://127.0.0.1:5000 /cb',
    ];
    for (const redirectUri of bad) {
      assertErrorPage(await get(b, authzQuery({ clientId: 'native', redirectUri, challenge: pkce().challenge })), redirectUri);
    }
    // Not for confidential clients, even with a registered loopback URI; not for web clients at another port.
    assertErrorPage(await get(b, authzQuery({ clientId: 'loopconf', redirectUri: 'http://127.0.0.1:51234/cb', challenge: pkce().challenge })), 'confidential loopback with a port');
    assertErrorPage(await get(b, authzQuery({ clientId: 'webapp', redirectUri: 'https://app.example:8443/callback', challenge: pkce().challenge })), 'web client at another port');
  });

  // --- SEC-OAUTH-03 ---------------------------------------------------------------------------

  it('SEC-OAUTH-03: a redirect_uri sent in the authorization request must be repeated identically at the token endpoint', async () => {
    const { cookie } = await consentedBrowser('rdconsist');
    for (const sent of [null, 'https://app.example/callback/', REDIRECT_2, 'https://evil.com/cb']) {
      const result = await obtainCode(t, cookie, {});
      const response = await redeem(t, 'webapp', result.code, result.verifier, sent);
      assert.equal(response.statusCode, 400, `${sent}: ${response.body}`);
      assert.equal(response.json().error, 'invalid_grant');
    }
  });

  it('SEC-OAUTH-03: with one registered URI the request may omit it; then the token request may omit it too, or send exactly it — nothing else', async () => {
    const { b } = await consentedBrowser('rdomit');
    for (const [sent, expected] of [[null, 200], [REDIRECT, 200], ['https://app.example/callback/', 400]] as const) {
      const { verifier, challenge } = pkce();
      const query = authzQuery({ challenge, state: 'o' });
      delete query.redirect_uri;
      const code = redirectParams(t, await get(b, query)).get('code')!;
      const response = await redeem(t, 'webapp', code, verifier, sent);
      assert.equal(response.statusCode, expected, `${sent}: ${response.body}`);
    }
    // Two registered URIs: omitting it is an error page (see the conformance module too).
    const query = authzQuery({ clientId: 'twouris', challenge: pkce().challenge });
    delete query.redirect_uri;
    assertErrorPage(await get(b, query), 'two URIs, none sent');
  });

  // --- SEC-OAUTH-04 ---------------------------------------------------------------------------

  it('SEC-OAUTH-04: unknown or missing client, a client-credentials-only client, an invalid redirect_uri — with or without prompt=none — never redirect', async () => {
    const { b } = await consentedBrowser('openredir');
    const cases: [string, Record<string, string>][] = [
      ['unknown client', { client_id: 'nobody', redirect_uri: 'https://evil.com/cb' }],
      ['unknown client, registered URI of another', { client_id: 'nobody', redirect_uri: REDIRECT }],
      ['client_id empty', { client_id: '', redirect_uri: 'https://evil.com/cb' }],
      ['client_id huge', { client_id: 'x'.repeat(5000), redirect_uri: 'https://evil.com/cb' }],
      ['client_id with NUL', { client_id: 'webapp\u0000', redirect_uri: REDIRECT }],
      ['client_id case', { client_id: 'WEBAPP', redirect_uri: REDIRECT }],
      ['cc-only client (SEC-OAUTH-14)', { client_id: 'svc', redirect_uri: 'https://evil.com/cb' }],
      ['invalid redirect_uri', { client_id: 'webapp', redirect_uri: 'https://evil.com/cb' }],
      ['redirect_uri of another client', { client_id: 'queryweb', redirect_uri: REDIRECT }],
    ];
    for (const [what, override] of cases) {
      for (const prompt of [undefined, 'none']) {
        const query = { ...authzQuery({ challenge: pkce().challenge, state: 's' }), ...override, ...(prompt ? { prompt } : {}) };
        if (override.client_id === '') delete (query as Record<string, string>).client_id;
        const response = await get(b, query);
        assertErrorPage(response, `${what} ${prompt ?? ''}`);
      }
    }
    // Also: with every other parameter broken at the same time, the client/redirect checks come first.
    const response = await get(b, { client_id: 'nobody', redirect_uri: 'https://evil.com/cb', response_type: 'token', scope: 'x', prompt: 'none' });
    assertErrorPage(response, 'all broken');
  });

  it('SEC-OAUTH-04: the hosted sign-in keeps only local return_to values; an authorization in progress comes back to it', async () => {
    const email = `returnto-${++users}@example.com`;
    await registerAndSignIn(t, email);
    const hostile = ['//evil.com', '/\\evil.com', '/\\/evil.com', 'https:evil.com', 'https://evil.com', 'http://evil.com/oauth/authorize', 'javascript:alert(1)', '/%2F%2Fevil.com', '/%5Cevil.com', '\t//evil.com', '/\t/evil.com', ' /account', '//evil.com/%2e%2e', '/oauth/authorize/continue?interaction=x@evil.com'];
    for (const value of hostile) {
      const b = createBrowser(t.app);
      const page = await b.get(`/login?return_to=${encodeURIComponent(value)}`);
      const response = await b.post('/login', { email, password: PASSWORD, csrf: hidden(page.body, 'csrf'), return_to: value });
      assert.equal(response.statusCode, 303, `${JSON.stringify(value)}: ${response.statusCode}`);
      assertNoForeignRedirect(response, [], JSON.stringify(value));
      assert.ok(String(response.headers.location).startsWith('/'), `${JSON.stringify(value)} → ${String(response.headers.location)}`);
      assert.ok(!String(response.headers.location).startsWith('//'), `${JSON.stringify(value)} → ${String(response.headers.location)}`);
    }
    // The legitimate case: the authorization request survives the sign-in.
    const b = createBrowser(t.app);
    const { response, signedIn, consented } = await authorizeInBrowser(t, b, authzQuery({ challenge: pkce().challenge, state: 'rt' }), { email });
    assert.ok(signedIn && consented);
    assert.equal(redirectParams(t, response).get('state'), 'rt');
  });

  it('SEC-OAUTH-04: end-session follows only an exactly registered post_logout_redirect_uri of the client the id_token_hint names', async () => {
    const { b, cookie } = await consentedBrowser('endsess');
    const tokens = await obtainTokens(t, cookie, {});
    const variants = [
      `${POST_LOGOUT}/`,
      'https://APP.example/bye',
      `${POST_LOGOUT}#x`,
      `${POST_LOGOUT}?x=1`,
      `${POST_LOGOUT}%20`,
      'http://app.example/bye',
      'https://app.example/bye/../bye',
      'https://app.example.evil.com/bye',
      'https://app.example@evil.com/bye',
      '//evil.com',
      '/\\evil.com',
      'https:evil.com',
      'javascript:alert(1)',
      'https://app2.example/bye', // registered, but for webapp2
      REDIRECT, // a redirect_uri, not a post-logout URI
    ];
    for (const uri of variants) {
      const out = await b.get(`/oauth/end-session?${new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: uri, state: 's' })}`);
      assertNoForeignRedirect(out, [], uri);
      assert.ok(b.jar.get(SESSION_COOKIE), `${uri}: the session is kept when the request is refused`);
    }
  });

  // --- SEC-OAUTH-06 … 09: PKCE ---------------------------------------------------------------

  it('SEC-OAUTH-06/07: no code_challenge, plain, a missing, unknown or mis-cased method → invalid_request error redirect (iss, state), for confidential and public clients', async () => {
    for (const clientId of ['webapp', 'native'] as const) {
      const { b } = await consentedBrowser(`pkce-${clientId}`, clientId);
      const redirectUri = clientId === 'native' ? NATIVE_REDIRECT : REDIRECT;
      const { verifier, challenge } = pkce();
      const variants: [string, Record<string, string | undefined>][] = [
        ['no challenge, no method', { code_challenge: undefined, code_challenge_method: undefined }],
        ['no challenge, S256', { code_challenge: undefined }],
        ['plain', { code_challenge: verifier, code_challenge_method: 'plain' }],
        ['plain with an S256-shaped challenge', { code_challenge_method: 'plain' }],
        ['method missing (RFC 7636 default plain)', { code_challenge_method: undefined }],
        ['s256', { code_challenge_method: 's256' }],
        ['S512', { code_challenge_method: 'S512' }],
        ['S256 with a space', { code_challenge_method: 'S256 ' }],
        ['empty method', { code_challenge_method: '' }],
      ];
      for (const [what, override] of variants) {
        const query: Record<string, string> = { ...authzQuery({ clientId, redirectUri, challenge, state: 'pk' }) };
        for (const [name, value] of Object.entries(override)) {
          if (value === undefined) delete query[name];
          else query[name] = value;
        }
        assertErrorRedirect(t, await get(b, query), 'invalid_request', { state: 'pk', redirectUri, what: `${clientId} ${what}` });
      }
    }
  });

  it('SEC-OAUTH-08: a malformed code_challenge (padding, +/, wrong length, bad characters) → invalid_request', async () => {
    const { b } = await consentedBrowser('pkcechallenge');
    const good = pkce().challenge;
    for (const challenge of [`${good}=`, good.slice(0, 42), `${good}A`, 'A'.repeat(128), good.replace(/^./, '+'), good.replace(/^./, '/'), good.replace(/^./, '.'), good.replace(/^./, '~'), good.replace(/^./, ' '), good.replace(/^./, 'é')]) {
      assertErrorRedirect(t, await get(b, authzQuery({ challenge, state: 'c' })), 'invalid_request', { state: 'c', what: challenge });
    }
  });

  it('SEC-OAUTH-08: no verifier, a wrong one, one of another code, 42 or 129 characters, bad characters, the challenge itself → refused; any failed attempt burns the code', async () => {
    const { cookie } = await consentedBrowser('pkceverifier');
    const other = pkce();
    const attempts: [string, (verifier: string, challenge: string) => string | undefined][] = [
      ['missing', () => undefined],
      ['wrong', () => pkce().verifier],
      ['another code’s', () => other.verifier],
      ['42 characters', () => 'a'.repeat(42)],
      ['129 characters', () => 'a'.repeat(129)],
      ['right one plus a character (44)', (verifier) => `${verifier}a`],
      ['with +', (verifier) => `${verifier.slice(0, -1)}+`],
      ['with /', (verifier) => `${verifier.slice(0, -1)}/`],
      ['with =', (verifier) => `${verifier}=`],
      ['with a space', (verifier) => `${verifier.slice(0, -1)} `],
      ['non-ASCII', (verifier) => `${verifier.slice(0, -1)}é`],
      ['the challenge (plain downgrade)', (_verifier, challenge) => challenge],
      ['empty', () => ''],
    ];
    for (const [what, make] of attempts) {
      const result = await obtainCode(t, cookie, {});
      const challenge = createHash('sha256').update(result.verifier).digest('base64url');
      const verifier = make(result.verifier, challenge);
      const response = await tokenAs(t, 'webapp', { grant_type: 'authorization_code', code: result.code, redirect_uri: REDIRECT, ...(verifier === undefined ? {} : { code_verifier: verifier }) });
      assert.equal(response.statusCode, 400, `${what}: ${response.body}`);
      assert.ok(['invalid_grant', 'invalid_request'].includes(response.json().error), `${what}: ${response.body}`);
      assert.ok(!('access_token' in response.json()));
      const retry = await redeem(t, 'webapp', result.code, result.verifier);
      assert.equal(retry.statusCode, 400, `${what}: the code is burned, the right verifier no longer works`);
      assert.equal(retry.json().error, 'invalid_grant');
    }
  });

  it('SEC-OAUTH-09: no code is ever issued without a challenge, so a verifier can never be attached to a challenge-less code (and a challenged code needs its verifier)', async () => {
    const { b } = await consentedBrowser('downgrade');
    const query = authzQuery({ challenge: 'x', state: 'd' });
    delete query.code_challenge;
    delete query.code_challenge_method;
    for (const prompt of [undefined, 'none', 'consent']) {
      const response = await get(b, { ...query, ...(prompt ? { prompt } : {}) });
      assert.equal(redirectParams(t, response).get('code'), null, `prompt ${prompt}`);
    }
  });

  // --- SEC-OAUTH-10 / SEC-REL-01 ---------------------------------------------------------------

  it('SEC-REL-01: 20 parallel redemptions of one code → at most one success, the rest invalid_grant (10 rounds)', async () => {
    const { cookie } = await consentedBrowser('parallel');
    for (let round = 0; round < 10; round++) {
      const result = await obtainCode(t, cookie, {});
      const responses = await Promise.all(Array.from({ length: 20 }, () => redeem(t, 'webapp', result.code, result.verifier)));
      const ok = responses.filter((response) => response.statusCode === 200);
      assert.ok(ok.length <= 1, `round ${round}: ${ok.length} successes`);
      for (const response of responses) {
        if (response.statusCode !== 200) {
          assert.equal(response.statusCode, 400, response.body);
          assert.equal(response.json().error, 'invalid_grant');
        }
      }
    }
  });

  // --- SEC-OAUTH-11 ---------------------------------------------------------------------------

  it('SEC-OAUTH-11: a code is bound to its client and redirect URI — webapp2 with its own credentials, another public client_id, another redirect_uri → invalid_grant; the code is burned', async () => {
    const { cookie } = await consentedBrowser('bind');
    const cross = await obtainCode(t, cookie, {});
    const stolen = await redeem(t, 'webapp2', cross.code, cross.verifier);
    assert.equal(stolen.statusCode, 400, stolen.body);
    assert.equal(stolen.json().error, 'invalid_grant');
    const legit = await redeem(t, 'webapp', cross.code, cross.verifier);
    assert.equal(legit.statusCode, 400, 'documented: the code is burned by the cross-client attempt');

    const withoutAuth = await obtainCode(t, cookie, {});
    const anonymous = await tokenAs(t, 'native', { grant_type: 'authorization_code', code: withoutAuth.code, code_verifier: withoutAuth.verifier, redirect_uri: REDIRECT, client_id: 'webapp' });
    assert.ok(anonymous.statusCode === 400 || anonymous.statusCode === 401, `webapp's code without webapp's secret: ${anonymous.body}`);
    assert.ok(!('access_token' in anonymous.json()));

    const { cookie: nativeCookie } = await consentedBrowser('bindnative', 'native');
    const pub = await obtainCode(t, nativeCookie, { clientId: 'native' });
    const other = await tokenAs(t, 'native2', { grant_type: 'authorization_code', code: pub.code, code_verifier: pub.verifier, redirect_uri: NATIVE_REDIRECT });
    assert.equal(other.statusCode, 400, other.body);
    assert.equal(other.json().error, 'invalid_grant');

    const twoUris = await signedInBrowser('bindtwo');
    const { verifier, challenge } = pkce();
    const { response } = await authorizeInBrowser(t, twoUris.b, authzQuery({ clientId: 'twouris', redirectUri: REDIRECT_2, challenge }));
    const code = redirectParams(t, response, REDIRECT_2).get('code')!;
    const wrongUri = await redeem(t, 'twouris', code, verifier, REDIRECT);
    assert.equal(wrongUri.statusCode, 400);
    assert.equal(wrongUri.json().error, 'invalid_grant');
  });

  // --- SEC-OAUTH-13 ---------------------------------------------------------------------------

  it('SEC-OAUTH-13: token, id_token and hybrid response types → unsupported_response_type error redirect; no token anywhere in the URL', async () => {
    const { b } = await consentedBrowser('implicit');
    for (const responseType of ['token', 'id_token', 'id_token token', 'code token', 'code id_token', 'code id_token token', 'none', 'CODE', 'code code', 'code ', 'token code']) {
      const response = await get(b, authzQuery({ challenge: pkce().challenge, state: 'rt', nonce: 'n', extra: { response_type: responseType } }));
      const target = location(t, response);
      assert.equal(target.hash, '', `${responseType}: nothing in a fragment`);
      assert.doesNotMatch(target.href, /access_token|id_token=|[?&]code=/, `${responseType}: ${target.href}`);
      const error = target.searchParams.get('error');
      assert.ok(error === 'unsupported_response_type' || error === 'invalid_request', `${responseType}: ${target.href}`);
      assertErrorRedirect(t, response, error!, { state: 'rt', what: responseType });
    }
    for (const mode of ['fragment', 'form_post', 'query.jwt', 'jwt']) {
      const response = await get(b, authzQuery({ challenge: pkce().challenge, state: 'rm', extra: { response_mode: mode } }));
      assert.equal(location(t, response).hash, '', `${mode}: never a fragment`);
      assertErrorRedirect(t, response, 'invalid_request', { state: 'rm', what: mode });
    }
    const password = await tokenAs(t, 'webapp', { grant_type: 'password', username: 'a@example.com', password: PASSWORD, scope: 'openid' });
    assert.equal(password.statusCode, 400);
    assert.equal(password.json().error, 'unsupported_grant_type');
    const implicit = await tokenAs(t, 'webapp', { grant_type: 'implicit' });
    assert.equal(implicit.statusCode, 400);
  });

  // --- SEC-OAUTH-26 / 27 ----------------------------------------------------------------------

  it('SEC-OAUTH-27: state comes back byte for byte (1 KiB, reserved characters, Unicode, CR/LF); no state sent → none returned; over the limit → refused, never truncated', async () => {
    const { cookie } = await consentedBrowser('state');
    const states = ['x'.repeat(1024), 'a&b=c+d#e%f?g/h', '  spaced  ', 'ü😀中文', 'line\r\nSet-Cookie: injected=1', '"><script>alert(1)</script>', '%00%', randomBytes(300).toString('base64')];
    for (const state of states) {
      const result = await obtainCode(t, cookie, { state });
      assert.equal(result.params.get('state'), state);
    }
    const none = await obtainCode(t, cookie, {});
    assert.equal(none.params.has('state'), false);
    const b = createBrowser(t.app);
    b.jar.set(SESSION_COOKIE, cookie.slice(`${SESSION_COOKIE}=`.length));
    const long = await get(b, authzQuery({ challenge: pkce().challenge, state: 's'.repeat(5000) }));
    if (long.headers.location !== undefined) {
      const params = redirectParams(t, long);
      assert.equal(params.get('code'), null, 'no code for an over-long state');
      assert.equal(params.get('error'), 'invalid_request');
      assert.ok(params.get('state') === null || params.get('state') === 's'.repeat(5000), 'never truncated');
    } else {
      assertErrorPage(long, 'over-long state');
    }
    const injected = await get(b, authzQuery({ challenge: pkce().challenge, state: 'a\r\nSet-Cookie: injected=1' }));
    const setCookies = [injected.headers['set-cookie'] ?? []].flat();
    assert.ok(!setCookies.some((value) => String(value).includes('injected')), 'no header injection');
  });

  it('SEC-OAUTH-26: every authorization response — code, error, prompt=none error, consent denial — carries iss equal to the discovery issuer', async () => {
    const issuer = (await t.app.inject({ url: '/.well-known/openid-configuration' })).json().issuer as string;
    assert.equal(issuer, ISSUER);
    const { b, email } = await signedInBrowser('iss');
    const deny = await authorizeInBrowser(t, b, authzQuery({ challenge: pkce().challenge, state: 'd' }), { consent: 'deny' });
    assert.equal(redirectParams(t, deny.response).get('iss'), issuer, 'deny');
    const ok = await authorizeInBrowser(t, b, authzQuery({ challenge: pkce().challenge, state: 'o' }));
    assert.equal(redirectParams(t, ok.response).get('iss'), issuer, 'code');
    const error = await get(b, authzQuery({ challenge: pkce().challenge, state: 'e', scope: 'openid nope' }));
    assert.equal(redirectParams(t, error).get('iss'), issuer, 'invalid_scope');
    const none = await get(createBrowser(t.app), authzQuery({ challenge: pkce().challenge, state: 'n', extra: { prompt: 'none' } }));
    assert.equal(redirectParams(t, none).get('iss'), issuer, 'login_required');
    void email;
  });

  // --- SEC-OAUTH-30: consent integrity --------------------------------------------------------

  it('SEC-OAUTH-30: the consent page names the client, its id, the redirect host and every requested scope', async () => {
    const { cookie } = await signedInBrowser('consentpage');
    const page = await authorize(t, authzQuery({ challenge: pkce().challenge, scope: 'openid profile email roles offline_access' }), cookie);
    assert.ok(isConsentPage(page));
    assert.match(page.body, /Web App/);
    assert.match(page.body, /webapp/);
    assert.match(page.body, /app\.example/);
    for (const text of ['See your name', 'See your email address', 'See your roles', 'Stay signed in']) assert.ok(page.body.includes(text), text);
  });

  it('SEC-OAUTH-30: a consent POST from another browser session, a replay, a tampered or foreign interaction id → refused, no code', async () => {
    const alice = await signedInBrowser('alice');
    const mallory = await signedInBrowser('mallory');
    const page = await authorize(t, authzQuery({ challenge: pkce().challenge, state: 'a' }), alice.cookie);
    assert.ok(isConsentPage(page));
    const interaction = hidden(page.body, 'interaction');

    // Mallory posts Alice's interaction id with her own (valid) CSRF token.
    const malloryPage = await authorize(t, authzQuery({ challenge: pkce().challenge, state: 'm' }), mallory.cookie);
    const foreign = await answerConsent(t, malloryPage, mallory.cookie, 'allow', { interaction });
    assertErrorPage(foreign, 'interaction of another session');

    // Alice with tampered ids.
    for (const tampered of [interaction.slice(0, -1), `${interaction}A`, 'A'.repeat(32), `${interaction.slice(0, -1)}${interaction.endsWith('A') ? 'B' : 'A'}`, '../' + interaction, '', hidden(malloryPage.body, 'interaction')]) {
      const response = await answerConsent(t, page, alice.cookie, 'allow', { interaction: tampered });
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${JSON.stringify(tampered)}: ${response.statusCode}`);
      assert.equal(response.headers.location, undefined, `${JSON.stringify(tampered)}: no redirect`);
    }

    // Alice's own answer works once; the replay is refused.
    const allowed = await answerConsent(t, page, alice.cookie, 'allow');
    assert.ok(redirectParams(t, allowed).get('code'));
    const replay = await answerConsent(t, page, alice.cookie, 'allow');
    assertErrorPage(replay, 'replayed consent');
  });

  it('SEC-OAUTH-30: the consent POST is CSRF-protected (token, Origin, Sec-Fetch-Site)', async () => {
    const { cookie } = await signedInBrowser('consentcsrf');
    const page = await authorize(t, authzQuery({ challenge: pkce().challenge, state: 'x' }), cookie);
    const cookies = withCsrfCookie(page, cookie);
    const form = (extra: Record<string, string>) => new URLSearchParams({ interaction: hidden(page.body, 'interaction'), decision: 'allow', ...extra }).toString();
    const post = (headers: Record<string, string>, payload: string) => t.app.inject({ method: 'POST', url: '/oauth/authorize/consent', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies, ...headers }, payload });
    const attempts: [string, LightMyRequestResponse][] = [
      ['no csrf token', await post({ origin: ISSUER }, form({}))],
      ['wrong csrf token', await post({ origin: ISSUER }, form({ csrf: 'A'.repeat(43) }))],
      ['cross-site origin', await post({ origin: 'https://evil.example' }, form({ csrf: hidden(page.body, 'csrf') }))],
      ['origin null, cross-site fetch', await post({ origin: 'null', 'sec-fetch-site': 'cross-site' }, form({ csrf: hidden(page.body, 'csrf') }))],
      ['csrf token without its cookie', await t.app.inject({ method: 'POST', url: '/oauth/authorize/consent', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: ISSUER }, payload: form({ csrf: hidden(page.body, 'csrf') }) })],
      ['JSON body', await post({ origin: ISSUER, 'content-type': 'application/json' }, JSON.stringify({ interaction: hidden(page.body, 'interaction'), decision: 'allow', csrf: hidden(page.body, 'csrf') }))],
    ];
    for (const [what, response] of attempts) {
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${what}: ${response.statusCode}`);
      assert.equal(response.headers.location, undefined, `${what}: no redirect`);
    }
    // The page is still answerable afterwards by the real user.
    assert.ok(redirectParams(t, await answerConsent(t, page, cookie, 'allow')).get('code'));
  });

  it('SEC-OAUTH-30: extra fields in the consent POST cannot widen what was asked (scope, client_id, redirect_uri)', async () => {
    const { cookie } = await signedInBrowser('consentwiden');
    const { verifier, challenge } = pkce();
    const page = await authorize(t, authzQuery({ challenge, scope: 'openid', state: 'w' }), cookie);
    const cookies = withCsrfCookie(page, cookie);
    const payload = new URLSearchParams({ interaction: hidden(page.body, 'interaction'), decision: 'allow', csrf: hidden(page.body, 'csrf'), scope: 'openid profile email roles offline_access', client_id: 'webapp2', redirect_uri: 'https://evil.com/cb' }).toString();
    const response = await t.app.inject({ method: 'POST', url: '/oauth/authorize/consent', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies, origin: ISSUER }, payload });
    const code = redirectParams(t, response).get('code')!;
    const tokens = codeTokens(await redeem(t, 'webapp', code, verifier));
    assert.equal(tokens.scope, 'openid');
    const apps = await t.app.inject({ url: '/api/auth/applications', headers: { cookie } });
    assert.deepEqual(apps.json().applications.map((app: { client_id: string; scopes: string[] }) => [app.client_id, app.scopes]), [['webapp', ['openid']]]);
  });

  it('SEC-OAUTH-30: Deny → access_denied (state, iss), no code, and nothing is remembered', async () => {
    const { b } = await signedInBrowser('deny');
    const { response } = await authorizeInBrowser(t, b, authzQuery({ challenge: pkce().challenge, state: 'dn' }), { consent: 'deny' });
    assertErrorRedirect(t, response, 'access_denied', { state: 'dn' });
    const again = await browse(t, b, authorizeUrl(authzQuery({ challenge: pkce().challenge })));
    assert.ok(isConsentPage(again), 'asked again');
    const silent = await get(b, authzQuery({ challenge: pkce().challenge, state: 'sn', extra: { prompt: 'none' } }));
    assertErrorRedirect(t, silent, 'consent_required', { state: 'sn' });
  });

  it('SEC-OAUTH-30: prompt=none without consent → consent_required, no code; prompt=none combined with another value → invalid_request', async () => {
    const { b } = await signedInBrowser('noconsent');
    assertErrorRedirect(t, await get(b, authzQuery({ challenge: pkce().challenge, state: 'p', extra: { prompt: 'none' } })), 'consent_required', { state: 'p' });
    assertErrorRedirect(t, await get(b, authzQuery({ challenge: pkce().challenge, state: 'q', extra: { prompt: 'none consent' } })), 'invalid_request', { state: 'q' });
    assertErrorRedirect(t, await get(b, authzQuery({ challenge: pkce().challenge, state: 'r', extra: { prompt: 'none login' } })), 'invalid_request', { state: 'r' });
  });

  it('SEC-OAUTH-30: a first-party client (admin flag) skips consent; a third-party client never does', async () => {
    const { b } = await signedInBrowser('firstparty');
    const first = await authorizeInBrowser(t, b, authzQuery({ clientId: 'firstweb', challenge: pkce().challenge, state: 'fp' }));
    assert.equal(first.consented, false);
    assert.ok(redirectParams(t, first.response).get('code'));
    const silent = await get(b, authzQuery({ clientId: 'firstweb', challenge: pkce().challenge, state: 'fn', extra: { prompt: 'none' } }));
    assert.ok(redirectParams(t, silent).get('code'), 'prompt=none works for a first-party client without stored consent');
    const third = await browse(t, b, authorizeUrl(authzQuery({ clientId: 'webapp', challenge: pkce().challenge })));
    assert.ok(isConsentPage(third));
  });

  // --- SEC-OAUTH-28 / 29: headers -------------------------------------------------------------

  it('SEC-OAUTH-29 / SEC-OAUTH-28: authorize error page, sign-in page, consent page, end-session confirmation and consent errors cannot be framed and send no Referer; redirects are 302/303', async () => {
    const { b, cookie } = await signedInBrowser('headers');
    const anonymous = createBrowser(t.app);
    const loginHop = await anonymous.get(authorizeUrl(authzQuery({ challenge: pkce().challenge })));
    const pages: [string, LightMyRequestResponse][] = [
      ['authorize error page', await b.get(authorizeUrl(authzQuery({ challenge: pkce().challenge, redirectUri: 'https://evil.com/cb' })))],
      ['authorize → sign-in redirect', loginHop],
      ['sign-in page of an authorization', await anonymous.get(String(loginHop.headers.location))],
      ['consent page', await authorize(t, authzQuery({ challenge: pkce().challenge }), cookie)],
      ['continue with an unknown interaction', await b.get('/oauth/authorize/continue?interaction=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')],
      ['consent POST error page', await b.post('/oauth/authorize/consent', { interaction: 'x', decision: 'allow', csrf: 'y' })],
      ['end-session confirmation', await b.get('/oauth/end-session')],
      ['end-session error page', await b.get(`/oauth/end-session?${new URLSearchParams({ post_logout_redirect_uri: 'https://evil.com' })}`)],
    ];
    for (const [what, response] of pages) {
      assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
      assert.equal(response.headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
      assert.ok(![307, 308].includes(response.statusCode), `${what}: never 307/308`);
      if (response.statusCode === 200) {
        assert.doesNotMatch(response.body, /(src|href|action)="(https?:)?\/\/(?!id\.example)/, `${what}: no third-party resources or links`);
        assert.match(String(response.headers['cache-control']), /no-store/, `${what}: not cached`);
      }
    }
    // The credential POSTs redirect with 303 (never 307, which would re-POST the password or the form to the client).
    const page = await browse(t, anonymous, String(loginHop.headers.location));
    const email = `headers-signin-${++users}@example.com`;
    await registerAndSignIn(t, email);
    const signIn = await anonymous.post('/login', { email, password: PASSWORD, csrf: hidden(page.body, 'csrf'), return_to: hidden(page.body, 'return_to') });
    assert.equal(signIn.statusCode, 303);
    const consentPage = await browse(t, anonymous, String(signIn.headers.location));
    assert.ok(isConsentPage(consentPage));
    const answer = await pressConsent(anonymous, consentPage);
    assert.equal(answer.statusCode, 303, 'consent answer: 303');
    assert.equal(answer.headers['referrer-policy'], 'no-referrer');
    assert.equal(location(t, answer).hash, '', 'the code is never in a fragment');
  });

  // --- SEC-OAUTH-35: bearer tokens at userinfo ------------------------------------------------

  it('SEC-OAUTH-35: ?access_token= is ignored; the Bearer scheme is case-insensitive; other schemes are not Bearer', async () => {
    const { cookie } = await consentedBrowser('bearer');
    const tokens = await obtainTokens(t, cookie, {});
    const query = await t.app.inject({ url: `/oauth/userinfo?access_token=${tokens.access_token}` });
    assert.equal(query.statusCode, 401, query.body);
    assert.equal(query.json().sub, undefined);
    assert.match(String(query.headers['www-authenticate']), /^Bearer/);
    const queryPost = await t.app.inject({ method: 'POST', url: `/oauth/userinfo?access_token=${tokens.access_token}` });
    assert.equal(queryPost.statusCode, 401);
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const response = await userinfo(t, tokens.access_token, { scheme });
      assert.equal(response.statusCode, 200, `${scheme}: ${response.body}`);
    }
    for (const header of [`Basic ${tokens.access_token}`, `Token ${tokens.access_token}`, `DPoP ${tokens.access_token}`, `Bearer`, `Bearer ${tokens.access_token} extra`, `Bearer${tokens.access_token}`, tokens.access_token]) {
      const response = await t.app.inject({ url: '/oauth/userinfo', headers: { authorization: header } });
      assert.equal(response.statusCode, 401, `${header.slice(0, 20)}: ${response.statusCode}`);
    }
  });

  it('SEC-OAUTH-35 / SEC-OAUTH-17: a client-credentials token, a revoked token, a wrong-audience token → 401 invalid_token; a user token without openid → 403 insufficient_scope', async () => {
    const cc = await clientToken(t, 'svc');
    const ccResponse = await userinfo(t, cc);
    assert.equal(ccResponse.statusCode, 401);
    assert.match(String(ccResponse.headers['www-authenticate']), /error="invalid_token"/);

    const { cookie } = await consentedBrowser('scopes');
    const revoked = await obtainTokens(t, cookie, {});
    const revoke = await t.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded', ...clientAuth('webapp').headers }, payload: new URLSearchParams({ token: revoked.access_token }).toString() });
    assert.equal(revoke.statusCode, 200);
    const revokedResponse = await userinfo(t, revoked.access_token);
    assert.equal(revokedResponse.statusCode, 401);
    assert.match(String(revokedResponse.headers['www-authenticate']), /error="invalid_token"/);

    // A user token for webapp without the openid scope (plain OAuth).
    const plain = await obtainTokens(t, cookie, { scope: 'profile email' });
    assert.equal(plain.id_token, undefined, 'no ID token without openid');
    const plainResponse = await userinfo(t, plain.access_token);
    assert.equal(plainResponse.statusCode, 403, plainResponse.body);
    assert.match(String(plainResponse.headers['www-authenticate']), /error="insufficient_scope"/);
  });

  // --- SEC-JWT-11 -----------------------------------------------------------------------------

  it('SEC-JWT-11: an ID token presented as an access token → userinfo 401, introspection inactive', async () => {
    const { cookie } = await consentedBrowser('idasat');
    const tokens = await obtainTokens(t, cookie, {});
    const response = await userinfo(t, tokens.id_token!);
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['www-authenticate']), /error="invalid_token"/);
    assert.equal((await introspectAs(t, 'webapp', tokens.id_token!)).body, '{"active":false}');
    assert.equal((await introspect(t, tokens.id_token!, 'rs')).body, '{"active":false}', 'a resource server');
    assert.equal((await userinfo(t, tokens.refresh_token!)).statusCode, 401, 'nor a refresh token');
  });

  it('SEC-JWT-11: an access token as id_token_hint at end-session → refused, the session kept', async () => {
    const { b, cookie } = await consentedBrowser('atashintlogout');
    const tokens = await obtainTokens(t, cookie, {});
    for (const hint of [tokens.access_token, tokens.refresh_token!]) {
      const response = await b.get(`/oauth/end-session?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: POST_LOGOUT, state: 's' })}`);
      assertNoForeignRedirect(response, [], 'access token as hint');
      assert.ok(b.jar.get(SESSION_COOKIE));
    }
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie } })).statusCode, 200, 'still signed in');
  });

  it('SEC-JWT-11: an access token as id_token_hint at the authorization endpoint → refused, no code', async () => {
    const { b, cookie } = await consentedBrowser('atashint');
    const tokens = await obtainTokens(t, cookie, {});
    const response = await get(b, authzQuery({ challenge: pkce().challenge, state: 'h', extra: { prompt: 'none', id_token_hint: tokens.access_token } }));
    const params = redirectParams(t, response);
    assert.equal(params.get('code'), null, `an access token is not an ID token: ${location(t, response).href}`);
    assert.ok(params.get('error'), 'an error redirect');
  });

  it('SEC-OAUTH-14: a client without the refresh_token grant gets no refresh token', async () => {
    const { cookie } = await signedInBrowser('norefresh');
    const { verifier, challenge } = pkce();
    let response = await authorize(t, authzQuery({ clientId: 'loopconf', redirectUri: 'http://127.0.0.1/cb', challenge }), cookie);
    if (isConsentPage(response)) response = await answerConsent(t, response, cookie, 'allow');
    const code = redirectParams(t, response, 'http://127.0.0.1/cb').get('code')!;
    const result = codeTokens(await tokenAs(t, 'loopconf', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1/cb' }));
    assert.equal(result.refresh_token, undefined);
  });

  it('SEC-OAUTH-04: error pages and redirects reflect no markup from hostile parameter names or values', async () => {
    const { b } = await consentedBrowser('reflect');
    const payload = '<script>alert(1)</script>';
    const duplicated = new URLSearchParams(authzQuery({ challenge: pkce().challenge }));
    duplicated.append(payload, 'a');
    duplicated.append(payload, 'b');
    const responses = [
      await b.get(`/oauth/authorize?${duplicated}`),
      await get(b, { ...authzQuery({ challenge: pkce().challenge }), client_id: payload }),
      await get(b, authzQuery({ challenge: pkce().challenge, redirectUri: `https://app.example/callback?${payload}` })),
      await get(b, authzQuery({ challenge: pkce().challenge, state: payload, extra: { response_type: payload } })),
      await b.get(`/oauth/authorize/continue?interaction=${encodeURIComponent(payload)}`),
      await b.get(`/oauth/end-session?${new URLSearchParams({ post_logout_redirect_uri: payload, state: payload, client_id: payload })}`),
    ];
    for (const response of responses) {
      assert.ok(!response.body.includes('<script>alert'), `${response.statusCode}: markup reflected`);
      assert.ok(!String(response.headers.location ?? '').includes('<'), 'the Location is URL-encoded');
    }
  });

  it('login page shown to a signed-out browser by the authorization endpoint is the hosted one (and keeps the request)', async () => {
    const b = createBrowser(t.app);
    const page = await browse(t, b, authorizeUrl(authzQuery({ challenge: pkce().challenge })));
    assert.ok(isLoginPage(page));
    assert.match(hidden(page.body, 'return_to'), /^\/oauth\/authorize\/continue\?interaction=[A-Za-z0-9_-]{32}$/);
  });
});

describe('authorization code lifetime with a frozen clock (SEC-OAUTH-12)', { timeout: 60_000 }, () => {
  for (const [ttl, ok, late] of [['5', 1_000, 6_000], [undefined, 59_000, 61_000]] as const) {
    it(`SEC-OAUTH-12: TTL ${ttl ?? 'default (60)'} s — redeemed after ${ok / 1000} s → 200, after ${late / 1000} s → invalid_grant`, async () => {
      const clock = manualClock();
      const t = await createOidcApp({ now: clock.now, env: { GATEHOUSE_PUBLIC_URL: ISSUER, ...(ttl ? { GATEHOUSE_AUTHORIZATION_CODE_TTL_SECONDS: ttl } : {}) } });
      try {
        const cookie = await registerAndSignIn(t, 'ttl@example.com');
        const first = await obtainCode(t, cookie, {});
        clock.advance(ok);
        assert.equal((await redeem(t, 'webapp', first.code, first.verifier)).statusCode, 200);
        const second = await obtainCode(t, cookie, {});
        clock.advance(late);
        const expired = await redeem(t, 'webapp', second.code, second.verifier);
        assert.equal(expired.statusCode, 400, expired.body);
        assert.equal(expired.json().error, 'invalid_grant');
      } finally {
        await t.close();
      }
    });
  }

  it('SEC-OAUTH-35: an expired access token → 401 invalid_token at userinfo', async () => {
    const clock = manualClock();
    const t = await createOidcApp({ now: clock.now, env: { GATEHOUSE_PUBLIC_URL: ISSUER } });
    try {
      const cookie = await registerAndSignIn(t, 'expired@example.com');
      const tokens = await obtainTokens(t, cookie, {});
      assert.equal((await userinfo(t, tokens.access_token)).statusCode, 200);
      clock.advance((tokens.expires_in + 120) * 1000);
      const response = await userinfo(t, tokens.access_token);
      assert.equal(response.statusCode, 401);
      assert.match(String(response.headers['www-authenticate']), /error="invalid_token"/);
    } finally {
      await t.close();
    }
  });
});

describe('first-party consent skip can be switched off (SEC-OAUTH-30)', { timeout: 60_000 }, () => {
  it('SEC-OAUTH-30: with GATEHOUSE_FIRST_PARTY_SKIP_CONSENT=false a first-party client gets the consent page too', async () => {
    const t = await createOidcApp({ env: { GATEHOUSE_PUBLIC_URL: ISSUER, GATEHOUSE_FIRST_PARTY_SKIP_CONSENT: 'false' } });
    try {
      const cookie = await registerAndSignIn(t, 'fp-off@example.com');
      const page = await authorize(t, authzQuery({ clientId: 'firstweb', challenge: pkce().challenge }), cookie);
      assert.ok(isConsentPage(page), `${page.statusCode} ${String(page.headers.location ?? '')}`);
    } finally {
      await t.close();
    }
  });
});

describe('clickjacking in Chromium (SEC-OAUTH-29)', { skip: chromiumSkip(), timeout: 90_000 }, () => {
  let t: TestApp | undefined;
  let base = '';
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let attacker: Awaited<ReturnType<typeof startCallbackServer>> | undefined;

  before(async () => {
    ({ t, base } = await listeningOidcApp());
    const target = base;
    attacker = await startCallbackServer((_request, url) => {
      const frame = url.searchParams.get('frame');
      if (url.pathname !== '/frame' || !frame) return undefined;
      return { status: 200, body: `<!doctype html><title>Win a prize</title><iframe id="victim" name="victim" src="${target}${frame}" width="600" height="400"></iframe>` };
    });
    browser = await launchChromium();
  });
  after(async () => {
    await bounded(context?.close());
    await bounded(browser?.close());
    await bounded(attacker?.close());
    await bounded(t?.close());
  });

  it('SEC-OAUTH-29: another site framing the sign-in page of an authorization, or the authorization endpoint itself, gets no rendered page', { timeout: 60_000 }, () => diagnosed(t, async () => {
    assert.ok(browser && attacker && t);
    context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const authorizePath = authorizeUrl(authzQuery({ challenge: pkce().challenge }));
    for (const framed of ['/login', authorizePath]) {
      await page.goto(`${attacker.origin}/frame?frame=${encodeURIComponent(framed)}`);
      // page.goto waited for the load event, subframes included. A frame refused by
      // frame-ancestors / X-Frame-Options ends on Chromium's error page, with no form inside.
      // (Under load the blocked frame may lose its name, so every child frame is checked, and
      // its URL may still be empty: no document of ours was ever committed in it.)
      const children = page.frames().filter((frame) => frame !== page.mainFrame());
      assert.ok(children.length >= 1, 'the iframe exists');
      for (const frame of children) {
        assert.ok(/^chrome-error:|^about:blank$|^$/.test(frame.url()), `${framed}: blocked (${frame.url()})`);
        assert.equal(await frame.locator('input[name="password"]').count(), 0, `${framed}: the framed page did not render its form`);
      }
    }
  }));
});
