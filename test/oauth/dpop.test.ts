/**
 * DPoP at the token endpoint, userinfo and introspection (RFC 9449), in-process. Proofs are made
 * with jose (test/support/dpop.ts); the clock is injected, so iat windows never depend on speed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { dpopKey, proof, type DPoPKey, type ProofAlg } from '../support/dpop.ts';
import { assertActive, assertOAuthError, basic, claims, postForm, SECRETS, tokens } from '../support/oauth.ts';
import { createOidcApp, manualClock, NATIVE_REDIRECT, obtainCode, OIDC_SECRETS } from '../support/oidc.ts';

const clock = manualClock();
const nowSeconds = () => Math.floor(clock.now() / 1000);

function tokenUrl(t: TestApp): string {
  return `${t.config.publicUrl}/oauth/token`;
}

function clientCredentialsWith(t: TestApp, dpop: string | undefined, clientId = 'svc') {
  return postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(clientId, SECRETS[clientId]!), ...(dpop === undefined ? {} : { dpop }) });
}

async function nativeTokens(t: TestApp, key: DPoPKey | undefined, email: string): Promise<{ access_token: string; refresh_token: string; token_type: string }> {
  const cookie = await registerAndSignIn(t, email);
  const { code, verifier } = await obtainCode(t, cookie, { clientId: 'native', scope: 'openid offline_access' });
  const headers: Record<string, string> = key ? { dpop: await proof(key, { htu: tokenUrl(t), iat: nowSeconds() }) } : {};
  const response = await postForm(t, '/oauth/token', { grant_type: 'authorization_code', client_id: 'native', code, code_verifier: verifier, redirect_uri: NATIVE_REDIRECT }, headers);
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

async function refreshNative(t: TestApp, refreshToken: string, key: DPoPKey | undefined) {
  const headers: Record<string, string> = key ? { dpop: await proof(key, { htu: tokenUrl(t), iat: nowSeconds() }) } : {};
  return postForm(t, '/oauth/token', { grant_type: 'refresh_token', client_id: 'native', refresh_token: refreshToken }, headers);
}

describe('DPoP at the token endpoint (RFC 9449 §5)', () => {
  let t: TestApp;
  before(async () => {
    t = await createOidcApp({ now: clock.now });
  });
  after(() => t.close());

  for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256'] as ProofAlg[]) {
    it(`a ${alg} proof binds the access token: token_type DPoP, cnf.jkt is the RFC 7638 thumbprint (jose)`, async () => {
      const key = await dpopKey(alg);
      const body = tokens(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds() })));
      assert.equal(body.token_type, 'DPoP');
      assert.deepEqual(claims(body.access_token).cnf, { jkt: key.jkt });
      // RFC 9449 §6.2: introspection says DPoP and names the key.
      const introspected = assertActive(await postForm(t, '/oauth/introspect', { token: body.access_token }, { authorization: basic('rs', SECRETS.rs!) }));
      assert.equal(introspected.token_type, 'DPoP');
      assert.deepEqual(introspected.cnf, { jkt: key.jkt });
    });
  }

  it('without a proof the token stays Bearer, without cnf', async () => {
    const body = tokens(await clientCredentialsWith(t, undefined));
    assert.equal(body.token_type, 'Bearer');
    assert.equal(claims(body.access_token).cnf, undefined);
  });

  it('a replayed proof (same jti) is refused: invalid_dpop_proof', async () => {
    const key = await dpopKey();
    const once = await proof(key, { htu: tokenUrl(t), iat: nowSeconds() });
    tokens(await clientCredentialsWith(t, once));
    assertOAuthError(await clientCredentialsWith(t, once), 'invalid_dpop_proof');
    // The same jti in a fresh proof is a replay too (keyed on jti, never on signature bytes).
    const jti = 'fixed-jti-1';
    tokens(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds(), jti })));
    assertOAuthError(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds() - 1, jti })), 'invalid_dpop_proof');
  });

  it('iat: ±10 s is accepted (SEC-OIDF-19), beyond the 30 s window refused', async () => {
    const key = await dpopKey();
    for (const offset of [-10, 10, -30, 30]) tokens(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds() + offset })));
    for (const offset of [-31, 31, -3600]) assertOAuthError(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds() + offset })), 'invalid_dpop_proof', 400, `iat ${offset}`);
  });

  it('htm and htu must name this request', async () => {
    const key = await dpopKey();
    const url = new URL(tokenUrl(t));
    const wrong: [string, Record<string, unknown>][] = [
      ['htm GET', { htm: 'GET' }],
      ['htm post', { htm: 'post' }],
      ['htu of userinfo', { htu: `${url.origin}/oauth/userinfo` }],
      ['htu with a query', { htu: `${tokenUrl(t)}?x=1` }],
      ['htu with a fragment', { htu: `${tokenUrl(t)}#x` }],
      ['htu with a trailing slash', { htu: `${tokenUrl(t)}/` }],
      ['htu of another host', { htu: `${url.protocol}//evil.example/oauth/token` }],
      ['htu with another scheme', { htu: `${url.protocol === 'http:' ? 'https:' : 'http:'}//${url.host}${url.pathname}` }],
      ['htu relative', { htu: '/oauth/token' }],
      ['htu not a string', { htu: [tokenUrl(t)] }],
    ];
    for (const [name, claimsOverride] of wrong) {
      const token = await proof(key, { htu: tokenUrl(t), iat: nowSeconds(), claims: claimsOverride });
      assertOAuthError(await clientCredentialsWith(t, token), 'invalid_dpop_proof', 400, name);
    }
    // Normalisation (RFC 3986 §6): upper-case scheme and host name the same resource.
    tokens(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t).replace(url.host, url.host.toUpperCase()).replace(/^http/, 'HTTP'), iat: nowSeconds() })));
  });

  it('two DPoP headers are refused', async () => {
    const key = await dpopKey();
    const response = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('svc', SECRETS.svc!), dpop: [await proof(key, { htu: tokenUrl(t), iat: nowSeconds() }), await proof(key, { htu: tokenUrl(t), iat: nowSeconds() })] },
      payload: 'grant_type=client_credentials',
    });
    assertOAuthError(response, 'invalid_dpop_proof');
  });

  it('a public client’s refresh token is bound to the key: another key or no proof is refused, and uses nothing up', async () => {
    const key = await dpopKey();
    const first = await nativeTokens(t, key, 'dpop-refresh@example.com');
    assert.equal(first.token_type, 'DPoP');
    assert.deepEqual(claims(first.access_token).cnf, { jkt: key.jkt });
    // Rotate twice (the second rotation takes the instance's rotation-hint path).
    let current = first.refresh_token;
    for (let round = 0; round < 2; round++) {
      const rotated = tokens(await refreshNative(t, current, key));
      assert.equal(rotated.token_type, 'DPoP');
      assert.deepEqual(claims(rotated.access_token).cnf, { jkt: key.jkt });
      current = rotated.refresh_token!;
    }
    assertOAuthError(await refreshNative(t, current, undefined), 'invalid_grant', 400, 'no proof');
    assertOAuthError(await refreshNative(t, current, await dpopKey()), 'invalid_grant', 400, 'another key');
    assertOAuthError(await refreshNative(t, current, await dpopKey('EdDSA')), 'invalid_grant', 400, 'another key type');
    // The refused attempts used nothing up and revoked nothing: the holder of the key goes on.
    const next = tokens(await refreshNative(t, current, key));
    assert.deepEqual(claims(next.access_token).cnf, { jkt: key.jkt });
  });

  it('a confidential client’s refresh token is bound to its authentication, not the key', async () => {
    const cookie = await registerAndSignIn(t, 'dpop-webapp@example.com');
    const { code, verifier } = await obtainCode(t, cookie, { clientId: 'webapp', scope: 'openid offline_access' });
    const key = await dpopKey();
    const webapp = { authorization: basic('webapp', OIDC_SECRETS.webapp!) };
    const redeemed = tokens(await postForm(t, '/oauth/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.example/callback' }, { ...webapp, dpop: await proof(key, { htu: tokenUrl(t), iat: nowSeconds() }) }));
    assert.equal(redeemed.token_type, 'DPoP');
    const plain = tokens(await postForm(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: redeemed.refresh_token! }, webapp));
    assert.equal(plain.token_type, 'Bearer');
    assert.equal(claims(plain.access_token).cnf, undefined);
  });

  it('discovery lists dpop_signing_alg_values_supported and the token-exchange grant', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    assert.deepEqual(document.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'RS256', 'PS256']);
    assert.ok(document.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
  });
});

describe('DPoP at userinfo (RFC 9449 §7)', () => {
  let t: TestApp;
  let key: DPoPKey;
  let bound: { access_token: string };
  let userinfoUrl: string;
  before(async () => {
    t = await createOidcApp({ now: clock.now });
    key = await dpopKey();
    bound = await nativeTokens(t, key, 'dpop-userinfo@example.com');
    userinfoUrl = `${t.config.publicUrl}/oauth/userinfo`;
  });
  after(() => t.close());

  const get = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/oauth/userinfo', headers });

  it('answers the DPoP scheme with a proof of the bound key (ath of the token)', async () => {
    const response = await get({ authorization: `DPoP ${bound.access_token}`, dpop: await proof(key, { htm: 'GET', htu: userinfoUrl, iat: nowSeconds(), accessToken: bound.access_token }) });
    assert.equal(response.statusCode, 200, response.body);
    assert.ok(response.json().sub);
  });

  it('refuses the bound token replayed without the key', async () => {
    const cases: [string, Record<string, string>][] = [
      ['as a Bearer token', { authorization: `Bearer ${bound.access_token}` }],
      ['DPoP scheme without a proof', { authorization: `DPoP ${bound.access_token}` }],
      ['a proof of another key', { authorization: `DPoP ${bound.access_token}`, dpop: await proof(await dpopKey(), { htm: 'GET', htu: userinfoUrl, iat: nowSeconds(), accessToken: bound.access_token }) }],
      ['a proof without ath', { authorization: `DPoP ${bound.access_token}`, dpop: await proof(key, { htm: 'GET', htu: userinfoUrl, iat: nowSeconds() }) }],
      ['a proof for the token endpoint', { authorization: `DPoP ${bound.access_token}`, dpop: await proof(key, { htm: 'POST', htu: tokenUrl(t), iat: nowSeconds(), accessToken: bound.access_token }) }],
    ];
    for (const [name, headers] of cases) {
      const response = await get(headers);
      assert.equal(response.statusCode, 401, `${name}: ${response.body}`);
      assert.match(String(response.headers['www-authenticate']), /^DPoP algs="ES256 EdDSA RS256 PS256", error="(invalid_token|invalid_dpop_proof)"/, name);
    }
  });

  it('refuses a replayed userinfo proof', async () => {
    const headers = { authorization: `DPoP ${bound.access_token}`, dpop: await proof(key, { htm: 'GET', htu: userinfoUrl, iat: nowSeconds(), accessToken: bound.access_token }) };
    assert.equal((await get(headers)).statusCode, 200);
    assert.equal((await get(headers)).statusCode, 401);
  });

  it('refuses an unbound token under the DPoP scheme', async () => {
    const plain = await nativeTokens(t, undefined, 'dpop-unbound@example.com');
    assert.equal(plain.token_type, 'Bearer');
    const response = await get({ authorization: `DPoP ${plain.access_token}`, dpop: await proof(key, { htm: 'GET', htu: userinfoUrl, iat: nowSeconds(), accessToken: plain.access_token }) });
    assert.equal(response.statusCode, 401);
    assert.equal((await get({ authorization: `Bearer ${plain.access_token}` })).statusCode, 200);
  });
});

describe('DPoP server nonces and dpop_bound_access_tokens (RFC 9449 §8, §5.2)', () => {
  let t: TestApp;
  const clock = manualClock();
  const nowSeconds = () => Math.floor(clock.now() / 1000);
  before(async () => {
    t = await createOidcApp({ now: clock.now, env: { GATEHOUSE_DPOP_REQUIRE_NONCE: 'true', GATEHOUSE_DPOP_BOUND_CLIENTS: 'svc' } });
  });
  after(() => t.close());

  it('a proof without the server nonce gets use_dpop_nonce and a DPoP-Nonce; with it, tokens', async () => {
    const key = await dpopKey();
    const refused = await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds() }));
    assertOAuthError(refused, 'use_dpop_nonce');
    const nonce = String(refused.headers['dpop-nonce']);
    assert.match(nonce, /^[0-9a-z]+\.[A-Za-z0-9_-]{24}$/);
    assertOAuthError(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds(), nonce: `${nonce}x` })), 'use_dpop_nonce', 400, 'a forged nonce');
    const accepted = await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds(), nonce }));
    assert.equal(tokens(accepted).token_type, 'DPoP');
    // A nonce lives for its 5-minute slot and the next one, never longer.
    clock.advance(6 * 60_000);
    tokens(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds(), nonce })));
    clock.advance(5 * 60_000);
    assertOAuthError(await clientCredentialsWith(t, await proof(key, { htu: tokenUrl(t), iat: nowSeconds(), nonce })), 'use_dpop_nonce', 400, 'an expired nonce');
  });

  it('a client registered for DPoP-bound tokens gets none without a proof', async () => {
    assertOAuthError(await clientCredentialsWith(t, undefined), 'invalid_dpop_proof');
    // svc2 is not listed: Bearer tokens as before.
    assert.equal(tokens(await clientCredentialsWith(t, undefined, 'svc2')).token_type, 'Bearer');
  });
});
