/**
 * The hostile-JWT corpus applied to DPoP proofs at the token endpoint (test/middleware/dpop-corpus.ts):
 * every case is refused with 400 invalid_dpop_proof (or 431 for an oversized header), never a
 * token and never a 5xx. Frozen clock: the ±31 s cases stay outside the 30 s window.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { basic, createOAuthApp, SECRETS } from '../support/oauth.ts';
import { manualClock } from '../support/oidc.ts';
import { dpopControls, hostileProofs, proofKeys, type ProofAlg, type ProofMaterial } from '../middleware/dpop-corpus.ts';

for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256'] as ProofAlg[]) {
  describe(`hostile DPoP proofs at the token endpoint, ${alg}`, () => {
    const clock = manualClock();
    let t: TestApp;
    let material: ProofMaterial;
    before(async () => {
      t = await createOAuthApp({ now: clock.now });
      material = { alg, ...proofKeys(alg), method: 'POST', url: `${t.config.publicUrl}/oauth/token`, nowSeconds: Math.floor(clock.now() / 1000) };
    });
    after(() => t.close());

    const send = (dpop: string) => t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('svc', SECRETS.svc!), dpop },
      payload: 'grant_type=client_credentials',
    });

    it('controls are accepted (the corpus tests the checks, not the forging)', async () => {
      for (const [name, proof] of dpopControls(material)) {
        const response = await send(proof);
        assert.equal(response.statusCode, 200, `${name}: ${response.body}`);
        assert.equal(response.json().token_type, 'DPoP', name);
      }
    });

    it('every hostile proof is refused', async () => {
      const failures: string[] = [];
      let count = 0;
      for (const [group, cases] of Object.entries(hostileProofs(material))) {
        for (const [name, proof] of cases) {
          count++;
          const response = await send(proof);
          const body = response.statusCode === 431 ? {} : (response.json() as Record<string, unknown>);
          if (!(response.statusCode === 431 || (response.statusCode === 400 && body.error === 'invalid_dpop_proof'))) failures.push(`${group} / ${name}: ${response.statusCode} ${response.body.slice(0, 120)}`);
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${count} not refused`);
      assert.ok(count > 80, `${count} cases`);
    });
  });
}
