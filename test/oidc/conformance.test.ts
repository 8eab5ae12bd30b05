/**
 * The OpenID Foundation conformance modules of the Basic OP, Config OP and RP-Initiated Logout OP
 * plans (security-requirements §4.2–4.4, SEC-OIDF-*), re-implemented as black-box checks through
 * `app.inject()`: one test per module, named after it. The browser is the page browser of
 * src/ui/test-browser.ts (cookie jar, same-origin form posts); sign-in goes through the hosted
 * /login page, consent through the consent page. A manual clock replaces waiting (max_age,
 * code reuse after 30 s). The issuer is https, as the Config OP plan requires.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { serverKeys } from '../support/oauth.ts';
import {
  assertErrorPage,
  assertErrorRedirect,
  authorizeInBrowser,
  authzQuery,
  browse,
  codeTokens,
  createOidcApp,
  introspectAs,
  location,
  manualClock,
  oidcClients,
  pkce,
  POST_LOGOUT,
  QUERY_REDIRECT,
  redeem,
  REDIRECT,
  REDIRECT_2,
  redirectParams,
  refreshAs,
  startCallbackServer,
  userinfo,
  type CodeTokens,
} from '../support/oidc.ts';

const ISSUER = 'https://id.example';
const SESSION_COOKIE = '__Host-gatehouse';

describe('OpenID Foundation conformance modules (Basic OP, Config OP, RP-Initiated Logout OP)', { timeout: 120_000 }, () => {
  let t: TestApp;
  const clock = manualClock(Date.now());
  let users = 0;

  let pkjwtKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

  before(async () => {
    // A private_key_jwt code-flow client (oidcc-ensure-client-assertion-with-iss-aud-succeeds).
    const pair = await generateKeyPair('ES256', { extractable: true });
    pkjwtKey = pair.privateKey;
    const pkjwt = { client_id: 'pkjwt', name: 'Key Client', type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'pk1', alg: 'ES256', use: 'sig' }] }, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT], scopes: ['openid', 'email'], audiences: [] };
    t = await createOidcApp({ now: clock.now, clients: oidcClients([pkjwt]), env: { GATEHOUSE_PUBLIC_URL: ISSUER } });
  });
  after(() => t.close());

  // --- helpers -------------------------------------------------------------------------------

  /** A new verified user, and a page browser that is not signed in. */
  async function newUser(prefix = 'user'): Promise<{ email: string; b: PageBrowser }> {
    const email = `${prefix}-${++users}@example.com`;
    await registerAndSignIn(t, email);
    return { email, b: createBrowser(t.app) };
  }

  /** A page browser already signed in as a new user (through the hosted sign-in page). */
  async function signedIn(prefix = 'user'): Promise<{ email: string; b: PageBrowser }> {
    const user = await newUser(prefix);
    const page = await user.b.get('/login');
    const done = await user.b.post('/login', { email: user.email, password: PASSWORD, csrf: /name="csrf" value="([^"]+)"/.exec(page.body)![1]! });
    assert.equal(done.statusCode, 303, done.body);
    assert.ok(user.b.jar.get(SESSION_COOKIE), 'signed in');
    return user;
  }

  async function jwks(): Promise<JSONWebKeySet> {
    const response = await t.app.inject({ url: '/.well-known/jwks.json' });
    assert.equal(response.statusCode, 200);
    return response.json() as JSONWebKeySet;
  }

  /** Validates an ID token as the suite's ValidateIdToken* conditions do; returns its claims. */
  async function validateIdToken(token: string, clientId: string, options: { nonce?: string } = {}): Promise<JWTPayload> {
    const header = decodeProtectedHeader(token);
    assert.ok(header.alg && header.alg !== 'none', 'signed');
    assert.equal(typeof header.kid, 'string', 'EnsureIdTokenContainsKid');
    const keys = await jwks();
    assert.ok(keys.keys.some((key) => key.kid === header.kid), 'the kid is in the JWKS');
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys), { issuer: ISSUER, audience: clientId, currentDate: new Date(clock.now()), requiredClaims: ['sub', 'iat', 'exp'] });
    const now = Math.floor(clock.now() / 1000);
    assert.ok(payload.iat! <= now + 5 && payload.iat! >= now - 300, 'iat is now (not > 5 min old, not in the future)');
    assert.ok(payload.exp! > now && payload.exp! < now + 86400 * 365 * 50, 'exp is in the future, in seconds');
    assert.ok(typeof payload.sub === 'string' && payload.sub.length > 0 && payload.sub.length <= 255 && /^[\x20-\x7e]+$/.test(payload.sub), 'sub ≤ 255 ASCII');
    if (payload.auth_time !== undefined) assert.ok(Number.isInteger(payload.auth_time) && (payload.auth_time as number) <= now + 5, 'auth_time sane');
    if (payload.azp !== undefined) assert.equal(payload.azp, clientId);
    if (Array.isArray(payload.aud) && payload.aud.length > 1) assert.equal(payload.azp, clientId, 'azp when several audiences');
    if (options.nonce === undefined) assert.equal(payload.nonce, undefined, 'no nonce when none was sent');
    else assert.equal(payload.nonce, options.nonce);
    return payload;
  }

  /** The code from an authorization response, checking it is a clean success (CheckStateInAuthorizationResponse …). */
  function codeFrom(response: LightMyRequestResponse, options: { state?: string; redirectUri?: string } = {}): string {
    const params = redirectParams(t, response, options.redirectUri ?? REDIRECT);
    assert.equal(params.get('error'), null, `no error: ${location(t, response).href}`);
    assert.equal(params.get('iss'), ISSUER, 'iss (RFC 9207)');
    assert.equal(params.get('state'), options.state ?? null, 'state echoed exactly');
    const registeredQuery = [...new URL(options.redirectUri ?? REDIRECT).searchParams.keys()];
    const unexpected = [...params.keys()].filter((name) => !['code', 'state', 'iss', ...registeredQuery].includes(name));
    assert.deepEqual(unexpected, [], 'no unexpected parameters in the authorization response');
    const code = params.get('code');
    assert.ok(code);
    return code;
  }

  /** Authorization (signed-in browser, consenting when asked) → code → tokens. */
  async function flow(b: PageBrowser, options: { clientId?: string; scope?: string; nonce?: string; state?: string; extra?: Record<string, string>; email?: string; redirectUri?: string } = {}): Promise<CodeTokens & { signedIn: boolean; consented: boolean }> {
    const clientId = options.clientId ?? 'webapp';
    const redirectUri = options.redirectUri ?? (clientId === 'queryweb' ? QUERY_REDIRECT : REDIRECT);
    const { verifier, challenge } = pkce();
    const query = authzQuery({ clientId, redirectUri, challenge, ...(options.scope ? { scope: options.scope } : {}), ...(options.state !== undefined ? { state: options.state } : {}), ...(options.nonce !== undefined ? { nonce: options.nonce } : {}), ...(options.extra ? { extra: options.extra } : {}) });
    const result = await authorizeInBrowser(t, b, query, options.email ? { email: options.email } : {});
    const code = codeFrom(result.response, { ...(options.state !== undefined ? { state: options.state } : {}), redirectUri });
    const tokens = codeTokens(await redeem(t, clientId, code, verifier, redirectUri));
    return { ...tokens, signedIn: result.signedIn, consented: result.consented };
  }

  function userinfoPostBody(accessToken: string): Promise<LightMyRequestResponse> {
    return t.app.inject({ method: 'POST', url: '/oauth/userinfo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ access_token: accessToken }).toString() });
  }

  // --- Basic OP ------------------------------------------------------------------------------

  it('oidcc-server (SEC-OIDF-02): code flow, clean authorization response, no-store token response, valid ID token, userinfo', async () => {
    const { email, b } = await newUser('server');
    const { verifier, challenge } = pkce();
    const query = authzQuery({ challenge, state: 'st-server', nonce: 'n-server' });
    const { response, signedIn, consented } = await authorizeInBrowser(t, b, query, { email });
    assert.ok(signedIn && consented, 'hosted sign-in, then consent');
    assert.equal(response.statusCode, 303);
    const code = codeFrom(response, { state: 'st-server' });

    const token = await redeem(t, 'webapp', code, verifier);
    assert.equal(token.statusCode, 200, token.body);
    assert.match(String(token.headers['content-type']), /^application\/json/);
    assert.match(String(token.headers['cache-control']), /no-store/);
    const body = token.json() as CodeTokens;
    assert.equal(body.token_type, 'Bearer');
    assert.ok(Number.isInteger(body.expires_in) && body.expires_in > 0 && body.expires_in <= 3600, 'expires_in');
    assert.ok(body.id_token);
    const id = await validateIdToken(body.id_token, 'webapp', { nonce: 'n-server' });
    assert.equal(id.email, email);
    assert.equal(typeof id.auth_time, 'number');
    // at_hash (OIDC Core §3.1.3.6): left half of the access token's hash by the ID token's algorithm.
    const alg = decodeProtectedHeader(body.id_token).alg!;
    const digest = createHash(alg === 'EdDSA' ? 'sha512' : `sha${alg.slice(2)}`).update(body.access_token, 'ascii').digest();
    assert.equal(id.at_hash, digest.subarray(0, digest.length / 2).toString('base64url'), 'at_hash matches the access token');
    assert.ok(Array.isArray(id.amr) && (id.amr as unknown[]).every((value) => typeof value === 'string'), 'amr is a list of strings');
    assert.ok(typeof id.sid === 'string' && id.sid.length > 0, 'sid');

    const info = await userinfo(t, body.access_token);
    assert.equal(info.statusCode, 200, info.body);
    assert.equal((info.json() as { sub: string }).sub, id.sub, 'VerifyUserInfoAndIdTokenInTokenEndpointSameSub');
  });

  it('oidcc-response-type-missing (SEC-OIDF-03): no response_type → invalid_request / unsupported_response_type, no code', async () => {
    const { b } = await signedIn('rtmissing');
    const { challenge } = pkce();
    const query = authzQuery({ challenge, state: 'st-rt' });
    delete query.response_type;
    const response = await browse(t, b, `/oauth/authorize?${new URLSearchParams(query)}`);
    const params = redirectParams(t, response);
    assert.ok(['invalid_request', 'unsupported_response_type'].includes(params.get('error') ?? ''), params.toString());
    assertErrorRedirect(t, response, params.get('error')!, { state: 'st-rt' });
  });

  it('oidcc-idtoken-signature (SEC-OIDF-04): the ID token has a kid from the JWKS and RS256, the default when a client registers no algorithm (OIDC Core §3.1.3.7, §15.1)', async () => {
    const { b } = await signedIn('sig');
    const tokens = await flow(b);
    assert.ok(tokens.id_token);
    await validateIdToken(tokens.id_token, 'webapp');
    const header = decodeProtectedHeader(tokens.id_token);
    assert.equal(header.typ, 'JWT', 'an ID token, never at+jwt');
    assert.equal(header.alg, 'RS256', `ID token alg is ${String(header.alg)}; the suite's EnsureIdTokenSignatureIsRS256 requires RS256 for a client that registered no id_token_signed_response_alg`);
  });

  it('oidcc-idtoken-unsigned (SEC-OIDF-04, SEC-JWT-01): `none` is never advertised (the suite skips the module), never issued, and a client cannot be configured for it', async () => {
    const discovery = (await t.app.inject({ url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    for (const [name, value] of Object.entries(discovery)) {
      if (name.endsWith('_alg_values_supported')) assert.ok(!(value as string[]).some((alg) => alg.toLowerCase() === 'none'), `${name} lists none`);
    }
    const { b } = await signedIn('unsigned');
    const tokens = await flow(b);
    assert.notEqual(decodeProtectedHeader(tokens.id_token!).alg?.toLowerCase(), 'none');
    const clients = oidcClients([{ client_id: 'nonealg', name: 'None', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: 'A'.repeat(43), grant_types: ['authorization_code'], redirect_uris: [REDIRECT], scopes: ['openid'], audiences: [], id_token_signed_response_alg: 'none' }]);
    await assert.rejects(createOidcApp({ clients }), 'a client asking for unsigned ID tokens is refused at configuration');
  });

  it('oidcc-userinfo-get (SEC-OIDF-05): GET with the bearer header → the sub of the ID token; bad tokens → 401', async () => {
    const { b } = await signedIn('uiget');
    const tokens = await flow(b);
    const id = decodeJwt(tokens.id_token!);
    const response = await userinfo(t, tokens.access_token, { method: 'GET' });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal((response.json() as { sub: string }).sub, id.sub);
    const bad = await userinfo(t, `${tokens.access_token.slice(0, -4)}AAAA`);
    assert.equal(bad.statusCode, 401);
    assert.match(String(bad.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
  });

  it('oidcc-userinfo-post-header (SEC-OIDF-05): POST with the bearer header → claims', async () => {
    const { b } = await signedIn('uipost');
    const tokens = await flow(b);
    const response = await userinfo(t, tokens.access_token, { method: 'POST' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal((response.json() as { sub: string }).sub, decodeJwt(tokens.id_token!).sub);
  });

  it('oidcc-userinfo-post-body (SEC-OIDF-05, SEC-OAUTH-35): the token in a form-encoded POST body (RFC 6750 §2.2) → claims; in both header and body → 400; in a JSON body → not read', async () => {
    const { b } = await signedIn('uibody');
    const tokens = await flow(b);
    const response = await userinfoPostBody(tokens.access_token);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal((response.json() as { sub: string }).sub, decodeJwt(tokens.id_token!).sub);
    const both = await t.app.inject({ method: 'POST', url: '/oauth/userinfo', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ access_token: tokens.access_token }).toString() });
    assert.equal(both.statusCode, 400, 'RFC 6750 §2: one method only');
    const json = await t.app.inject({ method: 'POST', url: '/oauth/userinfo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ access_token: tokens.access_token }) });
    assert.equal(json.statusCode, 401, 'only a form-encoded body carries a token');
    assert.match(String(json.headers['www-authenticate']), /^Bearer/);
  });

  it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow (SEC-OIDF-06)', async () => {
    const { b } = await signedIn('nononce');
    const tokens = await flow(b, { state: 'st-nn' });
    assert.ok(tokens.id_token);
    const id = await validateIdToken(tokens.id_token, 'webapp');
    assert.equal(id.nonce, undefined);
  });

  it('oidcc-scope-profile (SEC-OIDF-07): profile claims from userinfo, and nothing of email', async () => {
    const { b } = await signedIn('scopeprofile');
    await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: { cookie: `${SESSION_COOKIE}=${b.jar.get(SESSION_COOKIE)}`, origin: ISSUER, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'Profile Person' }) });
    const tokens = await flow(b, { scope: 'openid profile' });
    const info = (await userinfo(t, tokens.access_token)).json() as Record<string, unknown>;
    assert.equal(info.name, 'Profile Person');
    assert.equal(info.email, undefined, 'no email claim without the email scope');
    assert.equal(info.roles, undefined);
  });

  it('oidcc-scope-email (SEC-OIDF-07): email and email_verified from userinfo, and no profile claims', async () => {
    const { email, b } = await signedIn('scopeemail');
    await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: { cookie: `${SESSION_COOKIE}=${b.jar.get(SESSION_COOKIE)}`, origin: ISSUER, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'Hidden Name' }) });
    const tokens = await flow(b, { scope: 'openid email' });
    const info = (await userinfo(t, tokens.access_token)).json() as Record<string, unknown>;
    assert.equal(info.email, email);
    assert.equal(info.email_verified, true);
    assert.equal(info.name, undefined, 'no name without the profile scope');
    const id = decodeJwt(tokens.id_token!);
    assert.equal(id.name, undefined, 'nor in the ID token');
  });

  it('oidcc-scope-address / oidcc-scope-phone / oidcc-scope-all: not in scopes_supported (the suite skips them); asking for them is invalid_scope, never silently granted', async () => {
    const discovery = (await t.app.inject({ url: '/.well-known/openid-configuration' })).json() as { scopes_supported: string[] };
    assert.ok(!discovery.scopes_supported.includes('address') && !discovery.scopes_supported.includes('phone'));
    const { b } = await signedIn('scopeall');
    for (const scope of ['openid address', 'openid phone', 'openid profile email address phone']) {
      const response = await browse(t, b, `/oauth/authorize?${new URLSearchParams(authzQuery({ challenge: pkce().challenge, scope, state: 's' }))}`);
      assertErrorRedirect(t, response, 'invalid_scope', { state: 's', what: scope });
    }
  });

  it('oidcc-alternate-happy-flow (SEC-OIDF-08): reversed scope order and shuffled parameters', async () => {
    const { b } = await signedIn('alternate');
    const { verifier, challenge } = pkce();
    const entries = Object.entries(authzQuery({ challenge, scope: 'email profile openid', state: 'st-alt', nonce: 'n-alt' })).reverse();
    const { response } = await authorizeInBrowser(t, b, Object.fromEntries(entries));
    const tokens = codeTokens(await redeem(t, 'webapp', codeFrom(response, { state: 'st-alt' }), verifier));
    await validateIdToken(tokens.id_token!, 'webapp', { nonce: 'n-alt' });
    assert.deepEqual(tokens.scope.split(' ').sort(), ['email', 'openid', 'profile']);
  });

  for (const display of ['page', 'popup'] as const) {
    it(`oidcc-display-${display} (SEC-OIDF-08): display=${display} causes no error`, async () => {
      const { email, b } = await newUser(`display${display}`);
      const tokens = await flow(b, { email, extra: { display } });
      assert.ok(tokens.id_token);
    });
  }

  it('oidcc-prompt-login (SEC-OIDF-09): prompt=login forces the hosted sign-in again; later auth_time, same sub', async () => {
    const { email, b } = await newUser('promptlogin');
    const first = await flow(b, { email });
    assert.ok(first.signedIn);
    const firstId = decodeJwt(first.id_token!);
    clock.advance(2000);
    const second = await flow(b, { email, extra: { prompt: 'login' } });
    assert.ok(second.signedIn, 'the sign-in page came again although the browser had a session');
    const secondId = await validateIdToken(second.id_token!, 'webapp');
    assert.equal(secondId.sub, firstId.sub);
    assert.ok((secondId.auth_time as number) > (firstId.auth_time as number), 'a later auth_time');
  });

  it('SEC-OIDF-09 / SEC-OAUTH-22: re-authentication of the same user (prompt=login) keeps the session-bound tokens another application holds', async () => {
    const { email, b } = await newUser('reauth');
    const other = await flow(b, { email, clientId: 'webapp2' });
    clock.advance(2000);
    const reauth = await flow(b, { email, extra: { prompt: 'login' } });
    assert.ok(reauth.signedIn);
    const refreshed = await refreshAs(t, 'webapp2', other.refresh_token!);
    assert.equal(refreshed.statusCode, 200, `the other application's refresh token after the user re-authenticated: ${refreshed.body}`);
  });

  it('oidcc-prompt-none-not-logged-in (SEC-OIDF-09): prompt=none without a session → login_required (error redirect with state and iss), no session created', async () => {
    const b = createBrowser(t.app);
    const query = authzQuery({ challenge: pkce().challenge, state: 'st-pn', extra: { prompt: 'none' } });
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(query)}`);
    assertErrorRedirect(t, response, 'login_required', { state: 'st-pn' });
    assert.equal(b.jar.get(SESSION_COOKIE), undefined, 'no session cookie');
  });

  it('oidcc-prompt-none-logged-in (SEC-OIDF-09): prompt=none with a session and consent → a code at once; same sub and auth_time', async () => {
    const { email, b } = await newUser('pnlogged');
    const first = await flow(b, { email });
    const firstId = decodeJwt(first.id_token!);
    clock.advance(1000);
    const { verifier, challenge } = pkce();
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ challenge, state: 'st-pnl', extra: { prompt: 'none' } }))}`);
    const tokens = codeTokens(await redeem(t, 'webapp', codeFrom(response, { state: 'st-pnl' }), verifier));
    const id = await validateIdToken(tokens.id_token!, 'webapp');
    assert.equal(id.sub, firstId.sub);
    assert.equal(id.auth_time, firstId.auth_time);
  });

  it('oidcc-max-age-1 (SEC-OIDF-09): after more than 1 s, max_age=1 forces re-authentication; auth_time returned and later', async () => {
    const { email, b } = await newUser('maxage1');
    const first = await flow(b, { email });
    const firstId = decodeJwt(first.id_token!);
    clock.advance(2000);
    const second = await flow(b, { email, extra: { max_age: '1' } });
    assert.ok(second.signedIn, 're-authentication on the hosted page');
    const id = await validateIdToken(second.id_token!, 'webapp');
    assert.equal(typeof id.auth_time, 'number', 'auth_time is present when max_age was sent');
    assert.ok((id.auth_time as number) > (firstId.auth_time as number));
    assert.equal(id.sub, firstId.sub);
  });

  it('oidcc-max-age-10000 (SEC-OIDF-09): a large max_age does not force a sign-in; same sub and auth_time', async () => {
    const { email, b } = await newUser('maxage10000');
    const first = await flow(b, { email });
    const firstId = decodeJwt(first.id_token!);
    clock.advance(2000);
    const second = await flow(b, { extra: { max_age: '10000' } });
    assert.equal(second.signedIn, false);
    const id = await validateIdToken(second.id_token!, 'webapp');
    assert.equal(id.sub, firstId.sub);
    assert.equal(id.auth_time, firstId.auth_time);
  });

  it('oidcc-ensure-request-with-unknown-parameter-succeeds (SEC-OIDF-08)', async () => {
    const { b } = await signedIn('unknownparam');
    const tokens = await flow(b, { extra: { extra_parameter_nobody_knows: 'x', foo: 'bar' } });
    assert.ok(tokens.id_token);
  });

  it('oidcc-id-token-hint (SEC-OIDF-09): prompt=none with the id_token_hint of the first login → a code at once, same sub', async () => {
    const { email, b } = await newUser('idthint');
    const first = await flow(b, { email });
    const { verifier, challenge } = pkce();
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ challenge, state: 'st-h', extra: { prompt: 'none', id_token_hint: first.id_token! } }))}`);
    const tokens = codeTokens(await redeem(t, 'webapp', codeFrom(response, { state: 'st-h' }), verifier));
    const id = await validateIdToken(tokens.id_token!, 'webapp');
    assert.equal(id.sub, decodeJwt(first.id_token!).sub);
  });

  it('oidcc-login-hint (SEC-OIDF-08): login_hint causes no error', async () => {
    const { email, b } = await newUser('loginhint');
    const tokens = await flow(b, { email, extra: { login_hint: email } });
    assert.ok(tokens.id_token);
  });

  it('oidcc-ui-locales (SEC-OIDF-08): ui_locales causes no error', async () => {
    const { email, b } = await newUser('uilocales');
    const tokens = await flow(b, { email, extra: { ui_locales: 'se' } });
    assert.ok(tokens.id_token);
  });

  it('oidcc-claims-locales (SEC-OIDF-08): claims_locales causes no error', async () => {
    const { b } = await signedIn('claimslocales');
    const tokens = await flow(b, { extra: { claims_locales: 'se' } });
    assert.equal((await userinfo(t, tokens.access_token)).statusCode, 200);
  });

  it('oidcc-ensure-request-with-acr-values-succeeds (SEC-OIDF-08): acr_values accepted, acr returned', async () => {
    const { b } = await signedIn('acr');
    const tokens = await flow(b, { extra: { acr_values: '1 2' } });
    const id = await validateIdToken(tokens.id_token!, 'webapp');
    assert.equal(typeof id.acr, 'string');
  });

  it('oidcc-codereuse (SEC-OIDF-10, SEC-OAUTH-10): an immediate second use → invalid_grant, and the first tokens are revoked', async () => {
    const { b } = await signedIn('codereuse');
    const { verifier, challenge } = pkce();
    const { response } = await authorizeInBrowser(t, b, authzQuery({ challenge }));
    const code = codeFrom(response);
    const first = codeTokens(await redeem(t, 'webapp', code, verifier));
    const second = await redeem(t, 'webapp', code, verifier);
    assert.equal(second.statusCode, 400);
    assert.equal((second.json() as { error: string }).error, 'invalid_grant');
    assert.match(String(second.headers['cache-control']), /no-store/);
    assert.equal((await userinfo(t, first.access_token)).statusCode, 401);
    assert.equal((await introspectAs(t, 'webapp', first.access_token)).body, '{"active":false}');
    assert.equal((await refreshAs(t, 'webapp', first.refresh_token!)).statusCode, 400);
  });

  it('oidcc-codereuse-30seconds (SEC-OIDF-10, SEC-OAUTH-10): a second use after 30 s → invalid_grant, and the first tokens are revoked', async () => {
    const { b } = await signedIn('codereuse30');
    const { verifier, challenge } = pkce();
    const { response } = await authorizeInBrowser(t, b, authzQuery({ challenge }));
    const code = codeFrom(response);
    const first = codeTokens(await redeem(t, 'webapp', code, verifier));
    clock.advance(30_000);
    const second = await redeem(t, 'webapp', code, verifier);
    assert.equal(second.statusCode, 400);
    assert.equal((second.json() as { error: string }).error, 'invalid_grant');
    assert.equal((await userinfo(t, first.access_token)).statusCode, 401, 'the first access token was revoked');
    assert.equal((await introspectAs(t, 'webapp', first.access_token)).body, '{"active":false}');
    const refreshed = await refreshAs(t, 'webapp', first.refresh_token!);
    assert.equal((refreshed.json() as { error: string }).error, 'invalid_grant');
  });

  it('oidcc-ensure-registered-redirect-uri (SEC-OIDF-11): an unregistered redirect_uri → error page, no redirect', async () => {
    const { b } = await signedIn('regredirect');
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ challenge: pkce().challenge, redirectUri: 'https://app.example/callback/unregistered', state: 's' }))}`);
    assertErrorPage(response, 'unregistered redirect_uri');
  });

  it('oidcc-ensure-post-request-succeeds (SEC-OIDF-08): the authorization request as a form POST', async () => {
    const { b } = await signedIn('postreq');
    await flow(b); // consent remembered
    const { verifier, challenge } = pkce();
    const query = authzQuery({ challenge, state: 'st-post', nonce: 'n-post' });
    // A cross-site form POST from the relying party's page, as the suite's browser sends it.
    const response = await b.post('/oauth/authorize', query, { origin: 'https://app.example', 'sec-fetch-site': 'cross-site' });
    const tokens = codeTokens(await redeem(t, 'webapp', codeFrom(response, { state: 'st-post' }), verifier));
    await validateIdToken(tokens.id_token!, 'webapp', { nonce: 'n-post' });
  });

  it('oidcc-server-client-secret-post (SEC-OIDF-13): the happy flow with client_secret_post', async () => {
    const { b } = await signedIn('secretpost');
    const tokens = await flow(b, { clientId: 'postweb', nonce: 'n-sp' });
    await validateIdToken(tokens.id_token!, 'postweb', { nonce: 'n-sp' });
    assert.equal((await userinfo(t, tokens.access_token)).statusCode, 200);
  });

  it('oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported (SEC-OIDF-12): request_uri → request_uri_not_supported, and nothing is fetched', async () => {
    const canary = await startCallbackServer();
    try {
      const { b } = await signedIn('requesturi');
      const query = authzQuery({ challenge: pkce().challenge, state: 'st-ru', extra: { request_uri: `${canary.origin}/request.jwt` } });
      const response = await b.get(`/oauth/authorize?${new URLSearchParams(query)}`);
      assertErrorRedirect(t, response, 'request_uri_not_supported', { state: 'st-ru' });
      assert.equal(canary.hits.length, 0, 'the server made no request to the request_uri');
    } finally {
      await canary.close();
    }
  });

  const unsignedRequestObject = (claims: Record<string, unknown>) => `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

  it('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported (SEC-OIDF-12): request → request_not_supported, never silently ignored', async () => {
    const { b } = await signedIn('requestobj');
    const query = authzQuery({ challenge: pkce().challenge, state: 'st-ro', extra: { request: unsignedRequestObject({ client_id: 'webapp', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT }) } });
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(query)}`);
    assertErrorRedirect(t, response, 'request_not_supported', { state: 'st-ro' });
  });

  it('oidcc-ensure-request-object-with-redirect-uri (SEC-OIDF-12): a request object naming another redirect_uri is refused, never followed', async () => {
    const { b } = await signedIn('requestobjredirect');
    const query = authzQuery({ clientId: 'twouris', challenge: pkce().challenge, state: 'st-ror', extra: { request: unsignedRequestObject({ client_id: 'twouris', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_2 }) } });
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(query)}`);
    assertErrorRedirect(t, response, 'request_not_supported', { state: 'st-ror', redirectUri: REDIRECT });
  });

  it('oidcc-claims-essential (SEC-OIDF-07): a claims parameter asking for name (essential) does not break the flow', async () => {
    const { b } = await signedIn('claimsessential');
    const tokens = await flow(b, { extra: { claims: JSON.stringify({ userinfo: { name: { essential: true } } }) } });
    assert.equal((await userinfo(t, tokens.access_token)).statusCode, 200);
  });

  it('oidcc-refresh-token (SEC-OIDF-13, SEC-OAUTH-20): refresh works, the RT has valid characters and entropy, ATs differ, a refreshed ID token keeps the claims, and client 2’s RT fails for client 1', async () => {
    const { b } = await signedIn('refresh');
    const first = await flow(b);
    assert.ok(first.refresh_token);
    assert.match(first.refresh_token, /^[\x20-\x7e]+$/, 'EnsureRefreshTokenContainsAllowedCharactersOnly');
    assert.ok(first.refresh_token.length >= 22, 'at least 128 bits as base64url');
    const refreshed = await refreshAs(t, 'webapp', first.refresh_token);
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const body = refreshed.json() as CodeTokens;
    assert.notEqual(body.access_token, first.access_token, 'EnsureAccessTokenValuesAreDifferent');
    assert.ok(body.refresh_token && body.refresh_token !== first.refresh_token);
    assert.equal((await userinfo(t, body.access_token)).statusCode, 200);
    if (body.id_token) {
      const before = decodeJwt(first.id_token!);
      const after = await validateIdToken(body.id_token, 'webapp');
      for (const claim of ['iss', 'sub', 'aud', 'auth_time'] as const) assert.deepEqual(after[claim], before[claim], `refreshed ID token keeps ${claim}`);
      assert.equal(after.nonce, undefined);
    }
    // Client 2's refresh token presented by client 1 (with valid client 1 credentials).
    const second = await flow(b, { clientId: 'webapp2' });
    const cross = await refreshAs(t, 'webapp', second.refresh_token!);
    assert.equal(cross.statusCode, 400, cross.body);
    assert.equal((cross.json() as { error: string }).error, 'invalid_grant');
  });

  it('oidcc-ensure-request-with-valid-pkce-succeeds (SEC-OIDF-13)', async () => {
    const { b } = await signedIn('pkceok');
    const tokens = await flow(b);
    assert.ok(tokens.access_token && tokens.id_token);
  });

  it('oidcc-ensure-client-assertion-with-iss-aud-succeeds (SEC-OAUTH-16): a private_key_jwt client redeems its code with an assertion whose aud is the issuer', async () => {
    const { b } = await signedIn('pkjwt');
    const { verifier, challenge } = pkce();
    const { response } = await authorizeInBrowser(t, b, authzQuery({ clientId: 'pkjwt', scope: 'openid email', challenge, state: 'pk', nonce: 'n-pk' }));
    const code = codeFrom(response, { state: 'pk' });
    const now = Math.floor(clock.now() / 1000);
    const assertion = await new SignJWT({ iss: 'pkjwt', sub: 'pkjwt', aud: ISSUER, jti: randomUUID(), iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'pk1' }).sign(pkjwtKey);
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString(),
    });
    const tokens = codeTokens(token);
    await validateIdToken(tokens.id_token!, 'pkjwt', { nonce: 'n-pk' });
  });

  // --- extra oidcc-test-plan redirect-URI modules ---------------------------------------------

  it('oidcc-ensure-redirect-uri-in-authorization-request (SEC-OIDF-11, SEC-OAUTH-03): two registered URIs and none sent → error page', async () => {
    const { b } = await signedIn('twouris');
    const query = authzQuery({ clientId: 'twouris', challenge: pkce().challenge, state: 's' });
    delete query.redirect_uri;
    assertErrorPage(await b.get(`/oauth/authorize?${new URLSearchParams(query)}`), 'no redirect_uri with two registered');
  });

  it('oidcc-redirect-uri-query-OK (SEC-OIDF-11): a registered URI with a query works verbatim and keeps its query', async () => {
    const { b } = await signedIn('queryok');
    const { verifier, challenge } = pkce();
    const { response } = await authorizeInBrowser(t, b, authzQuery({ clientId: 'queryweb', redirectUri: QUERY_REDIRECT, challenge, state: 'st-q' }));
    const params = redirectParams(t, response, QUERY_REDIRECT);
    assert.equal(params.get('tenant'), 'a', 'the registered query is kept');
    const code = codeFrom(response, { state: 'st-q', redirectUri: QUERY_REDIRECT });
    assert.equal((await redeem(t, 'queryweb', code, verifier, QUERY_REDIRECT)).statusCode, 200);
  });

  it('oidcc-redirect-uri-query-added (SEC-OIDF-11): a query added to a registered URI → error page', async () => {
    const { b } = await signedIn('queryadded');
    for (const [clientId, redirectUri] of [['webapp', `${REDIRECT}?foo=bar`], ['queryweb', `${QUERY_REDIRECT}&foo=bar`]] as const) {
      assertErrorPage(await b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ clientId, redirectUri, challenge: pkce().challenge }))}`), redirectUri);
    }
  });

  it('oidcc-redirect-uri-query-mismatch (SEC-OIDF-11): a different query → error page', async () => {
    const { b } = await signedIn('querymismatch');
    for (const redirectUri of ['https://app.example/cb?tenant=b', 'https://app.example/cb', 'https://app.example/cb?tenant=a&tenant=a', 'https://app.example/cb?TENANT=a']) {
      assertErrorPage(await b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ clientId: 'queryweb', redirectUri, challenge: pkce().challenge }))}`), redirectUri);
    }
  });

  it('oidcc-server-rotate-keys (SEC-OIDF-15): after a signing-key rotation the JWKS has the new key and still the old one; new ID tokens use the new key', async () => {
    const before = await jwks();
    const { b } = await signedIn('rotate');
    const old = await flow(b);
    const oldKid = decodeProtectedHeader(old.id_token!).kid;
    assert.ok(before.keys.some((key) => key.kid === oldKid));
    const keys = await serverKeys(t, clock.now);
    const rotated = await keys.rotate({ immediate: true, algorithm: decodeProtectedHeader(old.id_token!).alg as 'RS256' });
    // The app hears of the rotation through the ephemeral store; give it a bounded moment.
    const deadline = Date.now() + 5000;
    let after = await jwks();
    while (!after.keys.some((key) => key.kid === rotated.kid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      after = await jwks();
    }
    assert.ok(after.keys.some((key) => key.kid === rotated.kid), 'the new key is published');
    assert.ok(after.keys.some((key) => key.kid === oldKid), 'the old key is still published');
    await validateIdToken(old.id_token!, 'webapp');
    const fresh = await flow(b);
    assert.equal(decodeProtectedHeader(fresh.id_token!).kid, rotated.kid, 'new ID tokens are signed with the new key');
    await validateIdToken(fresh.id_token!, 'webapp');
  });

  // --- Config OP -----------------------------------------------------------------------------

  async function discovery(path = '/.well-known/openid-configuration'): Promise<Record<string, unknown>> {
    const response = await t.app.inject({ url: path });
    assert.equal(response.statusCode, 200, 'EnsureDiscoveryEndpointResponseStatusCodeIs200');
    assert.match(String(response.headers['content-type']), /^application\/json/, 'CheckDiscoveryEndpointReturnedJsonContentType');
    return response.json() as Record<string, unknown>;
  }

  it('oidcc-discovery-endpoint-verification (SEC-OIDF-14): issuer, https endpoints, JWKS, scopes, response/grant types, PKCE, request objects — advertising exactly what is implemented', async () => {
    const doc = await discovery();
    assert.equal(doc.issuer, ISSUER, 'issuer == the discovery URL prefix (CheckDiscEndpointIssuer)');
    const issuer = new URL(String(doc.issuer));
    assert.equal(issuer.protocol, 'https:');
    assert.equal(issuer.search + issuer.hash, '', 'no query or fragment in the issuer');
    for (const name of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) assert.equal(typeof doc[name], 'string', `${name} present`);
    for (const [name, value] of Object.entries(doc)) {
      if (name.endsWith('_endpoint') || name.endsWith('_uri')) assert.ok(String(value).startsWith(`${ISSUER}/`), `${name} is https on the issuer: ${String(value)}`);
    }
    // JWKS reachable and valid, no private or symmetric keys, unique kids.
    const set = await jwks();
    assert.ok(set.keys.length > 0);
    const kids = set.keys.map((key) => key.kid);
    assert.equal(new Set(kids).size, kids.length, 'CheckDistinctKeyIdValueInServerJWKs');
    for (const key of set.keys) {
      assert.notEqual(key.kty, 'oct', 'no symmetric keys');
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal((key as Record<string, unknown>)[member], undefined);
    }
    assert.ok((doc.scopes_supported as string[]).includes('openid'), 'CheckDiscEndpointScopesSupportedContainsOpenId');
    for (const scope of doc.scopes_supported as string[]) assert.match(scope, /^[\x21\x23-\x5b\x5d-\x7e]+$/, 'scope syntax');
    assert.deepEqual(doc.response_types_supported, ['code'], 'code only (SEC-OAUTH-13)');
    assert.ok(Array.isArray(doc.subject_types_supported) && (doc.subject_types_supported as string[]).every((value) => ['public', 'pairwise'].includes(value)));
    const grants = doc.grant_types_supported as string[];
    assert.ok(grants.includes('authorization_code'));
    assert.ok(!grants.includes('implicit') && !grants.includes('password'), 'no implicit, no password grant');
    assert.ok(Array.isArray(doc.claims_supported) && (doc.claims_supported as unknown[]).every((claim) => typeof claim === 'string'));
    assert.equal(typeof doc.claims_parameter_supported, 'boolean');
    assert.equal(doc.request_parameter_supported, false);
    assert.equal(doc.request_uri_parameter_supported, false);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256'], 'S256 only (SEC-OAUTH-07)');
    assert.equal(doc.authorization_response_iss_parameter_supported, true, 'RFC 9207 (SEC-OAUTH-26)');
    for (const alg of doc.id_token_signing_alg_values_supported as string[]) assert.notEqual(alg.toLowerCase(), 'none');
    if (doc.response_modes_supported !== undefined) assert.ok(!(doc.response_modes_supported as string[]).some((mode) => mode === 'fragment' || mode === 'form_post'), 'only what works is advertised');
    // RFC 8414 metadata: the same document.
    assert.deepEqual(await discovery('/.well-known/oauth-authorization-server'), doc);
  });

  it('oidcc-discovery-endpoint-verification (SEC-OIDF-14): id_token_signing_alg_values_supported includes RS256 (OIDC Discovery §3 “RS256 MUST be included”; the suite’s OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported fails otherwise)', async () => {
    const doc = await discovery();
    assert.ok((doc.id_token_signing_alg_values_supported as string[]).includes('RS256'), `advertised: ${JSON.stringify(doc.id_token_signing_alg_values_supported)}`);
  });

  // --- RP-Initiated Logout OP ----------------------------------------------------------------

  function endSession(b: PageBrowser, params: Record<string, string>): Promise<LightMyRequestResponse> {
    return b.get(`/oauth/end-session${Object.keys(params).length ? `?${new URLSearchParams(params)}` : ''}`);
  }

  /** A signed-in browser with tokens for webapp. */
  async function loggedInWithTokens(prefix: string): Promise<{ b: PageBrowser; tokens: CodeTokens }> {
    const { b } = await signedIn(prefix);
    return { b, tokens: await flow(b) };
  }

  /** prompt=none now fails: the OP session ended. */
  async function assertSessionEnded(b: PageBrowser): Promise<void> {
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ challenge: pkce().challenge, state: 'after', extra: { prompt: 'none' } }))}`);
    assertErrorRedirect(t, response, 'login_required', { state: 'after', what: 'prompt=none after logout' });
  }

  /** The session is still alive: prompt=none still gives a code. */
  async function assertSessionAlive(b: PageBrowser): Promise<void> {
    const response = await b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ challenge: pkce().challenge, state: 'alive', extra: { prompt: 'none' } }))}`);
    codeFrom(response, { state: 'alive' });
  }

  function assertNoRedirectToClient(response: LightMyRequestResponse, what: string): void {
    const target = response.headers.location;
    if (target !== undefined) {
      const url = new URL(String(target), ISSUER);
      assert.equal(url.origin, ISSUER, `${what}: no redirect off the server (${url.href})`);
    }
  }

  it('oidcc-rp-initiated-logout-discovery-endpoint-verification (SEC-OIDF-16): end_session_endpoint advertised', async () => {
    const doc = await discovery();
    assert.equal(doc.end_session_endpoint, `${ISSUER}/oauth/end-session`);
  });

  it('oidcc-rp-initiated-logout (SEC-OIDF-16): id_token_hint + registered post_logout_redirect_uri + state → redirected there with state; prompt=none then fails', async () => {
    const { b, tokens } = await loggedInWithTokens('logout');
    const response = await endSession(b, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT, state: 'bye-state' });
    assert.equal(response.statusCode, 303, response.body.slice(0, 300));
    const target = location(t, response);
    assert.equal(`${target.origin}${target.pathname}`, POST_LOGOUT);
    assert.equal(target.searchParams.get('state'), 'bye-state');
    assert.equal(b.jar.get(SESSION_COOKIE), undefined, 'the cookie is cleared');
    await assertSessionEnded(b);
  });

  it('oidcc-rp-initiated-logout-bad-post-logout-redirect-uri (SEC-OIDF-16): an unregistered post_logout_redirect_uri → no redirect', async () => {
    const { b, tokens } = await loggedInWithTokens('logoutbaduri');
    for (const uri of ['https://app.example/not-registered', 'https://evil.example/bye', 'https://app2.example/bye']) {
      const response = await endSession(b, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: uri, state: 's' });
      assertNoRedirectToClient(response, uri);
    }
  });

  it('oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri (SEC-OIDF-16): registered URI + ?foo=bar → no redirect', async () => {
    const { b, tokens } = await loggedInWithTokens('logoutquery');
    const response = await endSession(b, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${POST_LOGOUT}?foo=bar`, state: 's' });
    assertNoRedirectToClient(response, 'query added');
  });

  it('oidcc-rp-initiated-logout-modified-id-token-hint (SEC-OIDF-16, SEC-JWT-01): id_token_hint changed to alg:none → no redirect, session kept', async () => {
    const { b, tokens } = await loggedInWithTokens('logoutnone');
    const [, payload] = tokens.id_token!.split('.');
    for (const alg of ['none', 'None', 'NONE']) {
      const forged = `${Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid: decodeProtectedHeader(tokens.id_token!).kid })).toString('base64url')}.${payload}.`;
      const response = await endSession(b, { id_token_hint: forged, post_logout_redirect_uri: POST_LOGOUT, state: 's' });
      assertNoRedirectToClient(response, `alg ${alg}`);
    }
    await assertSessionAlive(b);
  });

  it('oidcc-rp-initiated-logout-bad-id-token-hint (SEC-OIDF-16): id_token_hint signed by a foreign key → no redirect, session kept', async () => {
    const { b, tokens } = await loggedInWithTokens('logoutforeign');
    const original = decodeJwt(tokens.id_token!);
    const header = decodeProtectedHeader(tokens.id_token!);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(original).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: header.kid! }).sign(privateKey);
    const response = await endSession(b, { id_token_hint: forged, post_logout_redirect_uri: POST_LOGOUT, state: 's' });
    assertNoRedirectToClient(response, 'foreign key');
    await assertSessionAlive(b);
  });

  it('oidcc-rp-initiated-logout-no-id-token-hint (SEC-OIDF-16): post_logout_redirect_uri without a hint → error page or confirmation, never the redirect', async () => {
    const { b } = await loggedInWithTokens('logoutnohint');
    const response = await endSession(b, { post_logout_redirect_uri: POST_LOGOUT, state: 's' });
    assertNoRedirectToClient(response, 'no hint');
    assert.ok(response.statusCode === 200 || (response.statusCode >= 400 && response.statusCode < 500), `error page or confirmation: ${response.statusCode}`);
  });

  it('oidcc-rp-initiated-logout-no-params (SEC-OIDF-16): no parameters → a logout confirmation or logged-out page; confirming ends the session', async () => {
    const { b } = await loggedInWithTokens('logoutnoparams');
    const response = await endSession(b, {});
    assertNoRedirectToClient(response, 'no params');
    if (response.statusCode === 200 && response.body.includes('/oauth/end-session/confirm')) {
      const confirmed = await b.post('/oauth/end-session/confirm', { csrf: /name="csrf" value="([^"]+)"/.exec(response.body)![1]! });
      assertNoRedirectToClient(confirmed, 'confirmed');
    }
    await assertSessionEnded(b);
  });

  it('oidcc-rp-initiated-logout-no-post-logout-redirect-uri (SEC-OIDF-16): hint without a URI → logged out, no redirect to the client', async () => {
    const { b, tokens } = await loggedInWithTokens('logoutnouri');
    const response = await endSession(b, { id_token_hint: tokens.id_token!, state: 's' });
    assertNoRedirectToClient(response, 'no post_logout_redirect_uri');
    await assertSessionEnded(b);
  });

  it('oidcc-rp-initiated-logout-only-state (SEC-OIDF-16): only state → no redirect to the client', async () => {
    const { b } = await loggedInWithTokens('logoutonlystate');
    const response = await endSession(b, { state: 'only' });
    assertNoRedirectToClient(response, 'only state');
  });

  it('oidcc-rp-initiated-logout-no-state (SEC-OIDF-16): hint + URI without state → redirected without state; session ended', async () => {
    const { b, tokens } = await loggedInWithTokens('logoutnostate');
    const response = await endSession(b, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT });
    const target = location(t, response);
    assert.equal(`${target.origin}${target.pathname}`, POST_LOGOUT);
    assert.equal(target.searchParams.get('state'), null);
    await assertSessionEnded(b);
  });

  it('SEC-OIDF-16: post_logout_redirect_uri with client_id but no id_token_hint → never redirected there (only a valid id_token_hint allows the redirect)', async () => {
    const anonymous = createBrowser(t.app);
    const withoutSession = await endSession(anonymous, { client_id: 'webapp', post_logout_redirect_uri: POST_LOGOUT, state: 's' });
    assertNoRedirectToClient(withoutSession, 'client_id only, no session');
    const { b } = await loggedInWithTokens('logoutclientid');
    const page = await endSession(b, { client_id: 'webapp', post_logout_redirect_uri: POST_LOGOUT, state: 's' });
    assertNoRedirectToClient(page, 'client_id only, with a session');
    if (page.statusCode === 200 && page.body.includes('/oauth/end-session/confirm')) {
      const fields: Record<string, string> = { csrf: /name="csrf" value="([^"]+)"/.exec(page.body)![1]! };
      for (const name of ['client_id', 'post_logout_redirect_uri', 'state']) {
        const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(page.body)?.[1];
        if (value !== undefined) fields[name] = value.replaceAll('&amp;', '&');
      }
      assertNoRedirectToClient(await b.post('/oauth/end-session/confirm', fields), 'after confirmation');
    }
  });

  it('SEC-OIDF-09: prompt=none with the id_token_hint of another user than the signed-in one → login_required, never a silent switch', async () => {
    const alice = await loggedInWithTokens('hintalice');
    const bob = await loggedInWithTokens('hintbob');
    const response = await bob.b.get(`/oauth/authorize?${new URLSearchParams(authzQuery({ challenge: pkce().challenge, state: 'sw', extra: { prompt: 'none', id_token_hint: alice.tokens.id_token! } }))}`);
    const params = redirectParams(t, response);
    assert.equal(params.get('code'), null, `no code for Bob when the hint names Alice: ${location(t, response).href}`);
    assert.equal(params.get('error'), 'login_required');
    assert.equal(params.get('state'), 'sw');
  });

  it('SEC-OAUTH-30: consent is asked again for newly requested scopes; prompt=consent shows it even with a remembered consent', async () => {
    const { b } = await signedIn('moreconsent');
    const first = await flow(b, { scope: 'openid' });
    assert.ok(first.consented);
    const same = await flow(b, { scope: 'openid' });
    assert.equal(same.consented, false, 'remembered');
    const more = await flow(b, { scope: 'openid email' });
    assert.ok(more.consented, 'a new scope needs consent');
    const forced = await flow(b, { scope: 'openid', extra: { prompt: 'consent' } });
    assert.ok(forced.consented, 'prompt=consent');
  });
});
