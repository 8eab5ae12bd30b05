/**
 * Pushed authorization requests (RFC 9126), black-box: `/oauth/par` authenticates the client and
 * runs the authorization endpoint's own checks (JSON errors instead of pages or redirects), the
 * `request_uri` it returns works at `/oauth/authorize` once, for that client only, within its
 * lifetime (SEC-OIDF-19: FAPI2 `…-par-attempt-reuse-request_uri`, `…-expired-request_uri`,
 * `…-request_uri-for-different-client`, `…-invalid-http-method`; SEC-REL-05), and the per-client
 * and server-wide switches force every request through it. On one embedded instance (frozen
 * clock) and on two instances sharing PostgreSQL and Redis (push on A, authorize on B).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { SECRETS, assertOAuthError, basic, createOAuthApp, postForm } from '../support/oauth.ts';
import {
  OIDC_SECRETS,
  REDIRECT,
  answerConsent,
  assertErrorPage,
  assertErrorRedirect,
  authorize,
  authzQuery,
  clientAuth,
  isConsentPage,
  oidcClients,
  pkce,
  redeem,
  redirectParams,
} from '../support/oidc.ts';

const REQUEST_URI = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/;

/** The code-flow clients; `webapp2` must push its requests (RFC 9126 §6). */
function parClients(): Record<string, unknown>[] {
  return oidcClients().map((client) => (client.client_id === 'webapp2' ? { ...client, require_pushed_authorization_requests: true } : client));
}

function push(t: TestApp, clientId: string, params: Record<string, string>): Promise<LightMyRequestResponse> {
  const credentials = clientAuth(clientId);
  return postForm(t, '/oauth/par', { ...credentials.params, ...params }, credentials.headers);
}

async function pushed(t: TestApp, clientId: string, params: Record<string, string>): Promise<{ request_uri: string; expires_in: number }> {
  const response = await push(t, clientId, params);
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as { request_uri: string; expires_in: number };
}

/** The browser with `cookie` follows the authorization request to its redirect (consenting when asked). */
async function authorizeToRedirect(t: TestApp, query: Record<string, string>, cookie: string): Promise<LightMyRequestResponse> {
  const response = await authorize(t, query, cookie);
  return isConsentPage(response) ? answerConsent(t, response, cookie) : response;
}

interface Instances {
  pushTo: TestApp;
  browseTo: TestApp;
  advance(ms: number): void;
  close(): Promise<void>;
}

function parSuite(name: string, open: () => Promise<Instances>, skip: string | false = false): void {
  describe(`pushed authorization requests (RFC 9126): ${name}`, { skip }, () => {
    let apps: Instances;
    let cookie = '';
    before(async () => {
      apps = await open();
      cookie = await registerAndSignIn(apps.browseTo, `par-${Math.random().toString(36).slice(2, 8)}@example.com`);
    });
    after(async () => {
      await apps?.close();
    });

    it('discovery lists the endpoint and whether it is required', async () => {
      const metadata = (await apps.pushTo.app.inject({ url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
      assert.equal(metadata.pushed_authorization_request_endpoint, `${apps.pushTo.config.publicUrl}/oauth/par`);
      assert.equal(metadata.require_pushed_authorization_requests, false);
    });

    it('push → 201 request_uri → /oauth/authorize with client_id + request_uri → code → tokens; the pushed parameters are the request', async () => {
      const { verifier, challenge } = pkce();
      const response = await push(apps.pushTo, 'webapp', authzQuery({ challenge, state: 'pushed-state', nonce: 'n-1', scope: 'openid profile' }));
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json() as { request_uri: string; expires_in: number };
      assert.match(body.request_uri, REQUEST_URI);
      assert.equal(body.expires_in, 60);
      // Parameters sent beside request_uri are ignored (RFC 9126 §4): the pushed state and scope win.
      const redirect = await authorizeToRedirect(apps.browseTo, { client_id: 'webapp', request_uri: body.request_uri, state: 'other-state', scope: 'openid email' }, cookie);
      const params = redirectParams(apps.browseTo, redirect);
      assert.equal(params.get('state'), 'pushed-state');
      const code = params.get('code');
      assert.ok(code);
      const tokens = await redeem(apps.pushTo, 'webapp', code, verifier);
      assert.equal(tokens.statusCode, 200, tokens.body);
      assert.equal((tokens.json() as { scope: string }).scope, 'openid profile');
    });

    it('a request_uri works once: reused after use → error page, never a redirect', async () => {
      const { challenge } = pkce();
      const { request_uri } = await pushed(apps.pushTo, 'webapp', authzQuery({ challenge }));
      redirectParams(apps.browseTo, await authorizeToRedirect(apps.browseTo, { client_id: 'webapp', request_uri }, cookie));
      assertErrorPage(await authorize(apps.browseTo, { client_id: 'webapp', request_uri }, cookie), 'reuse');
    });

    it('SEC-REL-05: ten parallel uses of one request_uri → exactly one authorization', async () => {
      const { challenge } = pkce();
      const { request_uri } = await pushed(apps.pushTo, 'webapp', authzQuery({ challenge }));
      const answers = await Promise.all(Array.from({ length: 10 }, () => authorize(apps.browseTo, { client_id: 'webapp', request_uri }, cookie)));
      const errors = answers.filter((response) => response.statusCode === 400);
      assert.equal(errors.length, 9, answers.map((response) => response.statusCode).join(' '));
    });

    it('bound to the client that pushed it: another client_id (or none) → error page, and the owner can still use it', async () => {
      const { challenge } = pkce();
      const { request_uri } = await pushed(apps.pushTo, 'webapp', authzQuery({ challenge }));
      assertErrorPage(await authorize(apps.browseTo, { client_id: 'twouris', request_uri }, cookie), 'another client');
      assertErrorPage(await authorize(apps.browseTo, { request_uri }, cookie), 'no client_id');
      redirectParams(apps.browseTo, await authorizeToRedirect(apps.browseTo, { client_id: 'webapp', request_uri }, cookie));
    });

    it('expires after expires_in; unknown or malformed request_uris are refused too', async () => {
      const { challenge } = pkce();
      const { request_uri } = await pushed(apps.pushTo, 'webapp', authzQuery({ challenge }));
      apps.advance(60_000);
      assertErrorPage(await authorize(apps.browseTo, { client_id: 'webapp', request_uri }, cookie), 'expired');
      assertErrorPage(await authorize(apps.browseTo, { client_id: 'webapp', request_uri: `urn:ietf:params:oauth:request_uri:${'A'.repeat(43)}` }, cookie), 'unknown');
      assertErrorPage(await authorize(apps.browseTo, { client_id: 'webapp', request_uri: 'urn:ietf:params:oauth:request_uri:short' }, cookie), 'malformed');
      // Not one of ours (a URL to fetch): refused as before, without fetching anything (SEC-OIDF-12).
      assertErrorRedirect(apps.browseTo, await authorize(apps.browseTo, { ...authzQuery({ challenge }), request_uri: 'https://canary.example/request' }, cookie), 'request_uri_not_supported');
    });

    it('validates exactly as the authorization endpoint, answering JSON OAuth errors (RFC 9126 §2.3)', async () => {
      const { challenge } = pkce();
      const valid = authzQuery({ challenge });
      const { code_challenge: _challenge, ...withoutPkce } = valid;
      assertOAuthError(await push(apps.pushTo, 'webapp', withoutPkce), 'invalid_request', 400, 'no PKCE');
      assertOAuthError(await push(apps.pushTo, 'webapp', { ...valid, code_challenge_method: 'plain' }), 'invalid_request', 400, 'plain PKCE');
      assertOAuthError(await push(apps.pushTo, 'webapp', { ...valid, redirect_uri: 'https://evil.example/cb' }), 'invalid_request', 400, 'unregistered redirect_uri');
      assertOAuthError(await push(apps.pushTo, 'webapp', { ...valid, response_type: 'token' }), 'unsupported_response_type', 400);
      assertOAuthError(await push(apps.pushTo, 'webapp', { ...valid, scope: 'openid admin' }), 'invalid_scope', 400);
      assertOAuthError(await push(apps.pushTo, 'webapp', { ...valid, request: 'eyJhbGciOiJub25lIn0.e30.' }), 'request_not_supported', 400);
      assertOAuthError(await push(apps.pushTo, 'webapp', { ...valid, request_uri: 'urn:ietf:params:oauth:request_uri:x' }), 'invalid_request', 400, 'request_uri cannot be pushed');
      assertOAuthError(await push(apps.pushTo, 'webapp', { ...valid, client_id: 'webapp2' }), 'invalid_client', 401, 'client_id naming another client than the credentials');
      assertOAuthError(await postForm(apps.pushTo, '/oauth/par', authzQuery({ challenge, clientId: 'svc' }), { authorization: basic('svc', SECRETS.svc!) }), 'unauthorized_client', 400, 'a client without the code flow');
      assertOAuthError(await postForm(apps.pushTo, '/oauth/par', valid), 'invalid_client', 401, 'no client authentication');
      assertOAuthError(await postForm(apps.pushTo, '/oauth/par', valid, { authorization: basic('webapp', `${OIDC_SECRETS.webapp}x`) }), 'invalid_client', 401, 'wrong secret');
      const get = await apps.pushTo.app.inject({ url: '/oauth/par' });
      assert.equal(get.statusCode, 405, 'only POST');
    });

    it('a client registered with require_pushed_authorization_requests: only pushed requests', async () => {
      const { verifier, challenge } = pkce();
      const query = authzQuery({ clientId: 'webapp2', challenge, state: 's2' });
      assertErrorRedirect(apps.browseTo, await authorize(apps.browseTo, query, cookie), 'invalid_request', { state: 's2', what: 'not pushed' });
      const { request_uri } = await pushed(apps.pushTo, 'webapp2', query);
      const params = redirectParams(apps.browseTo, await authorizeToRedirect(apps.browseTo, { client_id: 'webapp2', request_uri }, cookie));
      assert.equal((await redeem(apps.pushTo, 'webapp2', params.get('code')!, verifier)).statusCode, 200);
    });
  });
}

async function embedded(env: Record<string, string> = {}): Promise<Instances> {
  let clock = Date.UTC(2030, 0, 1, 9, 0, 0);
  const t = await createOAuthApp({ clients: parClients(), env, now: () => clock });
  return { pushTo: t, browseTo: t, advance: (ms) => void (clock += ms), close: () => t.close() };
}

const postgres = await probePostgres();
const redis = await probeRedis();

async function shared(): Promise<Instances> {
  const scratch = await createTestDatabase();
  let offset = 0;
  const now = () => Date.now() + offset;
  const env = { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix() };
  const a = await createOAuthApp({ clients: parClients(), env, now });
  const b = await createOAuthApp({ clients: parClients(), env, now });
  return {
    pushTo: a,
    browseTo: b,
    advance: (ms) => void (offset += ms),
    close: async () => {
      await Promise.allSettled([a.close(), b.close()]);
      await scratch.drop();
    },
  };
}

parSuite('SQLite + in-process store', embedded);
parSuite('two instances, PostgreSQL + Redis', shared, skipUnless(postgres) || skipUnless(redis));

describe('GATEHOUSE_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS=true', () => {
  let apps: Instances;
  before(async () => {
    apps = await embedded({ GATEHOUSE_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true' });
  });
  after(() => apps?.close());

  it('is advertised, and every client must push', async () => {
    const metadata = (await apps.pushTo.app.inject({ url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    assert.equal(metadata.require_pushed_authorization_requests, true);
    const cookie = await registerAndSignIn(apps.browseTo, 'par-required@example.com');
    const { challenge } = pkce();
    assertErrorRedirect(apps.browseTo, await authorize(apps.browseTo, authzQuery({ challenge }), cookie), 'invalid_request');
    const { request_uri } = await pushed(apps.pushTo, 'webapp', authzQuery({ challenge }));
    redirectParams(apps.browseTo, await authorizeToRedirect(apps.browseTo, { client_id: 'webapp', request_uri }, cookie), REDIRECT);
  });
});
