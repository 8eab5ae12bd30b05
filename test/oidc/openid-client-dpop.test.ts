/**
 * DPoP end to end with a real, certified client (openid-client 6, `getDPoPHandle`) against a
 * listening Gatehouse with server nonces on, and against an API protected by the kit (Fastify
 * adapter): a code flow of a public client with DPoP-bound tokens, userinfo, a kit-protected
 * resource, refresh rotation bound to the key — and the same tokens replayed without the key,
 * refused at userinfo, at the token endpoint and by the kit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import Fastify, { type FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { listeningOidcApp, NATIVE_REDIRECT, obtainCode } from '../support/oidc.ts';
import { createAuthenticator, type Authenticator } from '../../packages/middleware/src/index.ts';
import { createFastifyAuth } from '../../packages/middleware/src/fastify.ts';

describe('openid-client DPoP: code + refresh flow, userinfo and the kit (RFC 9449)', { timeout: 120_000 }, () => {
  let t: TestApp;
  let base = '';
  let api: FastifyInstance;
  let apiBase = '';
  let kit: Authenticator;
  let config: client.Configuration;
  let keyPair: Awaited<ReturnType<typeof client.randomDPoPKeyPair>>;
  let dpop: client.DPoPHandle;
  let jkt = '';
  let accessToken = '';
  let refreshToken = '';
  let subject = '';

  before(async () => {
    ({ t, base } = await listeningOidcApp({ env: { GATEHOUSE_DPOP_REQUIRE_NONCE: 'true' } }));
    kit = createAuthenticator({ issuer: base, audience: base, revocations: false, session: false });
    await kit.ready();
    const auth = createFastifyAuth(kit);
    api = Fastify();
    await api.register(auth.plugin);
    api.get('/me', { onRequest: auth.requireAuth() }, async (request) => ({ subject: request.auth!.subject, via: request.auth!.via }));
    await api.listen({ port: 0, host: '127.0.0.1' });
    apiBase = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;

    config = await client.discovery(new URL(base), 'native', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    keyPair = await client.randomDPoPKeyPair('ES256');
    dpop = client.getDPoPHandle(config, keyPair);
    jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
  });

  after(async () => {
    await api?.close();
    await kit?.close();
    await t?.close();
  });

  it('the code grant returns DPoP-bound tokens (openid-client retries with the server nonce)', async () => {
    const cookie = await registerAndSignIn(t, 'openid-client-dpop@example.com');
    const state = client.randomState();
    const { params, verifier } = await obtainCode(t, cookie, { clientId: 'native', scope: 'openid profile offline_access', state });
    const tokens = await client.authorizationCodeGrant(config, new URL(`${NATIVE_REDIRECT}?${params}`), { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: dpop });
    assert.equal(tokens.token_type, 'dpop');
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt });
    assert.ok(tokens.refresh_token);
    accessToken = tokens.access_token;
    refreshToken = tokens.refresh_token;
    subject = tokens.claims()!.sub;
  });

  it('userinfo answers with the key, and refuses the token replayed without it', async () => {
    const info = await client.fetchUserInfo(config, accessToken, subject, { DPoP: dpop });
    assert.equal(info.sub, subject);
    const asBearer = await fetch(`${base}/oauth/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(asBearer.status, 401);
    assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP /);
    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await assert.rejects(client.fetchUserInfo(config, accessToken, subject, { DPoP: thief }));
  });

  it('the kit accepts the token with its proof and refuses it replayed without the key', async () => {
    const response = await client.fetchProtectedResource(config, accessToken, new URL(`${apiBase}/me`), 'GET', undefined, undefined, { DPoP: dpop });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { subject, via: 'dpop' });

    const asBearer = await fetch(`${apiBase}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(asBearer.status, 401);
    assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP realm="gatehouse", algs="ES256 EdDSA RS256 PS256", error="invalid_token"/);
    const noProof = await fetch(`${apiBase}/me`, { headers: { authorization: `DPoP ${accessToken}` } });
    assert.equal(noProof.status, 401);
    assert.match(noProof.headers.get('www-authenticate') ?? '', /error="invalid_dpop_proof"/);
    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('EdDSA'));
    // openid-client surfaces the kit's DPoP challenge as an error.
    await assert.rejects(client.fetchProtectedResource(config, accessToken, new URL(`${apiBase}/me`), 'GET', undefined, undefined, { DPoP: thief }), (error: unknown) => (error as { status?: number }).status === 401);
  });

  it('refresh rotates with the key only: another key or none is invalid_grant, and the holder goes on', async () => {
    const rotated = await client.refreshTokenGrant(config, refreshToken, undefined, { DPoP: dpop });
    assert.equal(rotated.token_type, 'dpop');
    assert.deepEqual(decodeJwt(rotated.access_token).cnf, { jkt });
    const current = rotated.refresh_token!;
    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await assert.rejects(client.refreshTokenGrant(config, current, undefined, { DPoP: thief }), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
    await assert.rejects(client.refreshTokenGrant(config, current), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
    const again = await client.refreshTokenGrant(config, current, undefined, { DPoP: dpop });
    assert.deepEqual(decodeJwt(again.access_token).cnf, { jkt });
    const info = await client.fetchUserInfo(config, again.access_token, subject, { DPoP: dpop });
    assert.equal(info.sub, subject);
  });
});
