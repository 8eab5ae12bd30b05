/**
 * The kit's JWT checks as a surface of their own (security-requirements §3, surface S1: "any
 * first-party resource server or SDK we ship"): the hostile corpus (test/middleware/corpus.ts,
 * SEC-JWT-01…17) against `authenticate()` of a kit following a real listening Gatehouse, for each
 * signing algorithm. Every hostile token must be refused with 401 invalid_token (or 400 for a
 * malformed Authorization header) — never a principal, never a 5xx-like answer, never an
 * outbound request other than to Gatehouse's own JWKS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { clientToken, revoke, serverKeys } from '../support/oauth.ts';
import { controls, forger, hostileCorpus, type Material } from './corpus.ts';
import { API, assertOk, bearer, closeKits, eventually, kitFor, startGatehouse, streamProxy, type Gatehouse } from './support.ts';
import type { Authenticator } from '../../packages/middleware/src/index.ts';

let canary: Server;
let canaryUrl = '';
let canaryHits = 0;
before(async () => {
  canary = createServer((_request, response) => {
    canaryHits++;
    response.end('{}');
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const address = canary.address();
  canaryUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
after(() => new Promise<void>((resolve) => canary.close(() => resolve())));

/** Names of the cases that were not refused the way a hostile token must be. */
async function notRefused(kit: Authenticator, cases: [string, string][]): Promise<string[]> {
  const failures: string[] = [];
  for (const [name, token] of cases) {
    const result = await kit.authenticate(bearer(token));
    if (result.ok) failures.push(`${name}: ACCEPTED as ${result.principal.subject}`);
    else if (!((result.status === 401 && result.error === 'invalid_token') || (result.status === 400 && result.error === 'invalid_request'))) failures.push(`${name}: ${result.status} ${result.error} (${result.code})`);
  }
  return failures;
}

for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
  describe(`hostile JWTs at the kit, ${alg} signing keys (SEC-JWT, surface S1)`, () => {
    let g: Gatehouse;
    let kit: Authenticator;
    let material: Material;

    before(async () => {
      g = await startGatehouse({ env: { GATEHOUSE_SIGNING_ALGORITHM: alg } });
      kit = kitFor(g.base, { algorithms: ['ES256', 'EdDSA', 'RS256'] });
      await kit.ready();
      const keys = await serverKeys(g.t);
      const key = keys.signingKey();
      const jwksText = await (await fetch(`${g.base}/.well-known/jwks.json`)).text();
      const publicJwk = (JSON.parse(jwksText) as { keys: JWK[] }).keys.find((candidate) => candidate.kid === key.kid)!;
      material = {
        alg,
        kid: key.kid,
        privateKey: KeyObject.from(key.privateKey),
        publicJwk,
        jwksText,
        issuer: g.base,
        audience: API,
        valid: await clientToken(g.t, 'svc', { scope: 'read' }),
        other: await clientToken(g.t, 'svc', { scope: 'read' }),
        canaryUrl,
        nowSeconds: Math.floor(Date.now() / 1000),
      };
    });
    after(async () => {
      await closeKits();
      await g.close();
    });

    it('controls: issued and correctly signed tokens are accepted (the corpus tests the checks, not the forging)', async () => {
      for (const [name, token] of controls(material)) assertOk(await kit.authenticate(bearer(token)), name);
    });

    it('every hostile token of SEC-JWT-01…17 is refused with 401 invalid_token (400 for a malformed header)', async () => {
      const hitsBefore = canaryHits;
      const failures: string[] = [];
      for (const [group, cases] of Object.entries(hostileCorpus(material))) {
        for (const failure of await notRefused(kit, cases)) failures.push(`${group} — ${failure}`);
      }
      assert.deepEqual(failures, []);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(canaryHits, hitsBefore, 'SEC-JWT-04: no request to a jku/x5u/x5c location');
      assertOk(await kit.authenticate(bearer(material.valid)), 'the kit still answers');
    });

    it('SEC-JWT-14: __proto__, constructor and friends in claims grant nothing and pollute nothing', async () => {
      const f = forger(material);
      const base = f.rawClaims({}).slice(0, -1);
      for (const [name, payload] of [
        ['__proto__ with roles and scope', `${base},"__proto__":{"roles":["admin"],"scope":"admin","isAdmin":true}}`],
        ['constructor.prototype', `${base},"constructor":{"prototype":{"roles":["admin"]}}}`],
        ['toString, valueOf, hasOwnProperty', `${base},"toString":"admin","valueOf":1,"hasOwnProperty":"admin"}`],
        ['numeric-string keys', `${base},"0":"admin","length":2}`],
      ] as const) {
        const result = await kit.authenticate(bearer(f.forge(f.header(), payload)));
        if (!result.ok) {
          assert.equal(result.status, 401, name);
          continue;
        }
        assert.deepEqual(result.principal.scopes, ['read'], `${name}: the scope is the token's own`);
        assert.deepEqual(result.principal.roles, [], `${name}: no injected role`);
        assert.ok(Object.isFrozen(result.principal) && Object.isFrozen(result.principal.roles), `${name}: the principal is frozen`);
      }
      for (const sub of ['__proto__', 'constructor', 'toString']) {
        const result = await kit.authenticate(bearer(f.forge(f.header(), f.claims({ sub, client_id: 'svc' }))));
        assert.ok(result.ok ? result.principal.subject === sub : result.status === 401, `sub ${sub}`);
      }
      const probe: Record<string, unknown> = {};
      for (const name of ['roles', 'isAdmin', 'scope', 'admin']) assert.equal(probe[name], undefined, `Object.prototype.${name} is untouched`);
    });

    it('SEC-JWT-13: a member named twice in the header or the claims is refused, whatever the order', async () => {
      const f = forger(material);
      const claims = f.rawClaims({}).slice(1, -1);
      for (const [name, token] of [
        ['scope twice, admin first', f.forge(f.header(), `{"scope":"admin",${claims}}`)],
        ['scope twice, read last', f.forge(f.header(), `{${claims},"scope":"admin","scope":"read"}`)],
        ['alg none last', f.forge(`{"alg":"${alg}","alg":"none","kid":"${material.kid}","typ":"at+jwt"}`, f.claims())],
        ['typ JWT last', f.forge(`{"alg":"${alg}","typ":"at+jwt","typ":"JWT","kid":"${material.kid}"}`, f.claims())],
      ] as const) {
        const result = await kit.authenticate(bearer(token));
        assert.ok(!result.ok && result.status === 401, `${name}: refused`);
      }
      assertOk(await kit.authenticate(bearer(f.forge(f.header(), `{${claims}}`))), 'the same token without the duplicate is accepted');
    });

    it('SEC-JWT-15: a revoked token stays refused in every encoding twin (revocation keyed on jti, not bytes)', async () => {
      const token = await clientToken(g.t, 'svc', { scope: 'read' });
      assertOk(await kit.authenticate(bearer(token)), 'before revocation');
      assert.equal((await revoke(g.t, token, 'svc')).statusCode, 200);
      assert.ok(await eventually(async () => !(await kit.authenticate(bearer(token))).ok, 5000), 'the revocation arrived');
      const [head, payload, signature] = token.split('.') as [string, string, string];
      const twins: [string, string][] = [
        ['the token itself', token],
        ['padded signature', `${head}.${payload}.${signature}=`],
        ['standard-alphabet signature', `${head}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`],
      ];
      if (alg === 'ES256') {
        // ECDSA malleability: (r, n − s) is another valid signature of the same token.
        const bytes = Buffer.from(signature, 'base64url');
        const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
        const highS = Buffer.from((n - BigInt(`0x${bytes.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0'), 'hex');
        twins.push(['malleated signature (r, n − s)', `${head}.${payload}.${Buffer.concat([bytes.subarray(0, 32), highS]).toString('base64url')}`]);
      }
      assert.deepEqual(await notRefused(kit, twins), []);
    });
  });
}

describe('bearer credentials and key lookup (RFC 6750 §2, SEC-JWT-05, -09)', () => {
  let g: Gatehouse;
  before(async () => {
    g = await startGatehouse();
  });
  after(async () => {
    await closeKits();
    await g.close();
  });

  it('the token comes only from Authorization: Bearer (any case of the scheme); anything else is not a credential', async () => {
    const kit = kitFor(g.base);
    await kit.ready();
    const token = await clientToken(g.t, 'svc', { scope: 'read' });
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) assertOk(await kit.authenticate({ authorization: `${scheme} ${token}` }), scheme);
    assertOk(await kit.authenticate({ authorization: `Bearer   ${token}` }), 'several spaces (RFC 9110 1*SP)');
    assertOk(await kit.authenticate(new Headers({ authorization: `Bearer ${token}` })), 'a WHATWG Headers object');
    const refusals: [string, Record<string, string | string[]>, number, string][] = [
      ['no header', {}, 401, 'unauthenticated'],
      ['Basic', { authorization: `Basic ${Buffer.from('svc:x').toString('base64')}` }, 401, 'unauthenticated'],
      ['the token without a scheme', { authorization: token }, 401, 'unauthenticated'],
      ['Bearer without a token', { authorization: 'Bearer' }, 400, 'invalid_request'],
      ['Bearer and a space', { authorization: 'Bearer ' }, 400, 'invalid_request'],
      ['two tokens', { authorization: `Bearer ${token} ${token}` }, 400, 'invalid_request'],
      ['a tab instead of a space', { authorization: `Bearer\t${token}` }, 400, 'invalid_request'],
      ['a line break inside', { authorization: `Bearer ${token.slice(0, 30)}\n${token.slice(30)}` }, 400, 'invalid_request'],
      ['two Authorization headers', { authorization: [`Bearer ${token}`, `Bearer ${token}`] }, 400, 'invalid_request'],
      ['a token of non-token characters', { authorization: 'Bearer a"b' }, 400, 'invalid_request'],
      ['the token in a query-string-like header', { 'x-access-token': token }, 401, 'unauthenticated'],
      ['Authorization with a capital A (not how Node gives headers)', { Authorization: `Bearer ${token}` }, 401, 'unauthenticated'],
    ];
    for (const [name, headers, status, error] of refusals) {
      const result = await kit.authenticate(headers);
      assert.ok(!result.ok, name);
      assert.equal(result.status, status, `${name}: ${result.code}`);
      assert.equal(result.error, error, name);
    }
  });

  it('RFC 6750 §3: the challenges', async () => {
    const kit = kitFor(g.base, { realm: 'api' });
    await kit.ready();
    const missing = await kit.authenticate({});
    assert.ok(!missing.ok);
    assert.equal(missing.wwwAuthenticate, 'Bearer realm="api"', 'no error code without credentials (§3.1)');
    const invalid = await kit.authenticate(bearer('a.b.c'));
    assert.ok(!invalid.ok);
    assert.equal(invalid.wwwAuthenticate, 'Bearer realm="api", error="invalid_token", error_description="The access token is not valid."');
    assert.deepEqual(invalid.body, { error: 'invalid_token', error_description: 'The access token is not valid.' });
    const f = await kit.authenticate(bearer(await clientToken(g.t, 'svc', { scope: 'read' })));
    const principal = assertOk(f);
    const scope = kit.authorize(principal, { scopes: ['write', 'admin:all'], anyRole: [] });
    assert.ok(scope);
    assert.equal(scope.status, 403);
    assert.equal(scope.wwwAuthenticate, 'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="write admin:all"');
  });

  it('SEC-JWT-09 with a frozen clock: exp now−28 s accepted, now−32 s refused; iat and nbf now+8 s accepted, now+35 s refused', async () => {
    const frozen = Math.floor(Date.now() / 1000) * 1000 + 500;
    const kit = kitFor(g.base, { now: () => frozen });
    await kit.ready();
    const keys = await serverKeys(g.t);
    const key = keys.signingKey();
    const f = forger({ alg: 'ES256', kid: key.kid, privateKey: KeyObject.from(key.privateKey), publicJwk: {}, jwksText: '', issuer: g.base, audience: API, valid: '', other: '', canaryUrl: '', nowSeconds: Math.floor(frozen / 1000) });
    const now = Math.floor(frozen / 1000);
    const token = (raw: Record<string, string>) => f.forge(f.header(), f.rawClaims(raw));
    assertOk(await kit.authenticate(bearer(token({ exp: String(now - 28), iat: String(now - 600) }))), 'exp 28 s ago');
    assertOk(await kit.authenticate(bearer(token({ iat: String(now + 8) }))), 'iat 8 s ahead');
    assertOk(await kit.authenticate(bearer(token({ nbf: String(now + 8) }))), 'nbf 8 s ahead');
    const expired = await kit.authenticate(bearer(token({ exp: String(now - 32), iat: String(now - 600) })));
    assert.ok(!expired.ok && expired.code === 'expired' && expired.description === 'The access token expired.', 'exp 32 s ago');
    for (const [name, raw] of [['iat 35 s ahead', { iat: String(now + 35) }], ['nbf 35 s ahead', { nbf: String(now + 35) }]] as const) {
      const result = await kit.authenticate(bearer(token(raw)));
      assert.ok(!result.ok && result.code === 'not_yet_valid', name);
    }
    const strict = kitFor(g.base, { now: () => frozen, clockToleranceSeconds: 0 });
    await strict.ready();
    assert.ok(!(await strict.authenticate(bearer(token({ exp: String(now - 1), iat: String(now - 600) })))).ok, 'leeway 0: exp a second ago');
  });

  it('SEC-JWT-05: a flood of unknown kids costs at most one JWKS fetch per cooldown; a key rotated in (--now) is fetched on its first token', async () => {
    const proxy = await streamProxy(g.base);
    try {
      const kit = kitFor(g.base, { serverUrl: proxy.url, jwks: { cooldownSeconds: 30 } });
      await kit.ready();
      const jwksHits = () => proxy.hits.get('/.well-known/jwks.json') ?? 0;
      assert.equal(jwksHits(), 1, 'one fetch at start');
      const keys = await serverKeys(g.t);
      const key = keys.signingKey();
      const f = forger({ alg: 'ES256', kid: key.kid, privateKey: KeyObject.from(key.privateKey), publicJwk: {}, jwksText: '', issuer: g.base, audience: API, valid: '', other: '', canaryUrl: '', nowSeconds: Math.floor(Date.now() / 1000) });
      const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => kit.authenticate(bearer(f.forge(f.header({ kid: `unknown-${i}` }), f.claims())))));
      assert.ok(flood.every((result) => !result.ok && result.status === 401 && result.code === 'unknown_key'));
      assert.ok(jwksHits() <= 2, `at most one refetch for the flood (${jwksHits()} fetches in all)`);
      const more = await kit.authenticate(bearer(f.forge(f.header({ kid: 'unknown-later' }), f.claims())));
      assert.ok(!more.ok);
      assert.ok(jwksHits() <= 2, 'still within the cooldown: no fetch');

      // A kit running for longer than the cooldown meets a key that signs at once (`keys rotate --now`).
      let offsetMs = 0;
      const fresh = kitFor(g.base, { serverUrl: proxy.url, now: () => Date.now() + offsetMs });
      await fresh.ready();
      offsetMs = 31_000;
      await keys.rotate({ immediate: true });
      const rotatedToken = await clientToken(g.t, 'svc', { scope: 'read' });
      const newKid = (JSON.parse(Buffer.from(rotatedToken.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
      assert.notEqual(newKid, key.kid, 'the server signs with the new key');
      assertOk(await fresh.authenticate(bearer(rotatedToken)), 'the new kid is fetched on first sight');
      await keys.stop();
    } finally {
      await proxy.close();
    }
  });

  it('a key unpublished from the JWKS (compromise) stops verifying — even for a token the kit already remembers', async () => {
    const h = await startGatehouse({ env: { GATEHOUSE_JWKS_CACHE_SECONDS: '1' } });
    try {
      const kit = kitFor(h.base, { jwks: { minCacheSeconds: 0 } });
      await kit.ready();
      const token = await clientToken(h.t, 'svc', { scope: 'read' });
      assertOk(await kit.authenticate(bearer(token)), 'before');
      const keys = await serverKeys(h.t);
      const kid = keys.signingKey().kid;
      await keys.retire(kid, { unpublish: true });
      await keys.stop();
      assert.ok(await eventually(async () => {
        const result = await kit.authenticate(bearer(token));
        return !result.ok && result.code === 'unknown_key';
      }, 10_000), 'refused once the JWKS no longer has the key');
    } finally {
      await closeKits();
      await h.close();
    }
  });
});
