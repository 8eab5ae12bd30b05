import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { apiError } from '../../src/errors/catalog.ts';

describe('HTTP foundation', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      beforeReady: (app) => {
        app.post('/__test/echo', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 10 } } } } }, async (request) => request.body);
        app.get('/__test/boom', async () => {
          throw new Error('database password is hunter2 at /secret/path');
        });
        app.get('/__test/conflict', async () => {
          throw apiError('conflict', 'Already exists.', { detail: 'row 42' });
        });
        app.get('/__test/log-secret', async (request) => {
          request.log.info({ password: 'pw-should-not-leak', nested: { refresh_token: 'rt-should-not-leak' }, code: 'code-should-not-leak' }, 'logging a secret-shaped object');
          return { ok: true };
        });
      },
    });
  });
  after(() => t.close());

  it('serves /healthz and /readyz', async () => {
    const health = await t.app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 200);
    const ready = await t.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json().checks, { database: 'ok', ephemeral: 'ok' });
  });

  it('answers malformed JSON with 400 invalid_request', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/__test/echo', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { error: 'invalid_request', error_description: 'The request body is not valid JSON.' });
  });

  it('answers schema violations with 400 naming the field', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/__test/echo', payload: { name: 'x'.repeat(50) } });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_request');
    assert.match(response.json().error_description, /name/);
  });

  it('answers a body over the limit with 413', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/__test/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(70_000) }) });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error, 'payload_too_large');
  });

  it('answers an unsupported content type with 415', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/__test/echo', headers: { 'content-type': 'application/xml' }, payload: '<name/>' });
    assert.equal(response.statusCode, 415);
    assert.equal(response.json().error, 'unsupported_media_type');
  });

  it('answers unknown routes with 404 and wrong methods with 405 + Allow', async () => {
    const missing = await t.app.inject({ url: '/no/such/thing' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: 'not_found', error_description: 'No such endpoint.' });
    const wrongMethod = await t.app.inject({ method: 'DELETE', url: '/healthz' });
    assert.equal(wrongMethod.statusCode, 405);
    assert.equal(wrongMethod.json().error, 'method_not_allowed');
    assert.match(String(wrongMethod.headers.allow), /GET/);
  });

  it('turns unexpected errors into a bare 500 server_error, logged with the request id', async () => {
    const response = await t.app.inject({ url: '/__test/boom' });
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { error: 'server_error', error_description: 'The server encountered an unexpected condition.' });
    assert.doesNotMatch(response.body, /hunter2|stack|\/secret/);
    const requestId = String(response.headers['x-request-id']);
    const logged = t.logText().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(logged.some((line) => line.reqId === requestId && line.level === 50), 'the 500 is logged at error level with its request id');
  });

  it('sends catalogued errors with their status and without internal detail', async () => {
    const response = await t.app.inject({ url: '/__test/conflict' });
    assert.equal(response.statusCode, 409);
    assert.deepEqual(response.json(), { error: 'conflict', error_description: 'Already exists.' });
  });

  it('sets security headers on every response, errors included', async () => {
    for (const url of ['/healthz', '/no/such/thing', '/__test/boom']) {
      const response = await t.app.inject({ url });
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(response.headers['x-frame-options'], 'DENY', url);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
      assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/, url);
      assert.ok(response.headers['x-request-id'], url);
      assert.equal(response.headers['strict-transport-security'], undefined, 'no HSTS outside production');
    }
  });

  it('redacts secret-named fields, credentials headers and sensitive query values from logs', async () => {
    await t.app.inject({ url: '/__test/log-secret?code=qs-code-should-not-leak&state=st-should-not-leak&x=1', headers: { authorization: 'Bearer bearer-should-not-leak', cookie: 'sid=cookie-should-not-leak' } });
    const text = t.logText();
    for (const secret of ['pw-should-not-leak', 'rt-should-not-leak', 'code-should-not-leak', 'qs-code-should-not-leak', 'st-should-not-leak', 'bearer-should-not-leak', 'cookie-should-not-leak']) {
      assert.ok(!text.includes(secret), `log contains ${secret}`);
    }
    assert.match(text, /logging a secret-shaped object/);
  });

  it('exposes Prometheus metrics with per-route request counts', async () => {
    await t.app.inject({ url: '/healthz' });
    const response = await t.app.inject({ url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /text\/plain/);
    assert.match(response.body, /gatehouse_http_requests_total\{method="GET",route="\/healthz",status_code="200"\} \d+/);
    assert.match(response.body, /gatehouse_http_request_duration_seconds_bucket/);
    assert.match(response.body, /gatehouse_process_cpu_seconds_total/);
  });

  it('counts each request once in the counter and the histogram, with cumulative buckets', async () => {
    const value = (body: string, pattern: RegExp): number => Number(pattern.exec(body)?.[1] ?? Number.NaN);
    const before = (await t.app.inject({ url: '/metrics' })).body;
    const counted = value(before, /gatehouse_http_requests_total\{method="GET",route="\/readyz",status_code="200"\} (\d+)/);
    for (let index = 0; index < 3; index++) assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
    const body = (await t.app.inject({ url: '/metrics' })).body;
    const labels = 'method="GET",route="/readyz",status_code="200"';
    const total = value(body, new RegExp(`gatehouse_http_requests_total\\{${labels}\\} (\\d+)`));
    assert.equal(total, (Number.isNaN(counted) ? 0 : counted) + 3);
    assert.equal(value(body, new RegExp(`gatehouse_http_request_duration_seconds_count\\{${labels}\\} (\\d+)`)), total);
    const buckets = [...body.matchAll(new RegExp(`gatehouse_http_request_duration_seconds_bucket\\{le="([^"]+)",${labels}\\} (\\d+)`, 'g'))].map((match) => ({ le: match[1], count: Number(match[2]) }));
    assert.equal(buckets.length, 12, body);
    assert.equal(buckets.at(-1)!.le, '+Inf');
    assert.equal(buckets.at(-1)!.count, total);
    for (let index = 1; index < buckets.length; index++) assert.ok(buckets[index]!.count >= buckets[index - 1]!.count, 'cumulative');
    assert.ok(value(body, new RegExp(`gatehouse_http_request_duration_seconds_sum\\{${labels}\\} ([0-9.e-]+)`)) > 0);
  });

  it('serves an OpenAPI 3.1 document', async () => {
    const response = await t.app.inject({ url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.info.title, 'Gatehouse');
    assert.ok(document.paths['/__test/echo'], 'route schemas appear in the document');
  });
});

describe('HTTP foundation in production mode', () => {
  it('adds HSTS', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_ENV: 'production', GATEHOUSE_PUBLIC_URL: 'https://auth.example.com', GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:1' } });
    try {
      const response = await t.app.inject({ url: '/healthz' });
      assert.match(String(response.headers['strict-transport-security']), /max-age=\d+/);
    } finally {
      await t.close();
    }
  });
});
