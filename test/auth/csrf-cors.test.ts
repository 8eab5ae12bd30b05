/** CSRF, CORS and response hygiene on the JSON API (SEC-ASVS-07, -11, -12, -13). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, linkToken, postJSON, registerAndSignIn, whoami } from '../support/auth.ts';

describe('CSRF and CORS on the JSON API', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = await createTestApp({ env: { GATEHOUSE_FIRST_PARTY_ORIGINS: 'https://app.example.com' } });
    cookie = await registerAndSignIn(t, 'csrf@example.com');
  });
  after(() => t.close());

  it('SEC-ASVS-07: a state-changing request from a foreign origin is refused without effect', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: 'http://localhost:3000.evil.example' }]) {
      const response = await postJSON(t, '/api/auth/sign-out', {}, { cookie, ...headers });
      assert.equal(response.statusCode, 403, JSON.stringify(headers));
      assert.equal(response.json().error, 'csrf_failed');
    }
    const noOrigin = await t.app.inject({ method: 'POST', url: '/api/auth/sign-out', headers: { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, payload: '{}' });
    assert.equal(noOrigin.statusCode, 403, 'Sec-Fetch-Site: cross-site without Origin');
    assert.equal((await whoami(t, cookie)).statusCode, 200, 'still signed in');
  });

  it('SEC-ASVS-07: form and text/plain bodies (what a cross-site form can send) are refused on the JSON API', async () => {
    for (const [type, payload] of [['text/plain', '{"email":"csrf@example.com","password":"x"}'], ['application/x-www-form-urlencoded', 'email=csrf%40example.com&password=x'], ['multipart/form-data; boundary=x', '--x--']] as const) {
      const response = await t.app.inject({ method: 'POST', url: '/api/auth/sign-in', headers: { 'content-type': type, origin: 'http://localhost:3000' }, payload });
      assert.equal(response.statusCode, 415, type);
    }
    const withoutType = await t.app.inject({ method: 'POST', url: '/api/auth/sign-out', headers: { cookie, origin: 'http://localhost:3000' } });
    assert.equal(withoutType.statusCode, 415);
  });

  it('SEC-ASVS-07: first-party origins are allowed', async () => {
    const response = await postJSON(t, '/api/auth/sign-in', { email: 'csrf@example.com', password: PASSWORD }, { origin: 'https://app.example.com' });
    assert.equal(response.statusCode, 200);
  });

  it('SEC-ASVS-11: CORS credentials only for configured first-party origins, never reflected', async () => {
    const evil = await t.app.inject({ url: '/api/auth/session', headers: { cookie, origin: 'https://evil.example' } });
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const nullOrigin = await t.app.inject({ url: '/api/auth/session', headers: { cookie, origin: 'null' } });
    assert.equal(nullOrigin.headers['access-control-allow-origin'], undefined);
    const preflightEvil = await t.app.inject({ method: 'OPTIONS', url: '/api/auth/sign-in', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflightEvil.headers['access-control-allow-origin'], undefined);
    assert.ok(preflightEvil.statusCode >= 400);
    const app = await t.app.inject({ url: '/api/auth/session', headers: { cookie, origin: 'https://app.example.com' } });
    assert.equal(app.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(app.headers['access-control-allow-credentials'], 'true');
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/api/auth/sign-in', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.statusCode, 204);
  });

  it('SEC-ASVS-12: responses with session state are not cacheable', async () => {
    for (const response of [await whoami(t, cookie), await postJSON(t, '/api/auth/sign-in', { email: 'csrf@example.com', password: PASSWORD })]) {
      assert.equal(response.headers['cache-control'], 'no-store');
    }
  });
});

describe('SEC-ASVS-13: no secret in any log line', () => {
  it('passwords, session tokens and link tokens used in a full flow never reach the logs', async () => {
    const t = await createTestApp();
    try {
      const secrets: string[] = [];
      const password = 'log canary passphrase 9183';
      const newPassword = 'second log canary phrase 2291';
      secrets.push(password, newPassword);
      const first = await registerAndSignIn(t, 'logs@example.com', password);
      secrets.push(first.split('=')[1]!, linkToken(t, 'logs@example.com', '/verify-email'));
      await postJSON(t, '/api/auth/sign-in', { email: 'logs@example.com', password: 'wrong canary 5521' });
      secrets.push('wrong canary 5521');
      await postJSON(t, '/api/auth/forgot-password', { email: 'logs@example.com' });
      const reset = linkToken(t, 'logs@example.com', '/reset-password');
      secrets.push(reset);
      await t.app.inject({ url: `/reset-password?token=${reset}` });
      await postJSON(t, '/api/auth/reset-password', { token: reset, password: newPassword });
      const text = t.logText();
      assert.ok(text.length > 1000, 'debug logging produced output');
      for (const secret of secrets) {
        for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
          assert.ok(!text.includes(form), `a log line contains a secret (${secret.slice(0, 6)}…)`);
        }
      }
    } finally {
      await t.close();
    }
  });
});
