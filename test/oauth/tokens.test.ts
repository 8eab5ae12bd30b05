/**
 * The token endpoint and the tokens it issues, black-box (issue "Tokens"):
 * - client credentials (SEC-OAUTH-17/-18), RFC 9068 access tokens verified by `jose` against the
 *   JWKS of a real listening server (SEC-JWT-19/-20), across key rotations (SEC-REL-12);
 * - request hygiene: form bodies only, no repeated parameters, only our grants (SEC-OAUTH-13/-14);
 * - the client-authentication matrix at token, revocation and introspection (SEC-OAUTH-15);
 * - first-party native sign-in and revocation on security events (SEC-OAUTH-22).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey as NodeJWK } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { createTestApp, type TestApp } from '../support/app.ts';
import { linkToken, PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import {
  API,
  FILES,
  SECRETS,
  assertActive,
  assertInactive,
  assertOAuthError,
  basic,
  claims,
  clientCredentials,
  clientToken,
  clientsEnv,
  createOAuthApp,
  fixtureClients,
  introspect,
  listeningApp,
  nativeSignIn,
  postForm,
  refresh,
  revoke,
  serverKeys,
  tokenRequest,
  tokens,
} from '../support/oauth.ts';
import { hashSecret } from '../../src/crypto/random.ts';

/** A client-credentials request over real HTTP. */
async function httpToken(base: string, clientId: string, params: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, SECRETS[clientId]!) },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
  });
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** SEC-JWT-19: public members only, asymmetric, use/alg set, unique kids, sound key sizes and curves. */
function lintJWKS(jwks: { keys: JWK[] }): void {
  assert.ok(Array.isArray(jwks.keys) && jwks.keys.length > 0, 'at least one key');
  const kids = new Set<string>();
  for (const key of jwks.keys) {
    for (const member of PRIVATE_MEMBERS) assert.ok(!(member in key), `no private member ${member} in ${key.kid}`);
    assert.notEqual(key.kty, 'oct', 'no symmetric keys');
    assert.equal(key.use, 'sig');
    assert.ok(['ES256', 'EdDSA', 'RS256'].includes(String(key.alg)), `alg ${key.alg}`);
    assert.equal(typeof key.kid, 'string');
    assert.ok(!kids.has(key.kid!), `kid ${key.kid} is unique`);
    kids.add(key.kid!);
    // node:crypto refuses points that are not on the curve.
    const imported = createPublicKey({ key: key as NodeJWK, format: 'jwk' });
    if (key.kty === 'RSA') assert.ok((imported.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048, 'RSA ≥ 2048 bits');
    if (key.kty === 'EC') assert.ok(['P-256', 'P-384', 'P-521'].includes(String(key.crv)), `curve ${key.crv}`);
    if (key.alg === 'ES256') assert.equal(key.crv, 'P-256');
    if (key.kty === 'OKP') assert.equal(key.crv, 'Ed25519');
  }
}

describe('client credentials against a listening server (SEC-OAUTH-17, SEC-JWT-19, SEC-JWT-20)', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    ({ t, base } = await listeningApp({
      env: { GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: '300' },
      clients: fixtureClients({
        extra: [
          { client_id: 'short', name: 'short', type: 'confidential', client_secret_hash: hashSecret('short-secret-00000000000000000000'), grant_types: ['client_credentials'], scopes: ['read'], audiences: [API], access_token_ttl_seconds: 60 },
          { client_id: 'long', name: 'long', type: 'confidential', client_secret_hash: hashSecret('long-secret-000000000000000000000'), grant_types: ['client_credentials'], scopes: ['read'], audiences: [API], access_token_ttl_seconds: 7 * 86400 },
        ],
      }),
    }));
  });
  after(() => t.close());

  it('SEC-JWT-20: an RFC 9068 token that jose verifies with createRemoteJWKSet against the running server', async () => {
    const response = await httpToken(base, 'svc');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 300, 'GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS');
    assert.equal(body.scope, 'read write');
    assert.ok(!('refresh_token' in body), 'SEC-OAUTH-17: no refresh token for client credentials');
    assert.ok(!('id_token' in body));

    const token = String(body.access_token);
    const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: base, audience: API, typ: 'at+jwt', algorithms: ['ES256'] });
    assert.equal(protectedHeader.typ, 'at+jwt', 'explicit typing (RFC 9068 §2.1)');
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(typeof protectedHeader.kid, 'string');
    assert.equal(payload.iss, base);
    assert.equal(payload.sub, 'client:svc', 'SEC-OAUTH-17: the client namespace');
    assert.deepEqual(payload.aud, [API, FILES], 'all registered audiences when no resource is asked for');
    assert.equal(payload.client_id, 'svc');
    assert.equal(payload.scope, 'read write');
    assert.equal(typeof payload.jti, 'string');
    assert.ok(String(payload.jti).length >= 22, 'jti carries ≥ 128 bits');
    assert.ok(Number.isSafeInteger(payload.iat) && Number.isSafeInteger(payload.exp), 'NumericDates in whole seconds');
    assert.equal(payload.exp! - payload.iat!, 300);
    assert.ok(Math.abs(payload.iat! - Date.now() / 1000) < 60, 'iat is now, in seconds');
    for (const userOnly of ['sid', 'roles', 'auth_time', 'gid']) assert.ok(!(userOnly in payload), `no ${userOnly} in a client token`);

    // The kid of the token is published.
    const published = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    assert.ok(published.keys.some((key) => key.kid === protectedHeader.kid), 'SEC-JWT-19: the token’s kid is in the JWKS');

    // Every jti is unique.
    const second = claims(tokens(await clientCredentials(t, 'svc')).access_token);
    assert.notEqual(second.jti, payload.jti);
  });

  it('SEC-JWT-19: the JWKS has public members only, use/alg set, unique kids, and a cache lifetime', async () => {
    const response = await fetch(`${base}/.well-known/jwks.json`);
    assert.equal(response.status, 200);
    assert.match(String(response.headers.get('content-type')), /^application\/jwk-set\+json/);
    assert.match(String(response.headers.get('cache-control')), /max-age=\d+/);
    lintJWKS((await response.json()) as { keys: JWK[] });
  });

  it('lifetime: a client’s own access_token_ttl_seconds, capped by the server maximum', async () => {
    const short = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('short', 'short-secret-00000000000000000000') });
    const shortBody = tokens(short);
    assert.equal(shortBody.expires_in, 60);
    const shortClaims = claims(shortBody.access_token);
    assert.equal(Number(shortClaims.exp) - Number(shortClaims.iat), 60);
    const long = tokens(await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('long', 'long-secret-000000000000000000000') }));
    assert.equal(long.expires_in, t.config.accessTokenMaxTtlSeconds, 'capped at GATEHOUSE_ACCESS_TOKEN_MAX_TTL_SECONDS');
  });

  it('SEC-OAUTH-17: a client-credentials token is no user session (user API → 401)', async () => {
    const token = await clientToken(t, 'svc');
    for (const url of ['/api/auth/session', '/api/auth/sessions']) {
      const response = await t.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, 401, url);
    }
  });
});

describe('token endpoint: scope, resource, grants and request hygiene (SEC-OAUTH-13, -14, -18)', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp();
  });
  after(() => t.close());

  it('SEC-OAUTH-18: scope narrows to the requested subset; anything outside the allow-list → invalid_scope', async () => {
    const narrowed = tokens(await clientCredentials(t, 'svc', { scope: 'read' }));
    assert.equal(narrowed.scope, 'read');
    assert.equal(claims(narrowed.access_token).scope, 'read');
    const both = tokens(await clientCredentials(t, 'svc', { scope: 'write read' }));
    assert.deepEqual(String(claims(both.access_token).scope).split(' ').sort(), ['read', 'write']);
    for (const scope of ['admin', 'read admin', 'READ', 'read\twrite', 'openid', 'read%20write']) {
      const response = await clientCredentials(t, 'svc', { scope });
      assertOAuthError(response, 'invalid_scope', 400, scope);
      assert.equal(response.headers['cache-control'], 'no-store');
    }
    // svc2 may only read.
    assertOAuthError(await clientCredentials(t, 'svc2', { scope: 'write' }), 'invalid_scope');
  });

  it('RFC 8707: resource narrows the audience; an unregistered resource → invalid_target', async () => {
    const files = tokens(await clientCredentials(t, 'svc', { resource: FILES }));
    assert.equal(claims(files.access_token).aud, FILES);
    const viaAudience = tokens(await clientCredentials(t, 'svc', { audience: API }));
    assert.equal(claims(viaAudience.access_token).aud, API);
    for (const resource of ['https://evil.example', 'https://api.example/', 'https://API.example', `${API} https://evil.example`, 'http://localhost:3000']) {
      assertOAuthError(await clientCredentials(t, 'svc', { resource }), 'invalid_target', 400, resource);
    }
  });

  it('SEC-OAUTH-13: password, implicit and unknown grant types → unsupported_grant_type', async () => {
    await registerAndSignIn(t, 'ropc@example.com');
    // authorization_code exists now (the OIDC provider); svc is not allowed it → unauthorized_client, tested elsewhere.
    // Token exchange exists too (RFC 8693, test/oauth/token-exchange.test.ts): unauthorized_client for svc.
    // So does the device_code grant (RFC 8628, test/oauth/device-flow.test.ts).
    for (const grant of ['password', 'implicit', 'token', 'urn:ietf:params:oauth:grant-type:jwt-bearer', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'CLIENT_CREDENTIALS', 'x'.repeat(5000)]) {
      const response = await tokenRequest(t, 'svc', { grant_type: grant, username: 'ropc@example.com', password: PASSWORD });
      assertOAuthError(response, 'unsupported_grant_type', 400, grant.slice(0, 40));
      assert.equal(response.headers['cache-control'], 'no-store');
    }
    // Even for a first-party app: no resource-owner password grant at the token endpoint.
    assertOAuthError(await tokenRequest(t, 'mobile', { grant_type: 'password', username: 'ropc@example.com', password: PASSWORD }), 'unsupported_grant_type');
    assertOAuthError(await tokenRequest(t, 'svc', {}), 'invalid_request', 400, 'no grant_type');
  });

  it('SEC-OAUTH-14: a public client cannot use client_credentials; a client without refresh_token cannot refresh', async () => {
    assertOAuthError(await clientCredentials(t, 'mobile'), 'unauthorized_client');
    assertOAuthError(await refresh(t, 'svc', 'A'.repeat(43)), 'unauthorized_client');
  });

  it('SEC-ASVS-12: only a form body; JSON, text, multipart and query-string parameters are refused', async () => {
    const credentials = { authorization: basic('svc', SECRETS.svc!) };
    const json = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { ...credentials, 'content-type': 'application/json' }, payload: JSON.stringify({ grant_type: 'client_credentials' }) });
    assertOAuthError(json, 'invalid_request', 400, 'JSON');
    assert.equal(json.headers['cache-control'], 'no-store');
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml']) {
      const response = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { ...credentials, 'content-type': type }, payload: 'grant_type=client_credentials' });
      assert.ok([400, 415].includes(response.statusCode), `${type}: ${response.statusCode}`);
      assert.ok(!response.body.includes('access_token'), type);
    }
    const query = await t.app.inject({ method: 'POST', url: '/oauth/token?grant_type=client_credentials', headers: { ...credentials, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    assertOAuthError(query, 'invalid_request', 400, 'parameters in the query');
    const get = await t.app.inject({ method: 'GET', url: '/oauth/token?grant_type=client_credentials', headers: credentials });
    assert.equal(get.statusCode, 405);
  });

  it('SEC-ASVS-16: a repeated parameter → invalid_request, never a token', async () => {
    const credentials = { authorization: basic('svc', SECRETS.svc!) };
    for (const body of [
      'grant_type=client_credentials&grant_type=client_credentials',
      'grant_type=client_credentials&grant_type=password',
      'grant_type=client_credentials&scope=read&scope=write',
      'grant_type=client_credentials&resource=https%3A%2F%2Fapi.example&resource=https%3A%2F%2Ffiles.example',
    ]) {
      assertOAuthError(await postForm(t, '/oauth/token', body, credentials), 'invalid_request', 400, body);
    }
    assertOAuthError(await postForm(t, '/oauth/token', 'grant_type=client_credentials&client_id=poster&client_id=poster&client_secret=' + SECRETS.poster), 'invalid_request', 400, 'repeated client_id');
  });
});

describe('client authentication at token, revocation and introspection (SEC-OAUTH-15)', () => {
  let t: TestApp;
  const ODD = 'we:ird+se%cret/&=?x';
  before(async () => {
    t = await createOAuthApp({
      clients: fixtureClients({ extra: [{ client_id: 'odd', name: 'odd', type: 'confidential', client_secret_hash: hashSecret(ODD), grant_types: ['client_credentials'], scopes: ['read'], audiences: [API] }] }),
    });
  });
  after(() => t.close());

  const endpoints: { url: string; params: Record<string, string> }[] = [
    { url: '/oauth/token', params: { grant_type: 'client_credentials' } },
    { url: '/oauth/revoke', params: { token: 'A'.repeat(43) } },
    { url: '/oauth/introspect', params: { token: 'A'.repeat(43) } },
  ];
  const raw = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  for (const endpoint of endpoints) {
    it(`${endpoint.url}: only the registered method with the right credentials succeeds`, async () => {
      const ok = [
        await postForm(t, endpoint.url, endpoint.params, { authorization: basic('svc', SECRETS.svc!) }),
        await postForm(t, endpoint.url, { ...endpoint.params, client_id: 'poster', client_secret: SECRETS.poster! }),
        await postForm(t, endpoint.url, endpoint.params, { authorization: basic('odd', ODD) }),
      ];
      for (const response of ok) assert.equal(response.statusCode, 200, response.body);

      const basicFailures: [string, Record<string, string>, Record<string, string>][] = [
        ['no credentials', {}, {}],
        ['wrong secret', { authorization: basic('svc', `${SECRETS.svc}x`) }, {}],
        ['another client’s secret', { authorization: basic('svc', SECRETS.svc2!) }, {}],
        ['unknown client', { authorization: basic('nobody', SECRETS.svc!) }, {}],
        ['header and body secret', { authorization: basic('svc', SECRETS.svc!) }, { client_id: 'svc', client_secret: SECRETS.svc! }],
        ['Basic and another client_id in the body', { authorization: basic('svc', SECRETS.svc!) }, { client_id: 'svc2' }],
        ['Basic for a client_secret_post client', { authorization: basic('poster', SECRETS.poster!) }, {}],
        ['a secret-less public client via Basic', { authorization: basic('mobile', 'anything') }, {}],
        ['un-form-encoded Basic credentials', { authorization: raw('odd', ODD) }, {}],
        ['Basic without a colon', { authorization: `Basic ${Buffer.from('svc').toString('base64')}` }, {}],
        ['Basic with bad base64', { authorization: 'Basic !!!!' }, {}],
        ['Basic without padding', { authorization: basic('svc', SECRETS.svc!).replace(/=+$/, '') }, {}],
        ['another scheme', { authorization: `Bearer ${SECRETS.svc}` }, {}],
        ['empty secret', { authorization: basic('svc', '') }, {}],
        ['confidential client with client_id only (none)', {}, { client_id: 'svc' }],
      ];
      for (const [what, headers, params] of basicFailures) {
        const response = await postForm(t, endpoint.url, { ...endpoint.params, ...params }, headers);
        assertOAuthError(response, 'invalid_client', 401, `${endpoint.url} ${what}`);
        assert.equal(response.body, '{"error":"invalid_client","error_description":"Client authentication failed."}', `${what}: one answer for every failure`);
        assert.equal(response.headers['cache-control'], 'no-store', what);
        if (headers.authorization !== undefined || Object.keys(params).length === 0 || what.includes('none')) {
          assert.match(String(response.headers['www-authenticate']), /^Basic /i, `${what}: WWW-Authenticate: Basic (RFC 6749 §5.2)`);
        }
      }

      const postFailures: [string, Record<string, string>][] = [
        ['client_secret_post for a client_secret_basic client', { client_id: 'svc', client_secret: SECRETS.svc! }],
        ['wrong secret in the body', { client_id: 'poster', client_secret: 'wrong' }],
        ['another client’s secret in the body', { client_id: 'poster', client_secret: SECRETS.svc! }],
        ['a secret for a public client', { client_id: 'mobile', client_secret: 'anything' }],
        ['client_secret without client_id', { client_secret: SECRETS.poster! }],
      ];
      for (const [what, params] of postFailures) {
        assertOAuthError(await postForm(t, endpoint.url, { ...endpoint.params, ...params }), 'invalid_client', 401, `${endpoint.url} ${what}`);
      }
    });
  }

  it('a public client authenticates with its client_id only (none), and only where its grants allow', async () => {
    // Revocation and introspection accept it; client credentials stay refused (SEC-OAUTH-14).
    assert.equal((await postForm(t, '/oauth/revoke', { token: 'A'.repeat(43), client_id: 'mobile' })).statusCode, 200);
    assertInactive(await postForm(t, '/oauth/introspect', { token: 'A'.repeat(43), client_id: 'mobile' }));
    assertOAuthError(await postForm(t, '/oauth/token', { grant_type: 'client_credentials', client_id: 'mobile' }), 'unauthorized_client');
  });
});

describe('key rotation: tokens keep verifying with jose across rotations (SEC-REL-12, SEC-REL-13)', () => {
  let t: TestApp;
  let base: string;
  let clock = Date.now();
  const now = () => clock;
  before(async () => {
    // Tokens outlive the publication lead (2 × 300 s), so pre-rotation tokens are still unexpired after it.
    ({ t, base } = await listeningApp({ now, env: { GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: '3600' } }));
  });
  after(() => t.close());

  const verify = (jwks: ReturnType<typeof createRemoteJWKSet>, token: string) =>
    jwtVerify(token, jwks, { issuer: base, typ: 'at+jwt', audience: API, currentDate: new Date(clock) });

  it('scheduled rotation: the successor is published before it signs; pre-rotation tokens keep verifying at jose and at introspection', async () => {
    const jwksUrl = new URL(`${base}/.well-known/jwks.json`);
    const resourceServer = createRemoteJWKSet(jwksUrl);
    const before = await clientToken(t, 'svc');
    const oldKid = decodeProtectedHeader(before).kid!;
    await verify(resourceServer, before);

    // `gatehouse keys rotate` from another process: a KeyService over the same database and store.
    const keys = await serverKeys(t, now);
    const next = await keys.rotate();
    assert.equal(next.state, 'next', 'published, not signing yet');
    const published = (await (await fetch(jwksUrl)).json()) as { keys: JWK[] };
    // Access-token keys (ES256); the ID-token family (RS256) is published beside them.
    assert.deepEqual(published.keys.filter((key) => key.alg === next.alg).map((key) => key.kid).sort(), [oldKid, next.kid].sort());
    assert.equal(decodeProtectedHeader(await clientToken(t, 'svc')).kid, oldKid, 'the old key signs until the successor activates');

    // The resource server's cache lifetime passes, it refreshes: it now holds both keys.
    await resourceServer.reload();
    clock = next.activatesAt + 1000;
    const after = await clientToken(t, 'svc');
    assert.equal(decodeProtectedHeader(after).kid, next.kid, 'the successor signs after its activation time');
    await verify(resourceServer, before);
    await verify(resourceServer, after);
    lintJWKS((await (await fetch(jwksUrl)).json()) as { keys: JWK[] });

    // Our own verifier agrees.
    assertActive(await introspect(t, before, 'rs'), 'pre-rotation token');
    assertActive(await introspect(t, after, 'rs'), 'post-rotation token');
    await keys.stop();
  });

  it('immediate rotation (keys rotate --now): a verifier that cached the old set refetches on the new kid; old tokens still verify', async () => {
    const jwksUrl = new URL(`${base}/.well-known/jwks.json`);
    // A verifier that fetched the key set before the rotation and refetches on an unknown kid.
    const resourceServer = createRemoteJWKSet(jwksUrl, { cooldownDuration: 0 });
    const before = await clientToken(t, 'svc');
    await verify(resourceServer, before);

    const keys = await serverKeys(t, now);
    const created = await keys.rotate({ immediate: true });
    let after = await clientToken(t, 'svc');
    for (let i = 0; i < 50 && decodeProtectedHeader(after).kid !== created.kid; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await clientToken(t, 'svc');
    }
    assert.equal(decodeProtectedHeader(after).kid, created.kid, 'the app signs with the new key (it follows keys:changed)');
    await verify(resourceServer, after);
    await verify(resourceServer, before);
    assertActive(await introspect(t, before, 'rs'), 'pre-rotation token at introspection');

    // A fresh verifier (no cache at all) verifies both too.
    const fresh = createRemoteJWKSet(jwksUrl);
    await verify(fresh, before);
    await verify(fresh, after);
    await keys.stop();
  });
  it('SEC-REL-13: retiring a key with --unpublish drops it from the JWKS at once; its tokens stop verifying, the successor signs', async () => {
    const jwksUrl = new URL(`${base}/.well-known/jwks.json`);
    const before = await clientToken(t, 'svc');
    const compromised = decodeProtectedHeader(before).kid!;
    const keys = await serverKeys(t, now);
    await keys.retire(compromised, { unpublish: true });
    const published = await (async () => {
      for (let i = 0; i < 50; i++) {
        const jwks = (await (await fetch(jwksUrl)).json()) as { keys: JWK[] };
        if (!jwks.keys.some((key) => key.kid === compromised)) return jwks;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return undefined;
    })();
    assert.ok(published, 'the compromised key left the JWKS');
    assertInactive(await introspect(t, before, 'rs'), 'a token of the compromised key');
    await assert.rejects(verify(createRemoteJWKSet(jwksUrl), before), 'jose refuses it too');
    const after = await clientToken(t, 'svc');
    assert.notEqual(decodeProtectedHeader(after).kid, compromised, 'another key signs');
    assert.ok(published.keys.some((key) => key.kid === decodeProtectedHeader(after).kid), 'and it is published');
    await verify(createRemoteJWKSet(jwksUrl), after);
    await keys.stop();
  });
});

describe('first-party native apps: tokens with the session’s sid, revoked with it (SEC-OAUTH-22)', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp({
      clients: fixtureClients({ extra: [{ client_id: 'thirdparty', name: 'Third party', type: 'public', grant_types: ['refresh_token'], scopes: ['openid'], audiences: [API] }] }),
    });
  });
  after(() => t.close());

  async function sessionIds(cookie: string): Promise<string[]> {
    const response = await t.app.inject({ url: '/api/auth/sessions', headers: { cookie } });
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { sessions: { id: string }[] }).sessions.map((session) => session.id);
  }

  it('sign-in with client_id returns RFC 9068 tokens bound to a new session (sid), no cookie, no-store', async () => {
    const cookie = await registerAndSignIn(t, 'native@example.com');
    const response = await postJSON(t, '/api/auth/sign-in', { email: 'native@example.com', password: PASSWORD, client_id: 'mobile' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['set-cookie'], undefined, 'tokens instead of a cookie');
    const body = response.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'device_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 600, 'default access-token lifetime: 10 minutes');
    assert.equal(body.scope, 'openid profile email');
    assert.match(String(body.refresh_token), /^[A-Za-z0-9_-]{43}$/, 'opaque, 256 bits');
    assert.equal(decodeProtectedHeader(String(body.access_token)).typ, 'at+jwt');
    const payload = claims(String(body.access_token));
    const me = (await t.app.inject({ url: '/api/auth/session', headers: { cookie } })).json() as { user: { id: string } };
    assert.equal(payload.sub, me.user.id, 'sub is the user id');
    assert.ok(!String(payload.sub).startsWith('client:'));
    assert.equal(payload.client_id, 'mobile');
    assert.deepEqual([payload.aud].flat(), [API, t.config.publicUrl], 'the API, and userinfo (openid scope)');
    assert.equal(typeof payload.sid, 'string');
    assert.equal(typeof payload.gid, 'string');
    assert.ok(Number.isSafeInteger(payload.auth_time));
    assert.ok((await sessionIds(cookie)).includes(String(payload.sid)), 'sid names a session the user can see and end');
    // The refresh keeps the sid.
    const refreshed = tokens(await refresh(t, 'mobile', String(body.refresh_token)));
    assert.equal(claims(refreshed.access_token).sid, payload.sid);
    assert.equal(claims(refreshed.access_token).gid, payload.gid);
    assertActive(await introspect(t, refreshed.access_token, 'rs'));
  });

  it('only a registered first-party public client may sign in with a password; wrong passwords get nothing', async () => {
    await registerAndSignIn(t, 'picky@example.com');
    for (const clientId of ['svc', 'thirdparty', 'nobody', '__proto__']) {
      const response = await postJSON(t, '/api/auth/sign-in', { email: 'picky@example.com', password: PASSWORD, client_id: clientId });
      assert.equal(response.statusCode, 400, `${clientId}: ${response.body}`);
      assert.equal((response.json() as { error: string }).error, 'unauthorized_client', clientId);
      assert.ok(!response.body.includes('access_token'));
    }
    const wrong = await postJSON(t, '/api/auth/sign-in', { email: 'picky@example.com', password: 'not the password at all', client_id: 'mobile' });
    assert.equal(wrong.statusCode, 401);
    assert.ok(!wrong.body.includes('token'));
  });

  it('ending the session from the sessions API revokes its tokens: refresh → invalid_grant, access token inactive', async () => {
    const native = await nativeSignIn(t, 'ended@example.com');
    const rotated = tokens(await refresh(t, 'mobile', native.refresh_token));
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${native.sid}`, headers: { cookie: native.cookie, origin: new URL(t.config.publicUrl).origin } });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assertOAuthError(await refresh(t, 'mobile', rotated.refresh_token!), 'invalid_grant');
    assertInactive(await introspect(t, native.access_token, 'rs'), 'first access token');
    assertInactive(await introspect(t, rotated.access_token, 'rs'), 'refreshed access token');
    assertInactive(await introspect(t, rotated.refresh_token!, 'mobile'), 'refresh token');
  });

  it('the device session lives as long as the grant, each refresh marks it seen, and a session gone without notice stops the grant', async () => {
    const native = await nativeSignIn(t, 'device@example.com');
    const row = await t.storage.database.db.selectFrom('sessions').select(['expires_at', 'created_at', 'last_seen_at']).where('id', '=', native.sid).executeTakeFirstOrThrow();
    const grant = await t.storage.database.db.selectFrom('grants').select(['expires_at']).where('id', '=', native.gid).executeTakeFirstOrThrow();
    assert.ok(Math.abs(row.expires_at - grant.expires_at) < 5000, 'device session ends with its grant, not after the 12 h browser limit');
    assert.ok(row.expires_at - row.created_at > t.config.sessionAbsoluteTimeoutSeconds * 1000);
    await t.storage.database.db.updateTable('sessions').set({ last_seen_at: row.created_at - 60_000 }).where('id', '=', native.sid).execute();
    const rotated = tokens(await refresh(t, 'mobile', native.refresh_token));
    const seen = await t.storage.database.db.selectFrom('sessions').select('last_seen_at').where('id', '=', native.sid).executeTakeFirstOrThrow();
    assert.ok(seen.last_seen_at >= row.created_at, 'the refresh marked the session seen');
    // The session row disappears without the sessions feature telling anyone (an expiry sweep, a restore).
    await t.storage.database.db.deleteFrom('sessions').where('id', '=', native.sid).execute();
    assertOAuthError(await refresh(t, 'mobile', rotated.refresh_token!), 'invalid_grant');
    assertInactive(await introspect(t, rotated.access_token, 'rs'), 'the grant was revoked with it');
  });

  it('a refresh carries the user’s roles as they are now; a disabled or deleted user gets invalid_grant', async () => {
    const native = await nativeSignIn(t, 'roles@example.com');
    const userId = claims(native.access_token).sub as string;
    await t.storage.database.db.updateTable('users').set({ roles: JSON.stringify(['auditor']) }).where('id', '=', userId).execute();
    const rotated = tokens(await refresh(t, 'mobile', native.refresh_token));
    assert.deepEqual(claims(rotated.access_token).roles, ['auditor'], 'roles read at the refresh, not copied from the grant');
    await t.storage.database.db.updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', userId).execute();
    assertOAuthError(await refresh(t, 'mobile', rotated.refresh_token!), 'invalid_grant');
    await t.storage.database.db.updateTable('users').set({ disabled_at: null }).where('id', '=', userId).execute();
    const again = tokens(await refresh(t, 'mobile', rotated.refresh_token!));
    assert.ok(again.refresh_token, 'the refused refresh did not use the token up');
  });

  it('“sign out everywhere else” revokes the native session’s tokens too', async () => {
    const native = await nativeSignIn(t, 'others@example.com');
    const response = await postJSON(t, '/api/auth/sessions/revoke-others', {}, { cookie: native.cookie });
    assert.equal(response.statusCode, 200, response.body);
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
    assertInactive(await introspect(t, native.access_token, 'rs'));
  });

  it('a password change revokes every token of the user; a new sign-in works', async () => {
    const native = await nativeSignIn(t, 'changer@example.com');
    const second = await nativeSignIn(t, 'changer@example.com', { existing: true, clientId: 'mobile2' });
    const changed = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: 'a brand new passphrase 42' }, { cookie: native.cookie });
    assert.equal(changed.statusCode, 200, changed.body);
    for (const session of [native, second]) {
      assertOAuthError(await refresh(t, session === native ? 'mobile' : 'mobile2', session.refresh_token), 'invalid_grant');
      assertInactive(await introspect(t, session.access_token, 'rs'));
    }
    const again = await nativeSignIn(t, 'changer@example.com', { existing: true, password: 'a brand new passphrase 42' });
    assertActive(await introspect(t, again.access_token, 'rs'));
    assert.equal(tokens(await refresh(t, 'mobile', again.refresh_token)).token_type, 'Bearer');
  });

  it('a password reset revokes every token of the user', async () => {
    const native = await nativeSignIn(t, 'resetter@example.com');
    assert.equal((await postJSON(t, '/api/auth/forgot-password', { email: 'resetter@example.com' })).statusCode, 202);
    const reset = await postJSON(t, '/api/auth/reset-password', { token: linkToken(t, 'resetter@example.com', '/reset-password'), password: 'another fresh passphrase 7' });
    assert.equal(reset.statusCode, 200, reset.body);
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
    assertInactive(await introspect(t, native.access_token, 'rs'));
  });

  it('revoking the refresh token (RFC 7009, by the app itself) ends the grant but not the user’s other grants', async () => {
    const first = await nativeSignIn(t, 'twoapps@example.com');
    const other = await nativeSignIn(t, 'twoapps@example.com', { existing: true, clientId: 'mobile2' });
    assert.equal((await revoke(t, first.refresh_token, 'mobile')).statusCode, 200);
    assertOAuthError(await refresh(t, 'mobile', first.refresh_token), 'invalid_grant');
    assertInactive(await introspect(t, first.access_token, 'rs'));
    assertActive(await introspect(t, other.access_token, 'rs'), 'the other app is unaffected');
    assert.equal(tokens(await refresh(t, 'mobile2', other.refresh_token)).token_type, 'Bearer');
  });
});

describe('configuration of clients reaches the token endpoint', () => {
  it('GATEHOUSE_CLIENTS with a hashed secret: the secret works, its hash does not', async () => {
    const t = await createTestApp({ env: clientsEnv() });
    try {
      assert.equal((await clientCredentials(t, 'svc')).statusCode, 200);
      assertOAuthError(await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', hashSecret(SECRETS.svc!)) }), 'invalid_client');
    } finally {
      await t.close();
    }
  });
});
