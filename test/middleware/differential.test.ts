/**
 * The kit verifies JWTs with node:crypto on its hot path instead of jose (bench/kit.ts: jose's
 * WebCrypto verify costs 2–3× the raw signature check). Architecture rule: such a replacement is
 * differentially tested against jose on the same inputs, valid and hostile. Here, for each
 * signing algorithm, every token of the hostile corpus, the controls, and a seeded mutation fuzz
 * go through both the kit's `verifyAccessToken` and jose's `jwtVerify` (same JWKS, issuer,
 * audience, typ, leeway, required claims):
 *
 * - whatever the kit accepts, jose accepts too, with the same claims — the kit is never more
 *   lenient than the reference;
 * - every valid token is accepted by both;
 * - where jose accepts and the kit refuses, the kit's reason is one of its documented stricter
 *   rules (exact typ, forbidden header members, strict claim types, iat in the future, lifetime
 *   bound, canonical base64url) — listed by the test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { clientToken, nativeSignIn } from '../support/oauth.ts';
import { controls, hostileCorpus, type Material } from './corpus.ts';
import { API, differentialSetup, prng, type Gatehouse } from './support.ts';
import { parseJWKS, type KeySet } from '../../packages/middleware/src/jwks.ts';
import { verifyAccessToken, type JWTRules } from '../../packages/middleware/src/verify-jwt.ts';
import type { FailureCode } from '../../packages/middleware/src/failures.ts';

/**
 * Refusals where the kit is knowingly stricter than jose's generic JWT profile: `typ` exactly
 * `at+jwt` (jose also takes `application/at+jwt`), no key-carrying or crit/b64/zip members
 * (jose ignores `jwk`/`x5c` when given a key set), RFC 9068 claim types and the
 * `client:<client_id>` subject rule, `iat` not in the future, the lifetime bound, canonical
 * base64url and UTF-8, and a string `kid` that names a published key (jose falls back to trying
 * every key of the right type when `kid` is absent or not a string).
 */
const STRICTER: ReadonlySet<FailureCode> = new Set(['wrong_typ', 'forbidden_header', 'bad_claims', 'not_yet_valid', 'lifetime_too_long', 'malformed_token', 'unknown_key']);


for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
  describe(`kit (node:crypto) vs jose, ${alg}`, () => {
    let g: Gatehouse;
    let material: Material;
    let keySet: KeySet;
    let joseKeys: ReturnType<typeof createLocalJWKSet>;
    let rules: JWTRules;
    let nowSeconds: number;

    before(async () => {
      const setup = await differentialSetup(alg);
      ({ g, material, nowSeconds } = setup);
      const { jwks } = setup;
      const algorithms = new Set(['ES256', 'EdDSA', 'RS256']);
      const parsed = parseJWKS(jwks, algorithms)!;
      keySet = { current: (kid) => parsed.get(kid), resolve: async (kid) => parsed.get(kid) ?? 'unknown', loaded: async () => {}, close: () => {} };
      joseKeys = createLocalJWKSet(jwks);
      rules = { issuer: g.base, audiences: new Set([API]), algorithms, leewaySeconds: 30, maxLifetimeSeconds: 7 * 86_400, maxTokenLength: 8192 };
    });
    after(() => g.close());

    async function both(token: string): Promise<{ kit: Awaited<ReturnType<typeof verifyAccessToken>>; jose: Record<string, unknown> | Error }> {
      const kit = await verifyAccessToken(token, rules, keySet, nowSeconds);
      let jose: Record<string, unknown> | Error;
      try {
        const result = await jwtVerify(token, joseKeys, {
          algorithms: ['ES256', 'EdDSA', 'RS256'],
          issuer: g.base,
          audience: API,
          typ: 'at+jwt',
          clockTolerance: 30,
          currentDate: new Date(nowSeconds * 1000),
          requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id', 'aud'],
        });
        jose = result.payload as Record<string, unknown>;
      } catch (error) {
        jose = error as Error;
      }
      return { kit, jose };
    }

    /** Checks one token; returns a line for each disagreement that breaks the rule. */
    async function compare(name: string, token: string, stricter: Map<string, number>): Promise<string | undefined> {
      const { kit, jose } = await both(token);
      if (kit.ok) {
        if (jose instanceof Error) return `${name}: the kit accepts what jose refuses (${jose.message})`;
        const claims = kit.claims;
        if (claims.sub !== jose.sub || claims.jti !== jose.jti || claims.clientId !== jose.client_id || claims.exp !== jose.exp || claims.iat !== jose.iat) return `${name}: different claims`;
        if (claims.scopes.join(' ') !== String(jose.scope ?? '').split(' ').filter(Boolean).join(' ')) return `${name}: different scope`;
        return undefined;
      }
      if (!(jose instanceof Error)) {
        if (!STRICTER.has(kit.code)) return `${name}: jose accepts, the kit refuses with ${kit.code}, not a documented stricter rule`;
        stricter.set(kit.code, (stricter.get(kit.code) ?? 0) + 1);
      }
      return undefined;
    }

    it('valid tokens (issued and correctly signed): both accept, with the same claims', async () => {
      const native = await nativeSignIn(g.t, `diff-${alg.toLowerCase()}@example.com`);
      const valid: [string, string][] = [...controls(material), ['a first-party user token', native.access_token], ['a client token with two scopes', await clientToken(g.t, 'svc', { scope: 'read write' })]];
      for (const [name, token] of valid) {
        const { kit, jose } = await both(token);
        assert.ok(kit.ok, `${name}: kit refuses (${kit.ok ? '' : kit.code})`);
        assert.ok(!(jose instanceof Error), `${name}: jose refuses (${jose instanceof Error ? jose.message : ''})`);
      }
    });

    it('the hostile corpus: the kit is never more lenient than jose; its extra refusals are its documented stricter rules', async (t) => {
      const problems: string[] = [];
      const stricter = new Map<string, number>();
      for (const [group, cases] of Object.entries(hostileCorpus(material))) {
        for (const [name, token] of cases) {
          const problem = await compare(`${group} — ${name}`, token, stricter);
          if (problem) problems.push(problem);
        }
      }
      assert.deepEqual(problems, []);
      t.diagnostic(`kit stricter than jose: ${JSON.stringify(Object.fromEntries(stricter))}`);
    });

    it('a seeded mutation fuzz of valid tokens (2000 cases): same verdict rule', async (t) => {
      const random = prng(alg.length * 7919);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
      const seeds = [material.valid, material.other, ...controls(material).map(([, token]) => token)];
      const problems: string[] = [];
      const stricter = new Map<string, number>();
      let accepted = 0;
      for (let i = 0; i < 2000; i++) {
        const seed = seeds[Math.floor(random() * seeds.length)]!;
        const chars = [...seed];
        const edits = 1 + Math.floor(random() * 3);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(random() * chars.length);
          const what = random();
          if (what < 0.6) chars[at] = alphabet[Math.floor(random() * alphabet.length)]!;
          else if (what < 0.8) chars.splice(at, 1);
          else chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]!);
        }
        const token = chars.join('');
        const problem = await compare(`fuzz #${i} ${token.slice(0, 24)}…`, token, stricter);
        if (problem) problems.push(problem);
        if ((await verifyAccessToken(token, rules, keySet, nowSeconds)).ok) {
          accepted++;
          // Only a "mutation" that changed nothing (a character replaced by itself) may pass.
          if (token !== seed) problems.push(`fuzz #${i}: a changed token was accepted`);
        }
      }
      assert.deepEqual(problems, []);
      t.diagnostic(`accepted by the kit: ${accepted} (each identical to its seed); stricter: ${JSON.stringify(Object.fromEntries(stricter))}`);
    });

    it('claim variants signed with the real key: same verdicts under the shared rules', async () => {
      const { forger } = await import('./corpus.ts');
      const f = forger(material);
      const problems: string[] = [];
      const stricter = new Map<string, number>();
      const variants: Record<string, unknown>[] = [
        { scope: '' }, { scope: '  read  write ' }, { aud: [API] }, { aud: [API, API] }, { jti: randomUUID() }, { nbf: nowSeconds - 10 }, { exp: nowSeconds + 1 },
        { exp: nowSeconds - 30 }, { exp: nowSeconds - 29 }, { exp: nowSeconds - 31 }, { nbf: nowSeconds + 30 }, { nbf: nowSeconds + 31 }, { iat: nowSeconds + 31 },
        { sub: 'client:svc', client_id: 'svc' }, { roles: [] }, { sid: 'x', gid: 'y' }, { extra: { nested: [1, 2, 3] } },
      ];
      for (const overrides of variants) {
        const problem = await compare(JSON.stringify(overrides), f.forge(f.header(), f.claims(overrides)), stricter);
        if (problem) problems.push(problem);
      }
      assert.deepEqual(problems, []);
    });
  });
}
