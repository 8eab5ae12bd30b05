/**
 * The server's own JWT verifier (src/keys/jwt.ts: introspection, revocation, userinfo, ID-token
 * hints) verifies with node:crypto on its hot path instead of jose's `jwtVerify` (issue 8: jose's
 * WebCrypto path was ~30 % of an introspection's CPU). Architecture rule: such a replacement is
 * differentially tested against jose on the same inputs, valid and hostile. For each signing
 * algorithm, the controls, the hostile corpus of the kit (SEC-JWT-01…17), claim variants signed
 * with the real key and a seeded mutation fuzz go through both, under the options the server
 * uses (with and without an expected audience):
 *
 * - whatever the server accepts, jose accepts too, with the same claims — never more lenient;
 * - every valid token is accepted by both;
 * - where jose accepts and the server refuses, the reason is one of its documented stricter
 *   rules (listed below).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { clientToken, nativeSignIn } from '../support/oauth.ts';
import { controls, forger, hostileCorpus, type Material } from '../middleware/corpus.ts';
import { API, differentialSetup, prng, type Gatehouse } from '../middleware/support.ts';
import { createJWTVerifier, type JWTVerifier } from '../../src/keys/jwt.ts';

/**
 * Refusals where the server is knowingly stricter than jose's generic profile: `typ` compared
 * exactly, no key-carrying or crit/b64/zip members, a string `kid` naming one of our keys,
 * whole-second NumericDates, `iat` not in the future, the lifetime bound, canonical base64url and
 * UTF-8 (the kit's parser) and its 8 KiB size bound, required claims as own members, and no member
 * named twice in the header or the claims (SEC-JWT-13: jose keeps the last).
 */
const STRICTER = [/^token too long$/, /^wrong typ$/, /^header member .* not allowed$/, /^unknown key$/, /is not a NumericDate$/, /^issued in the future$/, /^lifetime too long$/, /canonical base64url|byte-order mark|not a compact JWS/, /^malformed token$/, /^the payload is not a JSON object$/];

const REQUIRED = ['sub', 'jti', 'client_id', 'iat', 'exp', 'aud'];
const MAX_LIFETIME = 7 * 86_400;


for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
  describe(`server JWT verifier (node:crypto) vs jose, ${alg}`, () => {
    let g: Gatehouse;
    let material: Material;
    let verifier: JWTVerifier;
    let joseKeys: ReturnType<typeof createLocalJWKSet>;
    let nowSeconds: number;

    before(async () => {
      const setup = await differentialSetup(alg);
      ({ g, material, nowSeconds } = setup);
      const { keys, jwks } = setup;
      verifier = createJWTVerifier(keys, { issuer: g.base, now: () => nowSeconds * 1000 });
      joseKeys = createLocalJWKSet(jwks);
    });
    after(() => g.close());

    type Verdict = Record<string, unknown> | Error;
    async function both(token: string, audience: string | undefined): Promise<{ ours: Verdict; jose: Verdict }> {
      const ours = await verifier.verify(token, { typ: 'at+jwt', requiredClaims: REQUIRED, maxLifetimeSeconds: MAX_LIFETIME, ...(audience ? { audience } : {}) }).catch((error: unknown) => error as Error);
      const jose = await jwtVerify(token, joseKeys, {
        algorithms: ['ES256', 'EdDSA', 'RS256'],
        issuer: g.base,
        typ: 'at+jwt',
        clockTolerance: 30,
        currentDate: new Date(nowSeconds * 1000),
        requiredClaims: ['exp', 'iat', ...REQUIRED],
        ...(audience ? { audience } : {}),
      }).then((result) => result.payload as Record<string, unknown>, (error: unknown) => error as Error);
      return { ours, jose };
    }

    async function compare(name: string, token: string, stricter: Map<string, number>): Promise<string[]> {
      const problems: string[] = [];
      for (const audience of [undefined, API]) {
        const { ours, jose } = await both(token, audience);
        const where = `${name} (audience ${audience ?? 'not checked'})`;
        if (!(ours instanceof Error)) {
          if (jose instanceof Error) problems.push(`${where}: the server accepts what jose refuses (${jose.message})`);
          else if (JSON.stringify(ours) !== JSON.stringify(jose)) problems.push(`${where}: different claims`);
        } else if (!(jose instanceof Error)) {
          if (!STRICTER.some((rule) => rule.test(ours.message))) problems.push(`${where}: jose accepts, the server refuses with "${ours.message}", not a documented stricter rule`);
          stricter.set(ours.message, (stricter.get(ours.message) ?? 0) + 1);
        }
      }
      return problems;
    }

    it('valid tokens: both accept, with the same claims', async () => {
      const native = await nativeSignIn(g.t, `server-diff-${alg.toLowerCase()}@example.com`);
      for (const [name, token] of [...controls(material), ['a first-party user token', native.access_token], ['a client token with two scopes', await clientToken(g.t, 'svc', { scope: 'read write' })]] as [string, string][]) {
        const { ours, jose } = await both(token, API);
        assert.ok(!(ours instanceof Error), `${name}: the server refuses (${ours instanceof Error ? ours.message : ''})`);
        assert.ok(!(jose instanceof Error), `${name}: jose refuses (${jose instanceof Error ? jose.message : ''})`);
      }
    });

    it('the hostile corpus: never more lenient than jose; extra refusals are documented stricter rules', async (t) => {
      const problems: string[] = [];
      const stricter = new Map<string, number>();
      for (const [group, cases] of Object.entries(hostileCorpus(material))) {
        for (const [name, token] of cases) problems.push(...(await compare(`${group} — ${name}`, token, stricter)));
      }
      assert.deepEqual(problems, []);
      t.diagnostic(`server stricter than jose: ${JSON.stringify(Object.fromEntries(stricter))}`);
    });

    it('claim variants signed with the real key: same verdicts', async () => {
      const f = forger(material);
      const problems: string[] = [];
      const stricter = new Map<string, number>();
      const variants: Record<string, unknown>[] = [
        { scope: '' }, { aud: [API] }, { aud: [API, API] }, { aud: 'https://other.example' }, { aud: [] }, { jti: randomUUID() }, { nbf: nowSeconds - 10 }, { exp: nowSeconds + 1 },
        { exp: nowSeconds - 30 }, { exp: nowSeconds - 29 }, { exp: nowSeconds - 31 }, { nbf: nowSeconds + 30 }, { nbf: nowSeconds + 31 }, { iat: nowSeconds + 31 },
        { iss: `${g.base}/` }, { iss: undefined }, { exp: nowSeconds + 0.5 }, { iat: String(nowSeconds) }, { __proto__: { admin: true } }, { extra: { nested: [1, 2, 3] } },
      ];
      for (const overrides of variants) problems.push(...(await compare(JSON.stringify(overrides), f.forge(f.header(), f.claims(overrides)), stricter)));
      assert.deepEqual(problems, []);
    });

    it('a seeded mutation fuzz of valid tokens (1500 cases): same rule, and only an unchanged token passes', async () => {
      const random = prng(alg.length * 104_729);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
      const seeds = [material.valid, material.other, ...controls(material).map(([, token]) => token)];
      const problems: string[] = [];
      const stricter = new Map<string, number>();
      for (let i = 0; i < 1500; i++) {
        const seed = seeds[Math.floor(random() * seeds.length)]!;
        const chars = [...seed];
        for (let e = 1 + Math.floor(random() * 3); e > 0; e--) {
          const at = Math.floor(random() * chars.length);
          const what = random();
          if (what < 0.6) chars[at] = alphabet[Math.floor(random() * alphabet.length)]!;
          else if (what < 0.8) chars.splice(at, 1);
          else chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]!);
        }
        const token = chars.join('');
        problems.push(...(await compare(`fuzz #${i}`, token, stricter)));
        const accepted = await verifier.verify(token, { typ: 'at+jwt' }).then(() => true, () => false);
        if (accepted && token !== seed) problems.push(`fuzz #${i}: a changed token was accepted`);
      }
      assert.deepEqual(problems, []);
    });
  });
}
