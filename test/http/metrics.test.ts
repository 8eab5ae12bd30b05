/**
 * `/metrics`: where it is served (admin listener; the main port only in development), that
 * Prometheus' own parser accepts it, and that each auth metric family moves when its event
 * happens through the HTTP API. Label values are checked to stay in their closed sets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createTestApp, TEST_MASTER_KEY, type TestApp } from '../support/app.ts';
import { linkToken, PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { basic, clientToken, createOAuthApp, introspect, listeningApp, nativeSignIn, readEvents, refresh, revoke, SECRETS, tokens } from '../support/oauth.ts';
import { promtool, promtoolSkip } from '../support/promtool.ts';
import { loadConfig } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/main.ts';

/** `name{labels} value` lines of an exposition, keyed by `name{labels}` exactly as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** The value of one series (0 when absent), labels given in the order prom-client prints them. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const entries = Object.entries(labels);
  const key = entries.length === 0 ? name : `${name}{${entries.map(([label, v]) => `${label}="${v}"`).join(',')}}`;
  return samples(text).get(key) ?? 0;
}

async function scrape(t: TestApp): Promise<string> {
  const response = await t.app.inject({ url: '/metrics' });
  assert.equal(response.statusCode, 200, response.body);
  return response.body;
}

/** Runs `action` and returns how much the series grew meanwhile. */
async function delta(t: TestApp, name: string, labels: Record<string, string>, action: () => Promise<unknown>): Promise<number> {
  const before = value(await scrape(t), name, labels);
  await action();
  return value(await scrape(t), name, labels) - before;
}

const PRODUCTION = {
  GATEHOUSE_ENV: 'production',
  GATEHOUSE_PUBLIC_URL: 'https://auth.example.com',
  GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:1',
};

describe('where /metrics is served', () => {
  it('development without an admin port: on the main port', async () => {
    const t = await createTestApp();
    try {
      await t.app.inject({ url: '/healthz' });
      const response = await t.app.inject({ url: '/metrics' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/plain/);
      assert.match(response.body, /^gatehouse_http_requests_total\{/m);
    } finally {
      await t.close();
    }
  });

  it('production: /metrics is 404 on the main port, health checks stay there', async () => {
    const t = await createTestApp({ env: PRODUCTION });
    try {
      const metrics = await t.app.inject({ url: '/metrics' });
      assert.equal(metrics.statusCode, 404);
      assert.equal(metrics.json().error, 'not_found');
      assert.doesNotMatch(metrics.body, /gatehouse_/);
      assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200);
      assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  describe('production server with its admin listener', () => {
    let server: RunningServer;
    before(async () => {
      const config = loadConfig({
        env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, GATEHOUSE_DATABASE_URL: 'sqlite::memory:', GATEHOUSE_PORT: '0', GATEHOUSE_ADMIN_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' },
      });
      assert.equal(config.adminHost, '127.0.0.1', 'loopback by default');
      server = await startServer(config, { logStream: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
    });
    after(() => server?.close());

    it('serves /metrics, /healthz and /readyz on the admin port, /metrics nowhere else', async () => {
      assert.ok(server.adminUrl, 'the admin listener is on by default in production');
      assert.notEqual(server.adminUrl, server.url);
      const metrics = await fetch(`${server.adminUrl}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^gatehouse_process_cpu_seconds_total /m);
      assert.equal((await fetch(`${server.adminUrl}/healthz`)).status, 200);
      assert.equal((await fetch(`${server.adminUrl}/readyz`)).status, 200);

      const publicMetrics = await fetch(`${server.url}/metrics`);
      assert.equal(publicMetrics.status, 404);
      assert.doesNotMatch(await publicMetrics.text(), /gatehouse_/);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'load balancers still reach health on the main port');
    });

    it('serves nothing of the public API on the admin port', async () => {
      for (const path of ['/oauth/token', '/.well-known/openid-configuration', '/openapi.json', '/api/auth/session', '/metrics/../oauth/jwks']) {
        const response = await fetch(`${server.adminUrl}${path}`);
        assert.equal(response.status, 404, path);
        await response.arrayBuffer();
      }
      const post = await fetch(`${server.adminUrl}/metrics`, { method: 'POST' });
      assert.equal(post.status, 404, 'GET only');
      await post.arrayBuffer();
    });
  });

  it('GATEHOUSE_ADMIN_PORT=off: no admin listener, and production still keeps /metrics off the main port', () => {
    const config = loadConfig({ env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, GATEHOUSE_ADMIN_PORT: 'off' } });
    assert.equal(config.adminPort, undefined);
    assert.equal(loadConfig({ env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY } }).adminPort, 9464);
    assert.equal(loadConfig({ env: {} }).adminPort, undefined, 'development: no second port unless asked');
  });
});

describe('the exposition', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp();
  });
  after(() => t.close());

  it('promtool check metrics accepts it, with traffic in every family', { skip: promtoolSkip() }, async () => {
    await registerAndSignIn(t, 'lint@example.com');
    await introspect(t, await clientToken(t));
    const result = promtool(['check', 'metrics'], await scrape(t));
    // prom-client's own process gauges are named `nodejs_active_*_total`; promtool's linter
    // flags that naming (exit 3). Anything else — a parse error or a finding about one of our
    // families — fails.
    const findings = result.output.split('\n').filter((line) => line.trim() !== '');
    const foreign = findings.filter((line) => !/^gatehouse_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/.test(line));
    assert.deepEqual(foreign, [], result.output);
    assert.ok(result.status === 0 || (result.status === 3 && findings.length > 0), `promtool exit ${String(result.status)}: ${result.output}`);
  });

  it('reports event-loop delay (perf_hooks.monitorEventLoopDelay) and no unbounded labels', async () => {
    const text = await scrape(t);
    for (const name of ['gatehouse_nodejs_eventloop_lag_p99_seconds', 'gatehouse_nodejs_eventloop_lag_max_seconds']) {
      assert.ok(Number.isFinite(value(text, name)) && samples(text).has(name), name);
    }
    assert.doesNotMatch(text, /@example\.com|client_id=|user_id=|svc|mobile/, 'no emails, client or user ids in labels');
  });
});

describe('auth metrics move with their events', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp({ env: { GATEHOUSE_LOCKOUT_THRESHOLD: '3', GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS: '0' } });
  });
  after(() => t.close());

  it('gatehouse_sign_ups_total: new address success, existing address failure', async () => {
    assert.equal(await delta(t, 'gatehouse_sign_ups_total', { method: 'password', outcome: 'success' }, () => postJSON(t, '/api/auth/sign-up', { email: 'new@example.com', password: PASSWORD })), 1);
    assert.equal(await delta(t, 'gatehouse_sign_ups_total', { method: 'password', outcome: 'failure' }, () => postJSON(t, '/api/auth/sign-up', { email: 'new@example.com', password: PASSWORD })), 1);
  });

  it('gatehouse_sign_ins_total by outcome, and gatehouse_audit_events_total', async () => {
    await registerAndSignIn(t, 'signin@example.com');
    const good = () => postJSON(t, '/api/auth/sign-in', { email: 'signin@example.com', password: PASSWORD });
    const bad = () => postJSON(t, '/api/auth/sign-in', { email: 'signin@example.com', password: 'not the password' });
    assert.equal(await delta(t, 'gatehouse_sign_ins_total', { method: 'password', outcome: 'success' }, good), 1);
    assert.equal(await delta(t, 'gatehouse_sign_ins_total', { method: 'password', outcome: 'failure' }, bad), 1);
    assert.equal(await delta(t, 'gatehouse_audit_events_total', { type: 'sign-in', outcome: 'success' }, good), 1);
  });

  it('gatehouse_lockouts_total: attempts refused by the lockout', async () => {
    await registerAndSignIn(t, 'locked@example.com');
    for (let i = 0; i < 3; i++) await postJSON(t, '/api/auth/sign-in', { email: 'locked@example.com', password: `wrong ${i}` });
    const grew = await delta(t, 'gatehouse_lockouts_total', {}, async () => {
      const refused = await postJSON(t, '/api/auth/sign-in', { email: 'locked@example.com', password: PASSWORD });
      assert.equal(refused.statusCode, 429);
    });
    assert.equal(grew, 1);
  });

  it('gatehouse_password_resets_total: requested and completed', async () => {
    await registerAndSignIn(t, 'reset@example.com');
    assert.equal(await delta(t, 'gatehouse_password_resets_total', { stage: 'requested' }, () => postJSON(t, '/api/auth/forgot-password', { email: 'reset@example.com' })), 1);
    const token = linkToken(t, 'reset@example.com', '/reset-password');
    assert.equal(await delta(t, 'gatehouse_password_resets_total', { stage: 'completed' }, async () => {
      assert.equal((await postJSON(t, '/api/auth/reset-password', { token, password: 'a brand new passphrase' })).statusCode, 200);
    }), 1);
  });

  it('gatehouse_tokens_issued_total by grant type; failed requests do not count', async () => {
    assert.equal(await delta(t, 'gatehouse_tokens_issued_total', { grant_type: 'client_credentials' }, () => clientToken(t)), 1);
    assert.equal(await delta(t, 'gatehouse_tokens_issued_total', { grant_type: 'client_credentials' }, async () => {
      const refused = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('svc', 'wrong') }, payload: 'grant_type=client_credentials' });
      assert.equal(refused.statusCode, 401);
    }), 0);
  });

  it('gatehouse_tokens_issued_total counts a first-party sign-in over the JSON API as first_party', async () => {
    assert.equal(await delta(t, 'gatehouse_tokens_issued_total', { grant_type: 'first_party' }, async () => {
      await nativeSignIn(t, 'first-party-metric@example.com');
    }), 1);
    // A browser sign-in (no client_id: a session cookie, no tokens) does not count.
    assert.equal(await delta(t, 'gatehouse_tokens_issued_total', { grant_type: 'first_party' }, async () => {
      await registerAndSignIn(t, 'browser-metric@example.com');
    }), 0);
  });

  it('gatehouse_refresh_token_rotations_total and gatehouse_token_reuse_detected_total', async () => {
    const session = await nativeSignIn(t, 'rotate@example.com');
    let rotated = '';
    assert.equal(await delta(t, 'gatehouse_refresh_token_rotations_total', {}, async () => {
      rotated = tokens(await refresh(t, 'mobile', session.refresh_token)).refresh_token!;
    }), 1);
    assert.equal(await delta(t, 'gatehouse_tokens_issued_total', { grant_type: 'refresh_token' }, async () => {
      tokens(await refresh(t, 'mobile', rotated));
    }), 1);
    // With no retry window, presenting a rotated token again is reuse: the grant is revoked.
    assert.equal(await delta(t, 'gatehouse_token_reuse_detected_total', { token: 'refresh_token' }, async () => {
      assert.equal((await refresh(t, 'mobile', session.refresh_token)).statusCode, 400);
    }), 1);
  });

  it('gatehouse_revocations_total: a refresh token revokes its grant, an access token itself', async () => {
    const session = await nativeSignIn(t, 'revoke@example.com');
    assert.equal(await delta(t, 'gatehouse_revocations_total', { what: 'access_token' }, async () => {
      assert.equal((await revoke(t, session.access_token, 'mobile')).statusCode, 200);
    }), 1);
    assert.equal(await delta(t, 'gatehouse_revocations_total', { what: 'grant' }, async () => {
      assert.equal((await revoke(t, session.refresh_token, 'mobile')).statusCode, 200);
    }), 1);
  });

  it('gatehouse_introspections_total by result', async () => {
    const token = await clientToken(t);
    assert.equal(await delta(t, 'gatehouse_introspections_total', { result: 'active' }, () => introspect(t, token)), 1);
    assert.equal(await delta(t, 'gatehouse_introspections_total', { result: 'inactive' }, () => introspect(t, 'not-a-token')), 1);
  });
});

describe('gatehouse_revocation_stream_subscribers', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    ({ t, base } = await listeningApp());
  });
  after(() => t.close());

  const subscribers = async (): Promise<number> => value(await (await fetch(`${base}/metrics`)).text(), 'gatehouse_revocation_stream_subscribers');

  it('counts open streams and drops when one closes', async () => {
    assert.equal(await subscribers(), 0);
    const abort = new AbortController();
    const response = await fetch(`${base}/api/revocations/stream`, { headers: { accept: 'text/event-stream', authorization: basic('rs', SECRETS.rs!) }, signal: abort.signal });
    assert.equal(response.status, 200);
    const stream = readEvents(response, abort);
    // The subscription is up once the stream says so (the backlog has been sent).
    await stream.next(() => true, 0);
    for (let i = 0; i < 1000 && !stream.comments.includes('ready'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(stream.comments.includes('ready'), 'the stream is live');
    assert.equal(await subscribers(), 1);
    await stream.close();
    let left = await subscribers();
    for (let i = 0; i < 1000 && left !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      left = await subscribers();
    }
    assert.equal(left, 0, 'the closed stream is no longer counted');
  });
});
