/**
 * First-party tokens that a second step hands out (issue 16 × RFC 9449): a native app that signs
 * in with its client_id and a DPoP proof gets tokens bound to that key from every route that
 * ends the sign-in — `POST /api/auth/mfa/verify`, the required enrolment
 * (`/api/auth/mfa/enrol/totp/confirm`, `/api/auth/mfa/enrol/passkey`) and passwordless
 * `/api/auth/sign-in/passkey` — exactly as `POST /api/auth/sign-in` binds them: `token_type: DPoP`,
 * `cnf.jkt` = jose's RFC 7638 thumbprint, a refresh refused without a proof of that key, userinfo
 * refused without one. The proof (htu = that route's URL) is checked before the factor, so a bad
 * proof uses up neither the code nor the pending sign-in. Proofs are made with jose (test/support/dpop.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { linkToken, PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { dpopKey, proof, type DPoPKey } from '../support/dpop.ts';
import { base32Decode } from '../support/mfa.ts';
import { assertOAuthError, claims, createOAuthApp, postForm, tokens } from '../support/oauth.ts';
import { rfc6238 } from './rfc6238.ts';
import { createSoftAuthenticator } from './soft-authenticator.ts';

interface Bound {
  access_token: string;
  refresh_token: string;
  token_type: string;
}

/** A manual clock: DPoP `iat`, TOTP steps and refresh all read it; each sign-in moves it past the replay window. */
function manualClock(): { now: () => number; advance: (ms: number) => void; seconds: () => number } {
  let at = Date.now();
  return { now: () => at, advance: (ms) => void (at += ms), seconds: () => Math.floor(at / 1000) };
}

async function signUpVerified(t: TestApp, email: string): Promise<void> {
  assert.equal((await postJSON(t, '/api/auth/sign-up', { email, password: PASSWORD })).statusCode, 202);
  assert.equal((await postJSON(t, '/api/auth/verify-email', { token: linkToken(t, email, '/verify-email') })).statusCode, 200);
}

/** What every bound answer must satisfy: DPoP type, cnf.jkt, refresh only with the key, userinfo only with a proof. */
async function assertBoundTo(t: TestApp, clock: ReturnType<typeof manualClock>, response: LightMyRequestResponse, key: DPoPKey, what: string): Promise<void> {
  assert.equal(response.statusCode, 200, `${what}: ${response.body}`);
  const body = response.json() as Bound;
  assert.equal(body.token_type, 'DPoP', what);
  assert.deepEqual(claims(body.access_token).cnf, { jkt: key.jkt }, what);
  assert.equal(response.headers['cache-control'], 'no-store', what);

  const tokenUrl = `${t.config.publicUrl}/oauth/token`;
  const refresh = (dpop?: string) => postForm(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: 'mobile' }, dpop ? { dpop } : {});
  assertOAuthError(await refresh(), 'invalid_grant', 400, `${what}: the bound refresh token without a proof`);
  assertOAuthError(await refresh(await proof(await dpopKey(), { htu: tokenUrl, iat: clock.seconds() })), 'invalid_grant', 400, `${what}: a proof of another key`);

  const userinfoUrl = `${t.config.publicUrl}/oauth/userinfo`;
  const userinfo = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/oauth/userinfo', headers });
  assert.equal((await userinfo({ authorization: `Bearer ${body.access_token}` })).statusCode, 401, `${what}: userinfo with the token as Bearer`);
  assert.equal((await userinfo({ authorization: `DPoP ${body.access_token}` })).statusCode, 401, `${what}: userinfo without a proof`);
  const answered = await userinfo({ authorization: `DPoP ${body.access_token}`, dpop: await proof(key, { htm: 'GET', htu: userinfoUrl, iat: clock.seconds(), accessToken: body.access_token }) });
  assert.equal(answered.statusCode, 200, `${what}: userinfo with a proof of the key: ${answered.body}`);

  const refreshed = tokens(await refresh(await proof(key, { htu: tokenUrl, iat: clock.seconds() })));
  assert.equal(refreshed.token_type, 'DPoP', what);
  assert.deepEqual(claims(refreshed.access_token).cnf, { jkt: key.jkt }, `${what}: the refreshed token stays bound`);
}

describe('second step of a first-party sign-in with DPoP (POST /api/auth/mfa/verify)', () => {
  let t: TestApp;
  const clock = manualClock();
  const email = 'mfa-dpop@example.com';
  let secret: Buffer;
  const code = () => rfc6238(secret, clock.seconds());
  const verifyUrl = () => `${t.config.publicUrl}/api/auth/mfa/verify`;

  before(async () => {
    t = await createOAuthApp({ now: clock.now });
    const cookie = await registerAndSignIn(t, email);
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    secret = base32Decode(enrolment.secret);
    assert.equal((await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: code() }, { cookie })).statusCode, 200);
  });
  after(() => t.close());

  async function mfaToken(): Promise<string> {
    clock.advance(90_000);
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' });
    assert.equal(first.statusCode, 401, first.body);
    assert.equal(first.json().error, 'mfa_required');
    return first.json().mfa_token as string;
  }

  it('a proof for the verify URL binds the tokens to its key (cnf.jkt, refresh and userinfo only with the key)', async () => {
    const key = await dpopKey();
    const token = await mfaToken();
    const response = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: code(), mfa_token: token, client_id: 'mobile' }, { dpop: await proof(key, { htu: verifyUrl(), iat: clock.seconds() }) });
    await assertBoundTo(t, clock, response, key, 'verify');
  });

  it('without a DPoP header the tokens stay Bearer', async () => {
    const token = await mfaToken();
    const response = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: code(), mfa_token: token, client_id: 'mobile' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().token_type, 'Bearer');
    assert.equal(claims(response.json().access_token).cnf, undefined);
  });

  it('the proof is checked before the factor: a bad one uses up neither the code nor the pending sign-in', async () => {
    const key = await dpopKey();
    const token = await mfaToken();
    const right = code();
    for (const [what, dpop] of [
      ['the sign-in URL as htu', await proof(key, { htu: `${t.config.publicUrl}/api/auth/sign-in`, iat: clock.seconds() })],
      ['htm GET', await proof(key, { htm: 'GET', htu: verifyUrl(), iat: clock.seconds() })],
      ['an old proof', await proof(key, { htu: verifyUrl(), iat: clock.seconds() - 3600 })],
      ['not a JWT', 'not-a-proof'],
    ] as const) {
      const refused = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: right, mfa_token: token, client_id: 'mobile' }, { dpop });
      assertOAuthError(refused, 'invalid_dpop_proof', 400, what);
      assert.equal(refused.json().access_token, undefined, what);
    }
    // The same code and mfa_token still work: neither reached the second step.
    const response = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: right, mfa_token: token, client_id: 'mobile' }, { dpop: await proof(key, { htu: verifyUrl(), iat: clock.seconds() }) });
    await assertBoundTo(t, clock, response, key, 'after refused proofs');
  });

  it('a proof replayed from the first attempt is refused on the retry after a wrong code', async () => {
    const key = await dpopKey();
    const token = await mfaToken();
    const dpop = await proof(key, { htu: verifyUrl(), iat: clock.seconds() });
    const right = code();
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const first = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: wrong, mfa_token: token, client_id: 'mobile' }, { dpop });
    assert.equal(first.json().error, 'invalid_mfa_code');
    assertOAuthError(await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: right, mfa_token: token, client_id: 'mobile' }, { dpop }), 'invalid_dpop_proof', 400, 'the same jti again');
    const fresh = await postJSON(t, '/api/auth/mfa/verify', { method: 'totp', code: right, mfa_token: token, client_id: 'mobile' }, { dpop: await proof(key, { htu: verifyUrl(), iat: clock.seconds() }) });
    await assertBoundTo(t, clock, fresh, key, 'retry with a fresh proof');
  });
});

describe('required enrolment and passwordless sign-in of a first-party app with DPoP', () => {
  let t: TestApp;
  const clock = manualClock();
  let origin = '';
  const url = (path: string) => `${t.config.publicUrl}${path}`;

  before(async () => {
    t = await createOAuthApp({ now: clock.now, env: { GATEHOUSE_MFA_REQUIRED_FOR_ALL: 'true' } });
    origin = new URL(t.config.publicUrl).origin;
  });
  after(() => t.close());

  async function enrolmentToken(email: string): Promise<string> {
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' });
    assert.equal(first.statusCode, 401, first.body);
    assert.equal(first.json().enrolment_required, true);
    return first.json().mfa_token as string;
  }

  it('POST /api/auth/mfa/enrol/totp/confirm binds the tokens to the proof\'s key; a bad proof costs nothing', async () => {
    const email = 'enrol-totp-dpop@example.com';
    await signUpVerified(t, email);
    const mfaToken = await enrolmentToken(email);
    const enrolment = (await postJSON(t, '/api/auth/mfa/enrol/totp', { mfa_token: mfaToken, client_id: 'mobile' })).json();
    const code = rfc6238(base32Decode(enrolment.secret), clock.seconds());
    const key = await dpopKey();
    const body = { enrolment_id: enrolment.enrolment_id, code, mfa_token: mfaToken, client_id: 'mobile' };
    assertOAuthError(await postJSON(t, '/api/auth/mfa/enrol/totp/confirm', body, { dpop: await proof(key, { htu: url('/api/auth/mfa/verify'), iat: clock.seconds() }) }), 'invalid_dpop_proof', 400, 'another route\'s htu');
    const response = await postJSON(t, '/api/auth/mfa/enrol/totp/confirm', body, { dpop: await proof(key, { htu: url('/api/auth/mfa/enrol/totp/confirm'), iat: clock.seconds() }) });
    assert.equal(response.json().recovery_codes.length, 10);
    await assertBoundTo(t, clock, response, key, 'enrol/totp/confirm');
  });

  it('POST /api/auth/mfa/enrol/passkey and passwordless POST /api/auth/sign-in/passkey bind the tokens to the proof\'s key', async () => {
    const email = 'enrol-passkey-dpop@example.com';
    await signUpVerified(t, email);
    const authenticator = createSoftAuthenticator({ origin });
    const mfaToken = await enrolmentToken(email);
    const { options } = (await postJSON(t, '/api/auth/mfa/enrol/passkey/options', { mfa_token: mfaToken, client_id: 'mobile' })).json();
    const key = await dpopKey();
    const body = { credential: authenticator.register(options), name: 'Phone', mfa_token: mfaToken, client_id: 'mobile' };
    // Checked before the registration answer: the challenge is still there for the right proof.
    assertOAuthError(await postJSON(t, '/api/auth/mfa/enrol/passkey', body, { dpop: 'not-a-proof' }), 'invalid_dpop_proof', 400, 'malformed');
    const enrolled = await postJSON(t, '/api/auth/mfa/enrol/passkey', body, { dpop: await proof(key, { htu: url('/api/auth/mfa/enrol/passkey'), iat: clock.seconds() }) });
    assert.equal(enrolled.json().recovery_codes.length, 10);
    await assertBoundTo(t, clock, enrolled, key, 'enrol/passkey');

    const appKey = await dpopKey();
    const started = (await postJSON(t, '/api/auth/sign-in/passkey/options', { client_id: 'mobile' })).json();
    const answer = { credential: authenticator.assert(started.options), client_id: 'mobile', ceremony_token: started.ceremony_token };
    assertOAuthError(await postJSON(t, '/api/auth/sign-in/passkey', answer, { dpop: await proof(appKey, { htu: url('/api/auth/sign-in'), iat: clock.seconds() }) }), 'invalid_dpop_proof', 400, 'the password sign-in\'s htu');
    const passwordless = await postJSON(t, '/api/auth/sign-in/passkey', answer, { dpop: await proof(appKey, { htu: url('/api/auth/sign-in/passkey'), iat: clock.seconds() }) });
    await assertBoundTo(t, clock, passwordless, appKey, 'sign-in/passkey');
  });
});
