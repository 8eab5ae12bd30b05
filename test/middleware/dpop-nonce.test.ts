/**
 * The kit's DPoP server nonces (RFC 9449 §9), against a real listening Gatehouse: with
 * `dpop.requireNonce`, a proof without a current nonce gets 401 `use_dpop_nonce` with a fresh
 * `DPoP-Nonce` header and `WWW-Authenticate: DPoP … error="use_dpop_nonce"`; the retry with that
 * nonce passes. Nonces are stateless (instances sharing `nonceSecret` accept each other's), good
 * for their 5-minute slot and the next, and never spend the proof's jti. In every adapter.
 * Frozen kit clock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import * as client from 'openid-client';
import { basic, SECRETS } from '../support/oauth.ts';
import { API, assertOk, assertRefused, closeKits, kitFor, startGatehouse, type Gatehouse } from './support.ts';
import { proofForger, proofKeys, type ProofMaterial } from './dpop-corpus.ts';
import { createAuthenticator, KitConfigError, type Authenticator } from '../../packages/middleware/src/index.ts';
import { createExpressAuth } from '../../packages/middleware/src/express.ts';
import { createFastifyAuth } from '../../packages/middleware/src/fastify.ts';
import { createHonoAuth, type AuthEnv } from '../../packages/middleware/src/hono.ts';

const RESOURCE = `${API}/documents`;
const SECRET = 'kit-nonce-secret-0123456789abcdef0123456789';

describe('DPoP server nonces at the kit (RFC 9449 §9)', () => {
  let g: Gatehouse;
  let key: ReturnType<typeof proofKeys>;
  let bound = '';
  let frozen = 0;
  let kit: Authenticator;
  const material = (overrides: Partial<ProofMaterial> = {}): ProofMaterial => ({ alg: 'ES256', ...key, method: 'GET', url: RESOURCE, accessToken: bound, nowSeconds: Math.floor(frozen / 1000), ...overrides });
  const proofWith = (nonce?: string, overrides: Partial<ProofMaterial> = {}): string => {
    const f = proofForger(material(overrides));
    return f.forge(f.header(), f.claims(nonce === undefined ? {} : { nonce }));
  };
  const present = (on: Authenticator, proof: string) => on.authenticate({ authorization: `DPoP ${bound}`, dpop: proof }, { method: 'GET', url: RESOURCE });

  before(async () => {
    // Tokens outlive the clock moves below (10 minutes and more).
    g = await startGatehouse({ env: { GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: '3600' } });
    key = proofKeys('ES256');
    const tokenProof = proofForger({ alg: 'ES256', ...key, method: 'POST', url: `${g.base}/oauth/token`, nowSeconds: Math.floor(Date.now() / 1000) });
    const response = await fetch(`${g.base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('svc', SECRETS.svc!), dpop: tokenProof.forge(tokenProof.header(), tokenProof.claims()) },
      body: 'grant_type=client_credentials&scope=read',
    });
    const body = (await response.json()) as { access_token: string; token_type: string };
    assert.equal(body.token_type, 'DPoP');
    bound = body.access_token;
    frozen = Date.now();
    kit = kitFor(g.base, { now: () => frozen, dpop: { requireNonce: true, nonceSecret: SECRET } });
    await kit.ready();
  });
  after(async () => {
    await closeKits();
    await g.close();
  });

  it('a proof without a nonce → 401 use_dpop_nonce with DPoP-Nonce; the retry with it passes', async () => {
    const refused = assertRefused(await present(kit, proofWith()), 401, 'use_dpop_nonce');
    assert.equal(refused.code, 'dpop_nonce_required');
    const nonce = refused.headers['dpop-nonce'];
    assert.ok(nonce && /^[\x21-\x7e]+$/.test(nonce), 'RFC 9449 §8.1: a NQCHAR nonce');
    assert.match(refused.wwwAuthenticate ?? '', /^DPoP realm="gatehouse", algs="ES256 EdDSA RS256 PS256", error="use_dpop_nonce", error_description="[^"]+"$/);
    assert.deepEqual(refused.body, { error: 'use_dpop_nonce', error_description: refused.description });
    assert.equal(assertOk(await present(kit, proofWith(nonce))).via, 'dpop');
  });

  it('refuses a nonce it did not issue, and one from two slots ago; accepts the previous slot’s', async () => {
    const nonce = assertRefused(await present(kit, proofWith()), 401, 'use_dpop_nonce').headers['dpop-nonce']!;
    for (const forged of ['x', `${nonce}x`, nonce.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), '0.AAAAAAAAAAAAAAAAAAAAAAAA']) {
      assert.equal(assertRefused(await present(kit, proofWith(forged)), 401, 'use_dpop_nonce').code, 'dpop_nonce_required', forged);
    }
    const other = kitFor(g.base, { now: () => frozen, dpop: { requireNonce: true, nonceSecret: `${SECRET}-other` } });
    await other.ready();
    assertRefused(await present(other, proofWith(nonce)), 401, 'use_dpop_nonce');

    const start = frozen;
    try {
      frozen = start + 5 * 60_000;
      assertOk(await present(kit, proofWith(nonce)), 'the previous slot’s nonce');
      frozen = start + 10 * 60_000 + 1000;
      assertRefused(await present(kit, proofWith(nonce)), 401, 'use_dpop_nonce');
    } finally {
      frozen = start;
    }
  });

  it('instances sharing nonceSecret accept each other’s nonces; a use_dpop_nonce answer does not spend the jti', async () => {
    const twin = kitFor(g.base, { now: () => frozen, dpop: { requireNonce: true, nonceSecret: SECRET } });
    await twin.ready();
    const nonce = assertRefused(await present(kit, proofWith()), 401, 'use_dpop_nonce').headers['dpop-nonce']!;
    assertOk(await present(twin, proofWith(nonce)), 'a nonce from the other instance');
    // The same jti, first without a nonce (refused before the replay cache), then with one.
    const f = proofForger(material());
    const jti = 'same-jti-for-both-attempts-0123456789';
    assertRefused(await present(kit, f.forge(f.header(), f.claims({ jti }))), 401, 'use_dpop_nonce');
    assertOk(await present(kit, f.forge(f.header(), f.claims({ jti, nonce }))));
    assert.equal(assertRefused(await present(kit, f.forge(f.header(), f.claims({ jti, nonce }))), 401, 'invalid_dpop_proof').code, 'dpop_replayed');
  });

  it('without requireNonce a nonce is neither asked for nor needed; bad options name the key', async () => {
    const plain = kitFor(g.base, { now: () => frozen });
    await plain.ready();
    assertOk(await present(plain, proofWith()));
    const base = { issuer: g.base, audience: API, revocations: false as const };
    for (const [dpop, name] of [
      [{ requireNonce: true, nonceSecret: 'short' }, 'dpop.nonceSecret'],
      [{ nonceSecret: SECRET }, 'dpop.nonceSecret'],
      [{ requireNonce: 'yes' }, 'dpop.requireNonce'],
    ] as const) {
      assert.throws(() => createAuthenticator({ ...base, dpop: dpop as never }), (error: unknown) => error instanceof KitConfigError && error.key === name, name);
    }
  });

  describe('in every adapter', () => {
    let express4: Server;
    let fastify: FastifyInstance;
    let hono: ReturnType<typeof serve>;
    const bases: Record<string, string> = {};
    before(async () => {
      const e = express();
      e.get('/documents', createExpressAuth(kit).requireAuth(), (req, res) => void res.json({ via: req.auth!.via }));
      express4 = await new Promise<Server>((resolve) => { const server = e.listen(0, '127.0.0.1', () => resolve(server)); });
      bases.express = `http://127.0.0.1:${(express4.address() as AddressInfo).port}`;
      fastify = Fastify();
      const auth = createFastifyAuth(kit);
      await fastify.register(auth.plugin);
      fastify.get('/documents', { onRequest: auth.requireAuth() }, async (request) => ({ via: request.auth!.via }));
      await fastify.listen({ port: 0, host: '127.0.0.1' });
      bases.fastify = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
      const h = new Hono<AuthEnv>();
      h.get('/documents', createHonoAuth(kit).requireAuth(), (c) => c.json({ via: c.var.auth!.via }));
      await new Promise<void>((resolve) => { hono = serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }, (info) => { bases.hono = `http://127.0.0.1:${info.port}`; resolve(); }); });
    });
    after(async () => {
      await new Promise((resolve) => express4.close(resolve));
      await fastify.close();
      await new Promise((resolve) => hono.close(resolve));
    });

    it('openid-client (DPoP handle) gets a bound token from Gatehouse and reads the API: it retries on use_dpop_nonce by itself', async () => {
      // A kit on the real clock (openid-client's proofs carry the real time).
      const live = kitFor(g.base, { dpop: { requireNonce: true, nonceSecret: SECRET } });
      await live.ready();
      const e = express();
      const seen: number[] = [];
      e.use((req, res, next) => { res.on('finish', () => seen.push(res.statusCode)); next(); });
      e.get('/documents', createExpressAuth(live).requireAuth(), (req, res) => void res.json({ via: req.auth!.via, subject: req.auth!.subject }));
      const server = await new Promise<Server>((resolve) => { const started = e.listen(0, '127.0.0.1', () => resolve(started)); });
      try {
        const config = await client.discovery(new URL(g.base), 'svc', undefined, client.ClientSecretBasic(SECRETS.svc!), { execute: [client.allowInsecureRequests] });
        const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
        const granted = await client.clientCredentialsGrant(config, { scope: 'read' }, { DPoP });
        assert.equal(granted.token_type, 'dpop');
        const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/documents`);
        const response = await client.fetchProtectedResource(config, granted.access_token, url, 'GET', undefined, undefined, { DPoP });
        assert.equal(response.status, 200, await response.clone().text());
        assert.deepEqual(await response.json(), { via: 'dpop', subject: 'client:svc' });
        assert.deepEqual(seen, [401, 200], 'refused without the nonce, then the retry with it');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    for (const name of ['express', 'fastify', 'hono']) {
      it(`${name}: 401 use_dpop_nonce with DPoP-Nonce, then 200 with the nonce in the proof`, async () => {
        const url = `${bases[name]}/documents`;
        const first = await fetch(url, { headers: { authorization: `DPoP ${bound}`, dpop: proofWith(undefined, { url }) } });
        assert.equal(first.status, 401, await first.clone().text());
        assert.match(first.headers.get('www-authenticate') ?? '', /^DPoP realm="gatehouse", algs="[^"]+", error="use_dpop_nonce"/);
        assert.equal(((await first.json()) as { error: string }).error, 'use_dpop_nonce');
        const nonce = first.headers.get('dpop-nonce');
        assert.ok(nonce, 'DPoP-Nonce header');
        const retry = await fetch(url, { headers: { authorization: `DPoP ${bound}`, dpop: proofWith(nonce, { url }) } });
        assert.equal(retry.status, 200, await retry.clone().text());
        assert.deepEqual(await retry.json(), { via: 'dpop' });
      });
    }
  });
});
