/**
 * SEC-ASVS-13, SEC-SESS-05: a credential a client puts in a URL — a live session token as
 * `?session=`, `;jsessionid=`, `?sid=`, a refresh token as `?t=` — is never accepted from there and
 * never written to the log in clear (raw, URL-encoded or base64). A corpus of URLs goes through
 * the real app at debug level and the captured log is searched for every secret in it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { registerAndSignIn, whoami } from '../support/auth.ts';
import { redactUrl } from '../../src/http/logging.ts';

describe('SEC-ASVS-13 credentials in URLs are masked in the log', () => {
  let t: TestApp;
  let token: string;

  before(async () => {
    t = await createTestApp();
    const cookie = await registerAndSignIn(t, 'url-redaction@example.com');
    token = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
    assert.equal((await whoami(t, cookie)).statusCode, 200, 'the token is a live session');
  });
  after(() => t.close());

  /** Every way a client might smuggle `secret` into a URL. */
  const corpus = (secret: string): string[] => {
    const encoded = encodeURIComponent(secret);
    return [
      `/api/auth/session?session=${encoded}`,
      `/api/auth/session?sid=${encoded}`,
      `/api/auth/session?SESSIONID=${encoded}`,
      `/api/auth/session;jsessionid=${encoded}`,
      `/api/auth/session;JSESSIONID=${encoded}?x=1`,
      `/api/auth/session;sid=${encoded};other=1`,
      `/api/auth/session?x=1&session_token=${encoded}&y=2`,
      `/api/auth/session?access_token=${encoded}`,
      `/api/auth/session?refresh_token=${encoded}`,
      `/api/auth/session?id_token_hint=${encoded}`,
      `/api/auth/session?client_secret=${encoded}`,
      `/api/auth/session?api_key=${encoded}`,
      `/api/auth/session?apikey=${encoded}`,
      `/api/auth/session?key=${encoded}`,
      `/api/auth/session?password=${encoded}`,
      `/api/auth/session?passwd=${encoded}`,
      `/api/auth/session?pwd=${encoded}`,
      `/api/auth/session?otp=${encoded}`,
      `/api/auth/session?code=${encoded}`,
      `/api/auth/session?code_verifier=${encoded}`,
      `/api/auth/session?assertion=${encoded}`,
      `/api/auth/session?client_assertion=${encoded}`,
      `/api/auth/session?auth=${encoded}`,
      `/api/auth/session?authorization=${encoded}`,
      `/api/auth/session?ticket=${encoded}`,
      `/api/auth/session?sig=${encoded}`,
      `/api/auth/session?signature=${encoded}`,
      `/api/auth/session?state=${encoded}`,
      `/api/auth/session?nonce=${encoded}`,
      `/api/auth/session?credential=${encoded}`,
      `/api/auth/session?cookie=${encoded}`,
      `/api/auth/session?%73ession=${encoded}`,
      `/api/auth/session?t=${encoded}`,
      `/api/auth/session?${encoded}`,
      `/api/auth/session/${encoded}`,
      `/api/auth/session?session=${encoded}&session=${encoded}`,
      `/reset-password?token=${encoded}`,
      `/api/auth/session?b=${Buffer.from(secret).toString('base64url')}`,
    ];
  };

  it('a live session token placed in the URL authenticates nothing and reaches the log masked (SEC-SESS-05)', async () => {
    for (const url of corpus(token)) {
      const response = await t.app.inject({ url });
      if (url.startsWith('/api/auth/session')) assert.notEqual(response.statusCode, 200, `${url.slice(0, 40)}: a token in the URL is not a credential`);
    }
    const log = t.logText();
    assert.ok(log.includes('/api/auth/session'), 'the requests were logged');
    for (const form of [token, encodeURIComponent(token), Buffer.from(token).toString('base64url'), Buffer.from(token).toString('base64')]) {
      assert.ok(!log.includes(form), `the log holds the token (${form === token ? 'raw' : 'encoded'})`);
    }
  });

  it('a short secret behind a credential-like name is masked too; harmless parameters stay readable', () => {
    for (const url of corpus('hunter2')) {
      if (url.includes('?t=') || url.includes('?b=') || url.endsWith('?hunter2') || url.endsWith('/hunter2')) continue; // no name to go by, too short to look like a token
      assert.ok(!redactUrl(url).includes('hunter2'), `${url} → ${redactUrl(url)}`);
    }
    const plain = '/oauth/authorize?client_id=notes&response_type=code&scope=openid%20email&redirect_uri=https%3A%2F%2Fapp.example%2Fcb';
    assert.equal(redactUrl(plain), plain);
    assert.equal(redactUrl('/api/admin/clients/notes'), '/api/admin/clients/notes');
    assert.equal(redactUrl('/api/auth/sessions/01JDXQ5N3K8Z7Y6W5V4T3S2R1Q'), '/api/auth/sessions/01JDXQ5N3K8Z7Y6W5V4T3S2R1Q');
  });

  it('a URL inside a value (return_to, redirect_uri) is redacted too; a fragment is dropped; stray % and + do not hide a secret', () => {
    const secret = 'Zq3xY8vB2nM5kL7pQ1wE4rT6yU9iO0aS_-dFgHjK12';
    const cases = [
      `/login?return_to=${encodeURIComponent(`/authorize/continue?interaction=${secret}`)}`,
      `/login?return_to=${encodeURIComponent(`/reset-password?token=${secret}`)}`,
      `/login?next=${encodeURIComponent(`/x?a=1&session=hunter2${secret}`)}`,
      `/x?a=1#access_token=${secret}`,
      `/x?foo=${secret}%`,
      `/x?foo=${secret.slice(0, 20)}+${secret.slice(20)}`,
      `/x%3Bjsessionid=${secret}`,
      `/api/auth/session%3bsid=${secret}`,
    ];
    for (const url of cases) assert.ok(!redactUrl(url).includes(secret.slice(4, 30)), `${url} → ${redactUrl(url)}`);
    assert.equal(redactUrl('/login?return_to=%2Faccount'), '/login?return_to=%2Faccount', 'a harmless return_to stays readable');
  });

  it('malformed percent-encoding does not throw and is still masked by name', () => {
    assert.ok(!redactUrl('/x?session=%E0%A4%A&a=%').includes('%E0%A4%A'));
    assert.ok(!redactUrl('/x;jsessionid=%ZZsecret').includes('secret'));
  });
});
