/**
 * First-party sign-in tokens (`POST /api/auth/sign-in` with a first-party native app's
 * client_id) and DPoP (RFC 9449): with a proof for this endpoint the tokens are bound to its key
 * exactly as at the token endpoint — `token_type: DPoP`, `cnf.jkt` in the access token, refresh
 * tokens that rotate only with a proof of the same key. A bad proof is refused before any token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { dpopKey, proof, type DPoPKey } from '../support/dpop.ts';
import { assertOAuthError, claims, createOAuthApp, postForm, tokens } from '../support/oauth.ts';

describe('first-party sign-in tokens bound to a DPoP key', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp();
  });
  after(() => t.close());

  const signInProof = (key: DPoPKey, htu = `${t.config.publicUrl}/api/auth/sign-in`) => proof(key, { htu });
  const tokenProof = (key: DPoPKey) => proof(key, { htu: `${t.config.publicUrl}/oauth/token` });
  const signIn = (email: string, headers: Record<string, string> = {}) => postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' }, headers);
  const refreshWith = (refreshToken: string, dpop?: string) => postForm(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'mobile' }, dpop ? { dpop } : {});

  it('a proof binds the access token (cnf.jkt) and the refresh token (rotation only with the same key)', async () => {
    const email = 'fp-dpop@example.com';
    await registerAndSignIn(t, email);
    const key = await dpopKey();
    const response = await signIn(email, { dpop: await signInProof(key) });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json() as { access_token: string; refresh_token: string; token_type: string };
    assert.equal(body.token_type, 'DPoP');
    assert.deepEqual(claims(body.access_token).cnf, { jkt: key.jkt });
    assert.equal(response.headers['cache-control'], 'no-store');

    assertOAuthError(await refreshWith(body.refresh_token), 'invalid_grant', 400, 'the bound refresh token without a proof');
    assertOAuthError(await refreshWith(body.refresh_token, await tokenProof(await dpopKey())), 'invalid_grant', 400, 'with a proof of another key');
    const refreshed = tokens(await refreshWith(body.refresh_token, await tokenProof(key)));
    assert.equal(refreshed.token_type, 'DPoP');
    assert.deepEqual(claims(refreshed.access_token).cnf, { jkt: key.jkt });
    assert.equal(claims(refreshed.access_token).sid, claims(body.access_token).sid, 'the same session');
  });

  it('without a DPoP header the tokens stay Bearer and the refresh needs no proof', async () => {
    const email = 'fp-plain@example.com';
    await registerAndSignIn(t, email);
    const body = (await signIn(email)).json() as { access_token: string; refresh_token: string; token_type: string };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(claims(body.access_token).cnf, undefined);
    assert.equal(tokens(await refreshWith(body.refresh_token)).token_type, 'Bearer');
  });

  it('a proof for another URL or method, a replayed one, or a malformed one → invalid_dpop_proof and no tokens', async () => {
    const email = 'fp-bad-proof@example.com';
    await registerAndSignIn(t, email);
    const key = await dpopKey();
    const replayed = await signInProof(key);
    assert.equal((await signIn(email, { dpop: replayed })).statusCode, 200);
    for (const [what, dpop] of [
      ['the token endpoint’s htu', await signInProof(key, `${t.config.publicUrl}/oauth/token`)],
      ['htm GET', await proof(key, { htm: 'GET', htu: `${t.config.publicUrl}/api/auth/sign-in` })],
      ['a replayed proof', replayed],
      ['not a JWT', 'not-a-proof'],
    ] as const) {
      const response = await signIn(email, { dpop });
      assertOAuthError(response, 'invalid_dpop_proof', 400, what);
      assert.equal(response.json().access_token, undefined, what);
    }
  });
});
