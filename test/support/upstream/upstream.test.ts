/**
 * Self-test of the upstream servers the social-login tests run against (SEC-OAUTH-31..34):
 * google.ts (oidc-provider as Google) and scripted-idp.ts (oidc and github modes), driven by the
 * real `openid-client` 6 and plain fetch, so a failing social-login test points at Gatehouse,
 * not at its fixtures.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, jwtVerify, type CryptoKey } from 'jose';
import { startGoogleLike, type GoogleLike } from './google.ts';
import { corruptLastCharacter, startScriptedIdp, TAMPERS, type ScriptedIdp, type Tamper } from './scripted-idp.ts';

const APP = { client_id: 'gatehouse', client_secret: 'gatehouse-upstream-secret-0123456789', redirect_uri: 'http://127.0.0.1:9/social/callback' };
const ATTACKER = { client_id: 'attacker', client_secret: 'attacker-upstream-secret-0123456789', redirect_uri: 'http://127.0.0.1:9/evil/callback' };

const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

interface Started {
  url: URL;
  verifier: string;
  nonce: string;
  state: string;
}

/** An authorization request as a careful client builds it: PKCE S256, state, nonce. */
function startAuthorization(config: client.Configuration, redirectUri: string, scope = 'openid email profile', extra: Record<string, string> = {}): Started {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, code_challenge: s256(verifier), code_challenge_method: 'S256', nonce, state, ...extra,
  });
  return { url, verifier, nonce, state };
}

function finish(config: client.Configuration, callback: URL, started: Started): ReturnType<typeof client.authorizationCodeGrant> {
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: started.verifier, expectedNonce: started.nonce, expectedState: started.state });
}

function discover(issuer: string, credentials: { client_id: string; client_secret: string }, ...execute: ((config: client.Configuration) => void)[]): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), credentials.client_id, undefined, client.ClientSecretBasic(credentials.client_secret), {
    execute: [client.allowInsecureRequests, ...execute],
  });
}

/** The OAuth error code an openid-client rejection carries (a ResponseBodyError), if any. */
async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof client.ResponseBodyError) return error.error;
    throw error;
  }
  throw new Error('expected an OAuth error response');
}

function cookieHeader(response: Response, jar: Map<string, string>): string {
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const separator = pair.indexOf('=');
    jar.set(pair.slice(0, separator), pair.slice(separator + 1));
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

describe('google.ts: oidc-provider configured like Google', () => {
  let google: GoogleLike;
  let config: client.Configuration;

  before(async () => {
    google = await startGoogleLike({
      clients: [
        { client_id: APP.client_id, client_secret: APP.client_secret, redirect_uris: [APP.redirect_uri] },
        { client_id: ATTACKER.client_id, client_secret: ATTACKER.client_secret, redirect_uris: [ATTACKER.redirect_uri] },
      ],
    });
    google.accounts.set('alice', { email: 'alice@gmail.test', email_verified: true, name: 'Alice' });
    google.accounts.set('bob', { email: 'bob@example.com', email_verified: false });
    config = await discover(google.issuer, APP);
  });

  after(() => google.close());

  it('listens on 127.0.0.1 over http; discovery advertises RFC 9207 iss, S256, RS256, the code flow', () => {
    assert.match(google.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, google.issuer);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.ok(metadata.id_token_signing_alg_values_supported?.includes('RS256'));
  });

  it('a headless sign-in returns to the redirect_uri with code, state and iss; openid-client gets the claims', async () => {
    const started = startAuthorization(config, APP.redirect_uri);
    const callback = await google.signInHeadless(started.url.href, 'alice');
    assert.equal(`${callback.origin}${callback.pathname}`, APP.redirect_uri);
    assert.equal(callback.searchParams.get('state'), started.state);
    assert.equal(callback.searchParams.get('iss'), google.issuer, 'RFC 9207 iss in the authorization response');
    assert.ok(callback.searchParams.get('code'));
    const tokens = await finish(config, callback, started);
    const header = decodeProtectedHeader(tokens.id_token!);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    assert.deepEqual(
      { ...tokens.claims(), iat: 0, exp: 0 },
      { iss: google.issuer, aud: APP.client_id, sub: 'alice', nonce: started.nonce, email: 'alice@gmail.test', email_verified: true, name: 'Alice', iat: 0, exp: 0 },
    );
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    assert.equal(userinfo.email, 'alice@gmail.test');
  });

  it('records every authorization request and token request (PKCE verifier matches the challenge)', async () => {
    const started = startAuthorization(config, APP.redirect_uri);
    await finish(config, await google.signInHeadless(started.url.href, 'alice'), started);
    const authorization = google.authorizationRequests.at(-1)!;
    assert.equal(authorization.get('code_challenge_method'), 'S256');
    assert.equal(authorization.get('nonce'), started.nonce);
    assert.equal(authorization.get('state'), started.state);
    const tokenRequest = google.tokenRequests.at(-1)!;
    assert.equal(tokenRequest.get('grant_type'), 'authorization_code');
    assert.equal(s256(tokenRequest.get('code_verifier')!), authorization.get('code_challenge'));
    assert.equal(tokenRequest.get('client_secret'), null, 'client_secret_basic keeps the secret out of the body');
  });

  it('reads the accounts Map at every sign-in; each headless sign-in is a new browser', async () => {
    google.accounts.set('carol', { email: 'carol@old.test', email_verified: true });
    const first = startAuthorization(config, APP.redirect_uri);
    assert.equal((await finish(config, await google.signInHeadless(first.url.href, 'carol'), first)).claims()?.email, 'carol@old.test');
    google.accounts.set('carol', { email: 'carol@new.test', email_verified: true });
    const second = startAuthorization(config, APP.redirect_uri);
    assert.equal((await finish(config, await google.signInHeadless(second.url.href, 'carol'), second)).claims()?.email, 'carol@new.test');
    const third = startAuthorization(config, APP.redirect_uri);
    const bob = (await finish(config, await google.signInHeadless(third.url.href, 'bob'), third)).claims();
    assert.equal(bob?.sub, 'bob', 'no upstream session carried over from carol');
    assert.equal(bob?.email_verified, false);
  });

  it('the sign-in page is a plain form; an unknown account gets it back with 400', async () => {
    const jar = new Map<string, string>();
    const started = startAuthorization(config, APP.redirect_uri);
    const authorization = await fetch(started.url, { redirect: 'manual' });
    assert.equal(authorization.status, 303);
    const interaction = new URL(authorization.headers.get('location')!, google.issuer);
    assert.match(interaction.pathname, /^\/interaction\/[\w-]+$/);
    const page = await fetch(interaction, { headers: { cookie: cookieHeader(authorization, jar) } });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.ok(html.includes(`<form method="post" action="${interaction.pathname}/login">`));
    assert.match(html, /<input name="login" id="login">/);
    assert.match(html, /<button id="signin" type="submit">Sign in<\/button>/);
    const refused = await fetch(new URL(`${interaction.pathname}/login`, google.issuer), {
      method: 'POST', redirect: 'manual', headers: { cookie: cookieHeader(page, jar) }, body: new URLSearchParams({ login: 'nobody' }),
    });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /Unknown account[\s\S]*<form method="post"/);
    await assert.rejects(google.signInHeadless(startAuthorization(config, APP.redirect_uri).url.href, 'nobody'), /400/);
  });

  it('PKCE is required of confidential clients too', async () => {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: APP.redirect_uri, scope: 'openid', state: 'st', nonce: 'nn' });
    const callback = await google.signInHeadless(url.href, 'alice');
    assert.equal(callback.searchParams.get('error'), 'invalid_request');
    assert.equal(callback.searchParams.get('iss'), google.issuer, 'error responses carry iss too');
  });

  it('a code issued to another client, or redeemed with the wrong verifier, is refused', async () => {
    const attackerConfig = await discover(google.issuer, ATTACKER);
    const theirs = startAuthorization(attackerConfig, ATTACKER.redirect_uri);
    const theirCallback = await google.signInHeadless(theirs.url.href, 'alice');
    assert.equal(await oauthError(finish(config, theirCallback, theirs)), 'invalid_grant');
    const started = startAuthorization(config, APP.redirect_uri);
    const callback = await google.signInHeadless(started.url.href, 'alice');
    assert.equal(await oauthError(finish(config, callback, { ...started, verifier: client.randomPKCECodeVerifier() })), 'invalid_grant');
  });

  it('client_secret_post is accepted as well', async () => {
    const postConfig = await client.discovery(new URL(google.issuer), APP.client_id, undefined, client.ClientSecretPost(APP.client_secret), {
      execute: [client.allowInsecureRequests],
    });
    const started = startAuthorization(postConfig, APP.redirect_uri);
    const tokens = await finish(postConfig, await google.signInHeadless(started.url.href, 'alice'), started);
    assert.equal(tokens.claims()?.sub, 'alice');
    assert.equal(google.tokenRequests.at(-1)!.get('client_secret'), APP.client_secret);
  });
});

/** A code from the scripted IdP without a client library: for inspecting raw responses. */
async function rawCode(idp: ScriptedIdp, scope = 'openid email profile'): Promise<{ code: string; verifier: string; nonce: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = new URL(idp.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: APP.client_id, redirect_uri: APP.redirect_uri, scope, state: 'st', nonce,
    code_challenge: s256(verifier), code_challenge_method: 'S256',
  }).toString();
  const callback = await idp.approve(url.href);
  return { code: callback.searchParams.get('code')!, verifier, nonce };
}

function redeem(idp: ScriptedIdp, fields: Record<string, string>, options: { auth?: 'basic' | 'post' | 'both' | 'none'; secret?: string; accept?: string } = {}): Promise<Response> {
  const { auth = 'basic', secret = APP.client_secret, accept = 'application/json' } = options;
  const body = new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: APP.redirect_uri, ...fields });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept };
  if (auth === 'basic' || auth === 'both') headers.authorization = `Basic ${Buffer.from(`${APP.client_id}:${secret}`).toString('base64')}`;
  if (auth === 'post' || auth === 'both') body.set('client_secret', secret);
  if (auth !== 'basic') body.set('client_id', APP.client_id);
  return fetch(idp.tokenEndpoint, { method: 'POST', headers, body });
}

async function rawIdToken(idp: ScriptedIdp, tamper: Tamper | undefined): Promise<{ token: string; nonce: string }> {
  const { code, verifier, nonce } = await rawCode(idp);
  idp.tamper = tamper;
  const response = await redeem(idp, { code, code_verifier: verifier });
  assert.equal(response.status, 200);
  return { token: ((await response.json()) as { id_token: string }).id_token, nonce };
}

describe('scripted-idp.ts, oidc mode', () => {
  let idp: ScriptedIdp;
  let config: client.Configuration;

  before(async () => {
    idp = await startScriptedIdp({ mode: 'oidc', ...APP });
    config = await discover(idp.issuer, APP, client.enableNonRepudiationChecks);
  });

  after(() => idp.close());

  it('publishes discovery and the JWKS', async () => {
    const metadata = (await (await fetch(idp.discoveryEndpoint!)).json()) as Record<string, unknown>;
    assert.deepEqual(
      [metadata.issuer, metadata.authorization_endpoint, metadata.token_endpoint, metadata.userinfo_endpoint, metadata.jwks_uri],
      [idp.issuer, idp.authorizationEndpoint, idp.tokenEndpoint, idp.userinfoEndpoint, idp.jwksUri],
    );
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.deepEqual(metadata.subject_types_supported, ['public']);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['RS256']);
    assert.deepEqual(metadata.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
    const jwks = (await (await fetch(idp.jwksUri!)).json()) as { keys: Record<string, unknown>[] };
    assert.deepEqual(jwks.keys, [idp.publicJwk]);
    assert.equal(jwks.keys[0]!.d, undefined, 'no private part');
  });

  it('openid-client completes the code flow: iss in the response, a valid ID token, userinfo', async () => {
    idp.nextIdentity = { sub: 'u-1', email: 'u1@mock.test', email_verified: true, name: 'U One' };
    const started = startAuthorization(config, APP.redirect_uri);
    const callback = await idp.approve(started.url.href);
    assert.equal(callback.searchParams.get('iss'), idp.issuer);
    const tokens = await finish(config, callback, started);
    assert.deepEqual(
      { ...tokens.claims(), iat: 0, exp: 0 },
      { iss: idp.issuer, aud: APP.client_id, sub: 'u-1', nonce: started.nonce, email: 'u1@mock.test', email_verified: true, name: 'U One', iat: 0, exp: 0 },
    );
    assert.equal(tokens.token_type, 'bearer');
    assert.deepEqual(await client.fetchUserInfo(config, tokens.access_token, 'u-1'), { sub: 'u-1', email: 'u1@mock.test', email_verified: true, name: 'U One' });
    assert.equal(idp.issuedAccessTokens.at(-1), tokens.access_token);
    assert.equal(idp.authorizationRequests.at(-1)!.get('nonce'), started.nonce);
    assert.equal(s256(idp.tokenRequests.at(-1)!.get('code_verifier')!), idp.authorizationRequests.at(-1)!.get('code_challenge'));
  });

  describe('each tamper spoils exactly what it names', () => {
    const keySet = () => createLocalJWKSet({ keys: [idp.publicJwk] });
    const signatureValid = async (token: string): Promise<boolean> => compactVerify(token, keySet()).then(() => true, () => false);

    it('the untampered token verifies, claims included', async () => {
      idp.nextIdentity = { sub: 'u-2', email: 'u2@mock.test', email_verified: true };
      const { token, nonce } = await rawIdToken(idp, undefined);
      const { payload } = await jwtVerify(token, keySet(), { issuer: idp.issuer, audience: APP.client_id, algorithms: ['RS256'] });
      assert.equal(payload.nonce, nonce);
      assert.equal(payload.exp! - payload.iat!, 300);
    });

    it('alg-none: unsigned', async () => {
      const { token } = await rawIdToken(idp, 'alg-none');
      assert.deepEqual(decodeProtectedHeader(token), { alg: 'none', typ: 'JWT' });
      assert.ok(token.endsWith('.'));
      assert.equal(decodeJwt(token).sub, 'u-2');
    });

    it('hs256-with-public-key: HMAC keyed with the published SPKI PEM, kid of the real key', async () => {
      const { token } = await rawIdToken(idp, 'hs256-with-public-key');
      assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT', kid: idp.publicJwk.kid });
      const pem = await exportSPKI((await importJWK(idp.publicJwk, 'RS256', { extractable: true })) as CryptoKey);
      await jwtVerify(token, new TextEncoder().encode(pem), { algorithms: ['HS256'] });
      assert.equal(await signatureValid(token), false);
    });

    for (const tamper of ['foreign-key', 'bad-signature'] as const) {
      it(`${tamper}: RS256 with the real kid, signature does not verify, claims valid`, async () => {
        const { token, nonce } = await rawIdToken(idp, tamper);
        assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', typ: 'JWT', kid: idp.publicJwk.kid });
        assert.equal(await signatureValid(token), false);
        assert.deepEqual({ ...decodeJwt(token), iat: 0, exp: 0 }, { iss: idp.issuer, aud: APP.client_id, sub: 'u-2', nonce, email: 'u2@mock.test', email_verified: true, iat: 0, exp: 0 });
      });
    }

    it('bad-signature changes the decoded signature bytes, not only padding bits', () => {
      const token = 'a.b.' + Buffer.alloc(256, 7).toString('base64url');
      const signature = (jwt: string) => Buffer.from(jwt.split('.')[2]!, 'base64url');
      assert.notDeepEqual(signature(corruptLastCharacter(token)), signature(token));
    });

    const near = (actual: unknown, expected: number): boolean => Math.abs(Number(actual) - expected) <= 2;
    const claimTampers: [Tamper, string[], (claims: Record<string, unknown>, now: number) => boolean][] = [
      ['wrong-iss', ['iss'], (claims) => claims.iss === 'https://evil.example'],
      ['wrong-aud', ['aud'], (claims) => claims.aud === 'someone-else'],
      ['extra-aud-wrong-azp', ['aud', 'azp'], (claims) => JSON.stringify([claims.aud, claims.azp]) === JSON.stringify([[APP.client_id, 'other-client'], 'other-client'])],
      ['expired', ['exp', 'iat'], (claims, now) => near(claims.exp, now - 600) && near(claims.iat, now - 900)],
      ['future-iat', ['exp', 'iat'], (claims, now) => near(claims.iat, now + 3600) && near(claims.exp, now + 4000)],
      ['missing-sub', ['sub'], (claims) => !('sub' in claims)],
      ['wrong-nonce', ['nonce'], (claims) => claims.nonce === 'not-the-one'],
      ['missing-nonce', ['nonce'], (claims) => !('nonce' in claims)],
    ];
    for (const [tamper, touched, spoiled] of claimTampers) {
      it(`${tamper}: correctly signed, only ${touched.join(' and ')} spoiled`, async () => {
        const { token, nonce } = await rawIdToken(idp, tamper);
        assert.equal(await signatureValid(token), true);
        const claims = decodeJwt(token);
        const now = Math.floor(Date.now() / 1000);
        assert.ok(spoiled(claims, now), JSON.stringify(claims));
        const untouched = (all: Record<string, unknown>) => Object.fromEntries(Object.entries(all).filter(([name]) => !touched.includes(name)));
        const normal = { iss: idp.issuer, aud: APP.client_id, sub: 'u-2', nonce, email: 'u2@mock.test', email_verified: true, iat: now, exp: now + 300 };
        assert.deepEqual(untouched({ ...claims, iat: now, exp: now + 300 }), untouched(normal));
        if (!touched.includes('exp')) assert.ok(near(claims.exp, now + 300) && near(claims.iat, now));
      });
    }
  });

  it('openid-client (with non-repudiation checks) refuses each tampered ID token but future-iat; a tamper lasts one response', async () => {
    for (const tamper of TAMPERS.filter((item) => item !== 'future-iat')) {
      idp.tamper = tamper;
      const started = startAuthorization(config, APP.redirect_uri);
      await assert.rejects(finish(config, await idp.approve(started.url.href), started), Error, tamper);
      assert.equal(idp.tamper, undefined);
      const again = startAuthorization(config, APP.redirect_uri);
      await finish(config, await idp.approve(again.url.href), again);
    }
  });

  it('tamperAuthorizationResponse: a wrong or missing iss is refused by openid-client, once', async () => {
    for (const iss of ['https://other-idp.example', null]) {
      idp.tamperAuthorizationResponse = { iss };
      const started = startAuthorization(config, APP.redirect_uri);
      const callback = await idp.approve(started.url.href);
      assert.equal(callback.searchParams.get('iss'), iss);
      await assert.rejects(finish(config, callback, started), (error: Error) => /"iss"/.test(String((error.cause as Error | undefined)?.message)));
      assert.equal(idp.tamperAuthorizationResponse, undefined);
    }
    const started = startAuthorization(config, APP.redirect_uri);
    await finish(config, await idp.approve(started.url.href), started);
  });

  it('metadataIssuerOverride: discovery names another issuer and openid-client refuses it', async () => {
    idp.metadataIssuerOverride = 'https://someone-else.example';
    try {
      assert.equal(((await (await fetch(idp.discoveryEndpoint!)).json()) as { issuer: string }).issuer, 'https://someone-else.example');
      await assert.rejects(discover(idp.issuer, APP), /issuer/);
    } finally {
      idp.metadataIssuerOverride = undefined;
    }
  });

  it('authorize: an unregistered redirect_uri or client gets 400; no PKCE gets an error redirect', async () => {
    const bad = startAuthorization(config, 'http://127.0.0.1:9/elsewhere');
    assert.equal((await fetch(bad.url, { redirect: 'manual' })).status, 400);
    const unknownClient = new URL(startAuthorization(config, APP.redirect_uri).url);
    unknownClient.searchParams.set('client_id', 'nobody');
    assert.equal((await fetch(unknownClient, { redirect: 'manual' })).status, 400);
    const noPkce = client.buildAuthorizationUrl(config, { redirect_uri: APP.redirect_uri, scope: 'openid', state: 'st' });
    const callback = await idp.approve(noPkce.href);
    assert.deepEqual([callback.searchParams.get('error'), callback.searchParams.get('state'), callback.searchParams.get('code')], ['invalid_request', 'st', null]);
  });

  it('token: PKCE checked, codes single-use, basic or post (not both), wrong secret 401', async () => {
    const first = await rawCode(idp);
    assert.deepEqual(await (await redeem(idp, { code: first.code, code_verifier: client.randomPKCECodeVerifier() })).json(), { error: 'invalid_grant', error_description: 'PKCE verification failed' });
    assert.equal((await redeem(idp, { code: first.code, code_verifier: first.verifier })).status, 400, 'the failed attempt consumed the code');

    const second = await rawCode(idp);
    const wrongSecret = await redeem(idp, { code: second.code, code_verifier: second.verifier }, { secret: 'nope' });
    assert.equal(wrongSecret.status, 401);
    assert.equal(((await wrongSecret.json()) as { error: string }).error, 'invalid_client');
    assert.equal((await redeem(idp, { code: second.code, code_verifier: second.verifier }, { auth: 'none' })).status, 401);
    assert.equal((await redeem(idp, { code: second.code, code_verifier: second.verifier }, { auth: 'both' })).status, 400);
    assert.equal((await redeem(idp, { code: second.code, code_verifier: second.verifier }, { auth: 'post' })).status, 200, 'auth failures do not burn the code');
    const replay = await redeem(idp, { code: second.code, code_verifier: second.verifier });
    assert.deepEqual([replay.status, ((await replay.json()) as { error: string }).error], [400, 'invalid_grant']);

    const third = await rawCode(idp);
    assert.equal((await redeem(idp, { code: third.code, code_verifier: third.verifier, redirect_uri: 'http://127.0.0.1:9/x' })).status, 400);
  });

  it('userinfo needs a valid bearer token', async () => {
    const response = await fetch(idp.userinfoEndpoint, { headers: { authorization: 'Bearer nope' } });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /invalid_token/);
  });
});

describe('scripted-idp.ts, github mode', () => {
  let idp: ScriptedIdp;
  let config: client.Configuration;
  const SCOPE = 'read:user user:email';

  before(async () => {
    idp = await startScriptedIdp({ mode: 'github', ...APP });
    config = new client.Configuration(
      { issuer: idp.issuer, authorization_endpoint: idp.authorizationEndpoint, token_endpoint: idp.tokenEndpoint },
      APP.client_id,
      undefined,
      client.ClientSecretBasic(APP.client_secret),
    );
    client.allowInsecureRequests(config);
  });

  after(() => idp.close());

  const api = async (url: string, accessToken: string, scheme = 'Bearer'): Promise<[number, unknown]> => {
    const response = await fetch(url, { headers: { authorization: `${scheme} ${accessToken}`, accept: 'application/json' } });
    return [response.status, await response.json()];
  };

  it('has GitHub paths, an origin for issuer, no discovery', async () => {
    assert.equal(idp.issuer, idp.origin);
    assert.deepEqual(
      [idp.authorizationEndpoint, idp.tokenEndpoint, idp.userinfoEndpoint, idp.emailsEndpoint, idp.discoveryEndpoint],
      [`${idp.origin}/login/oauth/authorize`, `${idp.origin}/login/oauth/access_token`, `${idp.origin}/user`, `${idp.origin}/user/emails`, undefined],
    );
    assert.equal((await fetch(`${idp.origin}/.well-known/openid-configuration`)).status, 404);
  });

  it('openid-client completes the OAuth 2.0 code flow (no iss, no ID token); /user and /user/emails answer', async () => {
    idp.nextIdentity = { sub: '4242', login: 'octo', name: 'Octo Cat', email: 'octo@github.test', email_verified: true };
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: APP.redirect_uri, scope: SCOPE, state, code_challenge: s256(verifier), code_challenge_method: 'S256' });
    const callback = await idp.approve(url.href);
    assert.equal(callback.searchParams.get('iss'), null);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.id_token, undefined);
    assert.equal(tokens.scope, 'read:user,user:email', 'GitHub lists granted scopes comma-separated');
    assert.deepEqual(await api(idp.userinfoEndpoint, tokens.access_token), [200, { id: 4242, login: 'octo', name: 'Octo Cat', email: null }]);
    assert.deepEqual(await api(idp.emailsEndpoint!, tokens.access_token, 'token'), [200, [{ email: 'octo@github.test', primary: true, verified: true, visibility: 'private' }]]);
    assert.equal(s256(idp.tokenRequests.at(-1)!.get('code_verifier')!), idp.authorizationRequests.at(-1)!.get('code_challenge'));
  });

  it('the token response is urlencoded unless JSON is asked for; errors are HTTP 200 with GitHub codes', async () => {
    idp.nextIdentity = { sub: '5', login: 'five' };
    const plain = await rawCode(idp, SCOPE);
    const form = await redeem(idp, { code: plain.code, code_verifier: plain.verifier }, { accept: '*/*' });
    assert.match(form.headers.get('content-type') ?? '', /^application\/x-www-form-urlencoded/);
    const fields = new URLSearchParams(await form.text());
    assert.deepEqual([fields.get('token_type'), fields.get('scope'), Boolean(fields.get('access_token'))], ['bearer', 'read:user,user:email', true]);
    const replay = await redeem(idp, { code: plain.code, code_verifier: plain.verifier });
    assert.deepEqual([replay.status, ((await replay.json()) as { error: string }).error], [200, 'bad_verification_code']);
    const other = await rawCode(idp, SCOPE);
    const wrongSecret = await redeem(idp, { code: other.code, code_verifier: other.verifier }, { secret: 'nope' });
    assert.deepEqual([wrongSecret.status, ((await wrongSecret.json()) as { error: string }).error], [200, 'incorrect_client_credentials']);
    const wrongVerifier = await redeem(idp, { code: other.code, code_verifier: 'x'.repeat(43) }, { accept: '*/*' });
    assert.equal(new URLSearchParams(await wrongVerifier.text()).get('error'), 'bad_verification_code');
  });

  it('public_email, scripted emails, no email; /user/emails needs the user:email scope; bad tokens 401', async () => {
    const tokenFor = async (identity: ScriptedIdp['nextIdentity'], scope = SCOPE): Promise<string> => {
      idp.nextIdentity = identity;
      const { code, verifier } = await rawCode(idp, scope);
      return ((await (await redeem(idp, { code, code_verifier: verifier })).json()) as { access_token: string }).access_token;
    };
    const emails = [
      { email: 'shown@github.test', primary: false, verified: true, visibility: 'public' as const },
      { email: 'main@github.test', primary: true, verified: false, visibility: 'private' as const },
    ];
    const scripted = await tokenFor({ sub: '7', public_email: 'shown@github.test', emails });
    assert.deepEqual(await api(idp.userinfoEndpoint, scripted), [200, { id: 7, login: 'user7', name: null, email: 'shown@github.test' }]);
    assert.deepEqual(await api(idp.emailsEndpoint!, scripted), [200, emails]);
    assert.deepEqual(await api(idp.emailsEndpoint!, await tokenFor({ sub: '8' })), [200, []]);
    assert.deepEqual(await api(idp.emailsEndpoint!, await tokenFor({ sub: '9', email: 'n@github.test' }, 'read:user')), [404, { message: 'Not Found' }]);
    assert.equal((await api(idp.userinfoEndpoint, 'nope'))[0], 401);
  });
});
