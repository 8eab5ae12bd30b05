/**
 * The kit's DPoP checks (RFC 9449 §7) against a real listening Gatehouse: a DPoP-bound token is
 * accepted only under the DPoP scheme with a proof of its key for this request; the hostile-proof
 * corpus (dpop-corpus.ts) is refused; proofs are single-use within the kit's cache; every adapter
 * answers with a `WWW-Authenticate: DPoP` challenge. Frozen kit clock for the iat window.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { calculateJwkThumbprint } from 'jose';
import { basic, clientToken, SECRETS } from '../support/oauth.ts';
import { API, assertOk, assertRefused, closeKits, kitFor, startGatehouse, type Gatehouse } from './support.ts';
import { dpopControls, hostileProofs, proofForger, proofKeys, type ProofMaterial } from './dpop-corpus.ts';
import { jwkThumbprint } from '../../packages/middleware/src/dpop.ts';
import type { Authenticator } from '../../packages/middleware/src/index.ts';
import { createExpressAuth } from '../../packages/middleware/src/express.ts';
import { createFastifyAuth } from '../../packages/middleware/src/fastify.ts';
import { createHonoAuth, type AuthEnv } from '../../packages/middleware/src/hono.ts';

const RESOURCE = `${API}/documents`;

describe('DPoP-bound tokens at the kit (RFC 9449 §7)', () => {
  let g: Gatehouse;
  let kit: Authenticator;
  let key: ReturnType<typeof proofKeys>;
  let bound = '';
  let plain = '';
  let frozen = 0;
  const material = (overrides: Partial<ProofMaterial> = {}): ProofMaterial => ({ alg: 'ES256', ...key, method: 'GET', url: RESOURCE, accessToken: bound, nowSeconds: Math.floor(frozen / 1000), ...overrides });

  before(async () => {
    g = await startGatehouse();
    key = proofKeys('ES256');
    frozen = Date.now();
    // A proof for the token endpoint, made at the server's real time.
    const tokenProof = proofForger({ alg: 'ES256', ...key, method: 'POST', url: `${g.base}/oauth/token`, nowSeconds: Math.floor(Date.now() / 1000) });
    const response = await fetch(`${g.base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('svc', SECRETS.svc!), dpop: tokenProof.forge(tokenProof.header(), tokenProof.claims()) },
      body: 'grant_type=client_credentials&scope=read',
    });
    const body = (await response.json()) as { access_token: string; token_type: string };
    assert.equal(body.token_type, 'DPoP');
    bound = body.access_token;
    plain = await clientToken(g.t, 'svc', { scope: 'read' });
    kit = kitFor(g.base, { now: () => frozen });
    await kit.ready();
  });
  after(async () => {
    await closeKits();
    await g.close();
  });

  // `target` null: a caller of the core that passes no request.
  const present = (proof: string | undefined, token = bound, scheme = 'DPoP', target: { method: string; url: string } | null = { method: 'GET', url: RESOURCE }) =>
    kit.authenticate({ authorization: `${scheme} ${token}`, ...(proof === undefined ? {} : { dpop: proof }) }, target ?? undefined);

  it('the thumbprint is RFC 7638 (jose is the reference) for every key type', async () => {
    for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
      const { publicJwk } = proofKeys(alg);
      assert.equal(jwkThumbprint(publicJwk), await calculateJwkThumbprint(publicJwk), alg);
    }
  });

  it('accepts the bound token with a proof of its key: via dpop', async () => {
    for (const [name, proof] of dpopControls(material())) {
      const principal = assertOk(await present(proof), name);
      assert.equal(principal.via, 'dpop');
      assert.equal(principal.subject, 'client:svc');
    }
    // The adapters' URL may carry a query: htu ignores it (§4.3).
    const f = proofForger(material());
    assertOk(await present(f.forge(f.header(), f.claims()), bound, 'DPoP', { method: 'GET', url: `${RESOURCE}?page=2` }));
  });

  it('refuses the bound token replayed without the key', async () => {
    assert.equal(assertRefused(await present(undefined, bound, 'Bearer'), 401, 'invalid_token').code, 'dpop_required');
    assert.equal(assertRefused(await present(undefined), 401, 'invalid_dpop_proof').code, 'dpop_proof_missing');
    const thief = proofForger(material(proofKeys('ES256')));
    assert.equal(assertRefused(await present(thief.forge(thief.header(), thief.claims())), 401, 'invalid_dpop_proof').code, 'dpop_key_mismatch');
    const f = proofForger(material());
    assert.equal(assertRefused(await present(f.forge(f.header(), f.claims()), bound, 'DPoP', null), 401, 'invalid_dpop_proof').code, 'dpop_no_request');
    const refusal = await present(undefined, bound, 'Bearer');
    assert.ok(!refusal.ok);
    assert.equal(refusal.headers['www-authenticate'], 'DPoP realm="gatehouse", algs="ES256 EdDSA RS256 PS256", error="invalid_token", error_description="The access token must be presented with the DPoP scheme and a proof."');
    // An unbound token under the DPoP scheme is refused; as Bearer it works as before.
    const forPlain = proofForger(material({ accessToken: plain }));
    assert.equal(assertRefused(await present(forPlain.forge(forPlain.header(), forPlain.claims()), plain), 401, 'invalid_token').code, 'dpop_unbound');
    assert.equal(assertOk(await present(undefined, plain, 'Bearer')).via, 'bearer');
  });

  it('a proof is used once (jti replay within the kit’s cache)', async () => {
    const f = proofForger(material());
    const proof = f.forge(f.header(), f.claims());
    assertOk(await present(proof));
    assert.equal(assertRefused(await present(proof), 401, 'invalid_dpop_proof').code, 'dpop_replayed');
    assert.equal(assertRefused(await present(f.forge(f.header(), f.claims({ jti: JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).jti }))), 401, 'invalid_dpop_proof').code, 'dpop_replayed');
  });

  it('every hostile proof is refused', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const [group, cases] of Object.entries(hostileProofs(material()))) {
      for (const [name, proof] of cases) {
        count++;
        const result = await present(proof);
        if (result.ok || result.status !== 401 || result.error !== 'invalid_dpop_proof') failures.push(`${group} / ${name}: ${result.ok ? 'ACCEPTED' : `${result.status} ${result.error} ${result.code}`}`);
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${count}`);
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

    for (const name of ['express', 'fastify', 'hono']) {
      it(`${name}: a proof for the request's method and URL passes; the token alone gets a DPoP challenge`, async () => {
        const url = `${bases[name]}/documents`;
        const f = proofForger(material({ url }));
        const ok = await fetch(`${url}?q=1`, { headers: { authorization: `DPoP ${bound}`, dpop: f.forge(f.header(), f.claims()) } });
        assert.equal(ok.status, 200, await ok.clone().text());
        assert.deepEqual(await ok.json(), { via: 'dpop' });
        const stolen = await fetch(url, { headers: { authorization: `Bearer ${bound}` } });
        assert.equal(stolen.status, 401);
        assert.match(stolen.headers.get('www-authenticate') ?? '', /^DPoP realm="gatehouse", algs="ES256 EdDSA RS256 PS256", error="invalid_token"/);
        const wrongUrl = proofForger(material({ url: RESOURCE }));
        const elsewhere = await fetch(url, { headers: { authorization: `DPoP ${bound}`, dpop: wrongUrl.forge(wrongUrl.header(), wrongUrl.claims()) } });
        assert.equal(elsewhere.status, 401);
        assert.match(elsewhere.headers.get('www-authenticate') ?? '', /error="invalid_dpop_proof"/);
      });
    }
  });
});
