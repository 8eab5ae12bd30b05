/**
 * The device authorization grant (RFC 8628), black-box through HTTP: `/oauth/device_authorization`,
 * the `/device` pages (code, hosted sign-in, confirmation) and the device_code grant at
 * `/oauth/token` — on one embedded instance (SQLite, in-process store, frozen clock) and on two
 * instances sharing PostgreSQL and Redis (the device polls A while the user answers on B). Time
 * is always the injected clock: expiry and slow_down never depend on the machine's speed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { assertOAuthError, basic, claims, createOAuthApp, postForm } from '../support/oauth.ts';
import { browse, follow, hidden, signInOnPage } from '../support/oidc.ts';
import { DEVICE_GRANT, TV_SECRET, deviceClients } from '../support/device.ts';
import { USER_CODE_ALPHABET } from '../../src/features/oauth/device/user-code.ts';

const USER_CODE = new RegExp(`^[${USER_CODE_ALPHABET}]{4}-[${USER_CODE_ALPHABET}]{4}$`);

function auth(clientId: string): { headers: Record<string, string>; params: Record<string, string> } {
  return clientId === 'tvconf' ? { headers: { authorization: basic('tvconf', TV_SECRET) }, params: {} } : { headers: {}, params: { client_id: clientId } };
}

interface DeviceStart {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

function requestDevice(t: TestApp, clientId: string, params: Record<string, string> = { scope: 'openid profile offline_access' }): Promise<LightMyRequestResponse> {
  const credentials = auth(clientId);
  return postForm(t, '/oauth/device_authorization', { ...credentials.params, ...params }, credentials.headers);
}

async function startDevice(t: TestApp, clientId = 'tv', scope = 'openid profile offline_access'): Promise<DeviceStart> {
  const response = await requestDevice(t, clientId, { scope });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as DeviceStart;
}

function poll(t: TestApp, clientId: string, deviceCode: string): Promise<LightMyRequestResponse> {
  const credentials = auth(clientId);
  return postForm(t, '/oauth/token', { ...credentials.params, grant_type: DEVICE_GRANT, device_code: deviceCode }, credentials.headers);
}

/** The user enters `typed` on /device in `b`; returns the response after following redirects on the server. */
async function enterCode(t: TestApp, b: PageBrowser, typed: string): Promise<LightMyRequestResponse> {
  const form = await b.get('/device');
  assert.equal(form.statusCode, 200);
  const response = await b.post('/device', { user_code: typed, csrf: hidden(form.body, 'csrf') });
  return follow(t, b, response);
}

function isConfirmPage(response: LightMyRequestResponse): boolean {
  return response.statusCode === 200 && response.body.includes('action="/device/confirm"');
}

/** Enters the code, signs in when asked, and answers the confirmation. */
async function approve(t: TestApp, b: PageBrowser, userCode: string, email: string, decision: 'allow' | 'deny' = 'allow'): Promise<LightMyRequestResponse> {
  let page = await enterCode(t, b, userCode);
  if (/<form[^>]+action="\/login"/.test(page.body)) page = await signInOnPage(t, b, page, email, PASSWORD);
  assert.ok(isConfirmPage(page), `the confirmation page: ${page.statusCode} ${page.body.slice(0, 400)}`);
  return b.post('/device/confirm', { interaction: hidden(page.body, 'interaction'), decision, csrf: hidden(page.body, 'csrf') });
}

interface Instances {
  /** Where the device talks to (device authorization, token polls). */
  device: TestApp;
  /** Where the user's browser goes. */
  user: TestApp;
  advance(ms: number): void;
  close(): Promise<void>;
}

function deviceSuite(name: string, open: (env?: Record<string, string>) => Promise<Instances>, skip: string | false = false): void {
  describe(`device authorization grant (RFC 8628): ${name}`, { skip }, () => {
    let apps: Instances;
    let n = 0;
    const newUser = async (): Promise<string> => {
      const email = `device-${++n}-${Math.random().toString(36).slice(2, 8)}@example.com`;
      await registerAndSignIn(apps.user, email);
      return email;
    };

    before(async () => {
      apps = await open();
    });
    after(async () => {
      await apps?.close();
    });

    it('discovery advertises the device authorization endpoint and the grant type', async () => {
      const metadata = (await apps.device.app.inject({ url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
      assert.equal(metadata.device_authorization_endpoint, `${apps.device.config.publicUrl}/oauth/device_authorization`);
      assert.ok((metadata.grant_types_supported as string[]).includes(DEVICE_GRANT));
    });

    it('RFC 8628 §3.2: device code, short unambiguous user code, verification URIs, lifetime and interval, never cached', async () => {
      const response = await requestDevice(apps.device, 'tv');
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json() as DeviceStart;
      assert.match(body.device_code, /^[A-Za-z0-9_-]{43}$/);
      assert.match(body.user_code, USER_CODE, 'eight letters without vowels, 0/O or 1/I');
      assert.equal(body.verification_uri, `${apps.device.config.publicUrl}/device`);
      assert.equal(body.verification_uri_complete, `${apps.device.config.publicUrl}/device?user_code=${body.user_code}`);
      assert.equal(body.expires_in, 600);
      assert.equal(body.interval, 5);
      const other = await startDevice(apps.device);
      assert.notEqual(other.user_code, body.user_code);
      assert.notEqual(other.device_code, body.device_code);
    });

    it('refuses with clear OAuth errors: client authentication, a client without the grant, scopes, resources', async () => {
      assertOAuthError(await postForm(apps.device, '/oauth/device_authorization', { scope: 'openid' }), 'invalid_client', 401, 'no client');
      assertOAuthError(await postForm(apps.device, '/oauth/device_authorization', { scope: 'openid' }, { authorization: basic('tvconf', 'wrong-secret-wrong-secret-wrong-secret') }), 'invalid_client', 401, 'wrong secret');
      assertOAuthError(await postForm(apps.device, '/oauth/device_authorization', { client_id: 'tvconf', scope: 'openid' }), 'invalid_client', 401, 'confidential client without its secret');
      assertOAuthError(await postForm(apps.device, '/oauth/device_authorization', { client_id: 'native', scope: 'openid' }), 'unauthorized_client', 400, 'a client not registered for the grant');
      assertOAuthError(await requestDevice(apps.device, 'tv', {}), 'invalid_scope', 400, 'no scope');
      assertOAuthError(await requestDevice(apps.device, 'tvconf', { scope: 'openid email' }), 'invalid_scope', 400, 'a scope the client may not have');
      assertOAuthError(await requestDevice(apps.device, 'tv', { scope: 'openid', resource: 'https://not-mine.example' }), 'invalid_target', 400, 'a foreign resource');
      assertOAuthError(await postForm(apps.device, '/oauth/device_authorization', 'client_id=tv&scope=openid&scope=email'), 'invalid_request', 400, 'a repeated parameter');
      // The token endpoint: a client not registered for the grant, a garbage device code.
      assertOAuthError(await postForm(apps.device, '/oauth/token', { client_id: 'native', grant_type: DEVICE_GRANT, device_code: 'x'.repeat(43) }), 'unauthorized_client', 400);
      assertOAuthError(await poll(apps.device, 'tv', 'not-a-device-code'), 'invalid_grant');
      assertOAuthError(await postForm(apps.device, '/oauth/token', { client_id: 'tv', grant_type: DEVICE_GRANT }), 'invalid_request', 400, 'no device_code');
    });

    it('the whole flow: pending → the user enters the code (any case, no dash), signs in, confirms → tokens once', async () => {
      const email = await newUser();
      const started = await startDevice(apps.device);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'authorization_pending');

      const b = createBrowser(apps.user.app);
      const typed = started.user_code.replace('-', '').toLowerCase();
      let page = await enterCode(apps.user, b, typed);
      assert.match(page.body, /<form[^>]+action="\/login"/, 'sign-in on the hosted page');
      page = await signInOnPage(apps.user, b, page, email, PASSWORD);
      assert.ok(isConfirmPage(page), page.body.slice(0, 400));
      assert.match(page.body, /Living Room TV/, 'names the application');
      assert.ok(page.body.includes(started.user_code), 'shows the code to compare with the device (RFC 8628 §5.4)');
      assert.match(page.body, /Stay signed in/, 'lists what it asks (offline_access)');
      const done = await b.post('/device/confirm', { interaction: hidden(page.body, 'interaction'), decision: 'allow', csrf: hidden(page.body, 'csrf') });
      assert.equal(done.statusCode, 200);
      assert.match(done.body, /Return to your device/);

      apps.advance(5_000);
      const response = await poll(apps.device, 'tv', started.device_code);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json() as { access_token: string; id_token?: string; refresh_token?: string; scope: string; token_type: string };
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.scope, 'openid profile offline_access');
      assert.ok(body.id_token, 'an ID token: openid was granted');
      assert.ok(body.refresh_token, 'a refresh token: the client may refresh');
      const idToken = claims(body.id_token);
      assert.equal(idToken.aud, 'tv');
      assert.equal(claims(body.access_token).client_id, 'tv');
      assert.equal(idToken.sub, claims(body.access_token).sub);
      const info = await apps.device.app.inject({ url: '/oauth/userinfo', headers: { authorization: `Bearer ${body.access_token}` } });
      assert.equal(info.statusCode, 200, info.body);
      // The refresh token works like any other.
      const refreshed = await postForm(apps.device, '/oauth/token', { client_id: 'tv', grant_type: 'refresh_token', refresh_token: body.refresh_token });
      assert.equal(refreshed.statusCode, 200, refreshed.body);

      apps.advance(5_000);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'invalid_grant', 400, 'a device code gives tokens once');
    });

    it('device-flow tokens carry amr/acr of the approving session, as code-grant tokens do: userinfo returns them', async () => {
      const email = await newUser();
      const started = await startDevice(apps.device, 'tv', 'openid profile');
      const b = createBrowser(apps.user.app);
      assert.equal((await approve(apps.user, b, started.user_code, email)).statusCode, 200);
      apps.advance(5_000);
      const response = await poll(apps.device, 'tv', started.device_code);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as { access_token: string; id_token: string };
      const access = claims(body.access_token);
      // A password sign-in on the hosted page: amr ["pwd"], single-factor acr.
      assert.deepEqual(access.amr, ['pwd']);
      assert.equal(typeof access.acr, 'string');
      assert.deepEqual(access.amr, claims(body.id_token).amr, 'the same amr as the ID token');
      assert.equal(access.acr, claims(body.id_token).acr);
      const info = await apps.device.app.inject({ url: '/oauth/userinfo', headers: { authorization: `Bearer ${body.access_token}` } });
      assert.equal(info.statusCode, 200, info.body);
      assert.deepEqual(info.json().amr, ['pwd']);
      assert.equal(info.json().acr, access.acr);
    });

    it('without openid: no ID token; a client without refresh_token: no refresh token', async () => {
      const email = await newUser();
      const started = await startDevice(apps.device, 'tvconf', 'profile');
      const b = createBrowser(apps.user.app);
      assert.equal((await approve(apps.user, b, started.user_code, email)).statusCode, 200);
      apps.advance(5_000);
      const response = await poll(apps.device, 'tvconf', started.device_code);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as Record<string, unknown>;
      assert.equal(body.id_token, undefined);
      assert.equal(body.refresh_token, undefined);
      assert.equal(body.scope, 'profile');
    });

    it('slow_down: polling faster than the interval adds 5 s to it, for that device code only (RFC 8628 §3.5)', async () => {
      const started = await startDevice(apps.device);
      const other = await startDevice(apps.device);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'authorization_pending');
      apps.advance(1_000);
      const fast = await poll(apps.device, 'tv', started.device_code);
      assertOAuthError(fast, 'slow_down');
      assert.match((fast.json() as { error_description: string }).error_description, /10 seconds/);
      // The other device code has its own interval.
      assertOAuthError(await poll(apps.device, 'tv', other.device_code), 'authorization_pending');
      apps.advance(6_000); // 6 s < the new 10 s interval
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'slow_down', 400, 'still too fast for the raised interval');
      apps.advance(14_000); // < 15 s
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'slow_down');
      apps.advance(20_000); // ≥ 20 s
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'authorization_pending', 400, 'patient polling is answered again');
    });

    it('slow_down: of two polls racing at the same moment, only one is answered', async () => {
      const started = await startDevice(apps.device);
      const answers = await Promise.all([poll(apps.device, 'tv', started.device_code), poll(apps.device, 'tv', started.device_code), poll(apps.device, 'tv', started.device_code)]);
      const errors = answers.map((response) => (response.json() as { error: string }).error).sort();
      assert.deepEqual(errors, ['authorization_pending', 'slow_down', 'slow_down']);
    });

    it('access_denied when the user presses Deny; then the device code is gone', async () => {
      const email = await newUser();
      const started = await startDevice(apps.device);
      const b = createBrowser(apps.user.app);
      const denied = await approve(apps.user, b, started.user_code, email, 'deny');
      assert.equal(denied.statusCode, 200);
      assert.match(denied.body, /denied/i);
      apps.advance(5_000);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'access_denied', 400);
      apps.advance(5_000);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'invalid_grant');
    });

    it('expired_token after expires_in; the user code no longer works either', async () => {
      const email = await newUser();
      const started = await startDevice(apps.device);
      const b = createBrowser(apps.user.app);
      const page = await signInOnPage(apps.user, b, await browse(apps.user, b, '/login'), email, PASSWORD);
      assert.equal(page.statusCode, 200);
      apps.advance(600_000);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'expired_token');
      const entered = await enterCode(apps.user, b, started.user_code);
      assert.equal(entered.statusCode, 400);
      assert.match(entered.body, /not valid or has expired/);
    });

    it('the device code is bound to its client: another client polling it gets invalid_grant and uses nothing up', async () => {
      const email = await newUser();
      const started = await startDevice(apps.device, 'tv', 'openid profile');
      const b = createBrowser(apps.user.app);
      assert.equal((await approve(apps.user, b, started.user_code, email)).statusCode, 200);
      apps.advance(5_000);
      assertOAuthError(await poll(apps.device, 'tvconf', started.device_code), 'invalid_grant', 400, 'another client');
      const response = await poll(apps.device, 'tv', started.device_code);
      assert.equal(response.statusCode, 200, response.body);
    });

    it('user codes are single use: a second answer, or the same code entered again, is refused', async () => {
      const email = await newUser();
      const started = await startDevice(apps.device);
      const b = createBrowser(apps.user.app);
      let page = await enterCode(apps.user, b, started.user_code);
      page = await signInOnPage(apps.user, b, page, email, PASSWORD);
      assert.ok(isConfirmPage(page));
      const fields = { interaction: hidden(page.body, 'interaction'), decision: 'allow', csrf: hidden(page.body, 'csrf') };
      const [first, second] = await Promise.all([b.post('/device/confirm', fields), b.post('/device/confirm', fields)]);
      assert.deepEqual([first.statusCode, second.statusCode].sort(), [200, 400], 'exactly one answer is recorded');
      const again = await enterCode(apps.user, b, started.user_code);
      assert.equal(again.statusCode, 400, 'the code was used up');
    });

    it('the confirmation belongs to the browser session that opened it (SEC-OAUTH-30)', async () => {
      const alice = await newUser();
      const mallory = await newUser();
      const started = await startDevice(apps.device);
      const b = createBrowser(apps.user.app);
      let page = await enterCode(apps.user, b, started.user_code);
      page = await signInOnPage(apps.user, b, page, alice, PASSWORD);
      assert.ok(isConfirmPage(page));
      const interaction = hidden(page.body, 'interaction');
      const other = createBrowser(apps.user.app);
      await signInOnPage(apps.user, other, await browse(apps.user, other, '/login'), mallory, PASSWORD);
      const stolen = await browse(apps.user, other, `/device/confirm?interaction=${interaction}`);
      assert.equal(stolen.statusCode, 400, 'another session cannot see it');
      const form = await other.get('/device');
      const answer = await other.post('/device/confirm', { interaction, decision: 'allow', csrf: hidden(form.body, 'csrf') });
      assert.equal(answer.statusCode, 400, 'nor answer it');
      apps.advance(5_000);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'authorization_pending', 400, 'nothing was approved');
    });

    it('the confirmation is shown even when the user consented to the client before (RFC 8628 §5.4)', async () => {
      const email = await newUser();
      const b = createBrowser(apps.user.app);
      const first = await startDevice(apps.device, 'tv', 'openid');
      assert.equal((await approve(apps.user, b, first.user_code, email)).statusCode, 200);
      const second = await startDevice(apps.device, 'tv', 'openid');
      const page = await enterCode(apps.user, b, second.user_code);
      assert.ok(isConfirmPage(page), 'asked again');
    });

    it('/device?user_code= pre-fills the form but approves nothing by itself', async () => {
      const started = await startDevice(apps.device);
      const b = createBrowser(apps.user.app);
      const page = await b.get(`/device?user_code=${encodeURIComponent(started.user_code)}`);
      assert.equal(page.statusCode, 200);
      assert.ok(page.body.includes(`value="${started.user_code}"`));
      assert.equal(page.headers['x-frame-options'], 'DENY');
      assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
      apps.advance(5_000);
      assertOAuthError(await poll(apps.device, 'tv', started.device_code), 'authorization_pending');
    });
  });
}

/** One embedded instance: SQLite in memory, the in-process store, a frozen clock. */
async function embedded(env: Record<string, string> = {}): Promise<Instances> {
  let clock = Date.UTC(2030, 0, 1, 9, 0, 0);
  const t = await createOAuthApp({ clients: deviceClients(), env, now: () => clock });
  return { device: t, user: t, advance: (ms) => void (clock += ms), close: () => t.close() };
}

const postgres = await probePostgres();
const redis = await probeRedis();
const sharedSkip = skipUnless(postgres) || skipUnless(redis);

/** Two instances sharing PostgreSQL and Redis; their clock is real time plus an offset tests move. */
async function shared(env: Record<string, string> = {}): Promise<Instances> {
  const scratch = await createTestDatabase();
  let offset = 0;
  const now = () => Date.now() + offset;
  const common = { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix(), ...env };
  const a = await createOAuthApp({ clients: deviceClients(), env: common, now });
  const b = await createOAuthApp({ clients: deviceClients(), env: common, now });
  return {
    device: a,
    user: b,
    advance: (ms) => void (offset += ms),
    close: async () => {
      await Promise.allSettled([a.close(), b.close()]);
      await scratch.drop();
    },
  };
}

deviceSuite('SQLite + in-process store', embedded);
deviceSuite('two instances, PostgreSQL + Redis', shared, sharedSkip);

describe('user codes are rate limited against guessing, across instances', () => {
  for (const [name, open, skip] of [['embedded', embedded, false], ['two instances', shared, sharedSkip]] as const) {
    it(`${name}: wrong codes count per IP; past the limit even a right code is refused with 429 and Retry-After`, { skip }, async () => {
      const apps = await open({ GATEHOUSE_DEVICE_USER_CODE_ATTEMPTS_PER_IP: '3' });
      try {
        const started = await startDevice(apps.device);
        const onDevice = createBrowser(apps.device.app);
        const onUser = createBrowser(apps.user.app);
        // Wrong guesses spread over both instances share one budget.
        for (const [index, [instance, b]] of ([[apps.device, onDevice], [apps.user, onUser], [apps.device, onDevice]] as const).entries()) {
          const wrong = await enterCode(instance, b, 'BBBB-BBBB');
          assert.equal(wrong.statusCode, 400, `guess ${index + 1}`);
        }
        const blocked = await enterCode(apps.user, onUser, started.user_code);
        assert.equal(blocked.statusCode, 429);
        assert.ok(Number(blocked.headers['retry-after']) >= 1);
        assert.match(blocked.body, /Too many attempts/);
        apps.advance(15 * 60_000);
      } finally {
        await apps.close();
      }
    });
  }
  it('malformed codes (wrong length, 0/O/1/I, vowels) are wrong codes too', async () => {
    const apps = await embedded({ GATEHOUSE_DEVICE_USER_CODE_ATTEMPTS_PER_IP: '100' });
    try {
      const b = createBrowser(apps.user.app);
      for (const typed of ['', 'BCDF', 'BCDF-GHJK-L', 'BCDF-GHJ0', 'BCDF-GHJO', 'BCDF-GHJ1', 'BCDF-GHJI', 'BCDF-GHJA', 'x'.repeat(500)]) {
        const response = await enterCode(apps.user, b, typed);
        assert.equal(response.statusCode, 400, JSON.stringify(typed.slice(0, 20)));
      }
    } finally {
      await apps.close();
    }
  });
});
