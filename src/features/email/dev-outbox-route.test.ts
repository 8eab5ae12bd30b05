import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createDevOutbox } from './mailer.ts';
import { linkify, registerDevOutboxRoute } from './dev-outbox-route.ts';

describe('GET /dev/outbox', () => {
  async function setup() {
    const outbox = createDevOutbox({ now: () => 1_800_000_000_000 });
    const app = Fastify();
    registerDevOutboxRoute(app, outbox);
    await app.ready();
    return { app, outbox };
  }

  it('lists mails as escaped HTML with clickable links', async () => {
    const { app, outbox } = await setup();
    try {
      await outbox.send({ to: '<script>x</script>@example.com', subject: 'Hi <img src=x onerror=alert(1)>', text: 'Open https://auth.example.com/verify-email?token=abc&x=1 now.\n<b>bold</b>' });
      const response = await app.inject({ method: 'GET', url: '/dev/outbox' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.doesNotMatch(response.body, /<script>|<img|<b>/);
      assert.match(response.body, /&lt;script&gt;x&lt;\/script&gt;@example\.com/);
      assert.ok(response.body.includes('<a href="https://auth.example.com/verify-email?token=abc&amp;x=1">'));
    } finally {
      await app.close();
    }
  });

  it('serves the same mails as JSON', async () => {
    const { app, outbox } = await setup();
    try {
      await outbox.send({ to: 'a@example.com', subject: 'one', text: 'body' });
      const response = await app.inject({ method: 'GET', url: '/dev/outbox.json' });
      assert.equal(response.statusCode, 200);
      const body = response.json() as { mails: { to: string; subject: string; text: string; at: number }[] };
      assert.equal(body.mails.length, 1);
      assert.deepEqual({ ...body.mails[0], id: undefined }, { id: undefined, to: 'a@example.com', subject: 'one', text: 'body', at: 1_800_000_000_000 });
    } finally {
      await app.close();
    }
  });

  it('shows the HTML part in a sandboxed frame served under its own locked-down CSP, and the text part', async () => {
    const { app, outbox } = await setup();
    try {
      await outbox.send({ to: 'a@example.com', subject: 'Styled', text: 'Plain part', html: '<p style="color:#8a1538">Styled part</p><script>alert(1)</script>' });
      const page = await app.inject({ method: 'GET', url: '/dev/outbox', headers: { 'accept-language': 'de' } });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<html lang="de"/);
      assert.match(page.body, /Entwicklungs-Postausgang/);
      assert.match(page.body, /Plain part/);
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'.*frame-src 'self'/);
      const id = outbox.list()[0]!.id;
      assert.ok(page.body.includes(`<iframe src="/dev/outbox/${id}/html" sandbox=""`));
      assert.doesNotMatch(page.body, /<script>alert/, 'the source view is escaped');
      const part = await app.inject({ method: 'GET', url: `/dev/outbox/${id}/html` });
      assert.equal(part.statusCode, 200);
      assert.match(String(part.headers['content-security-policy']), /default-src 'none'; style-src 'unsafe-inline'.*sandbox$/);
      assert.equal(part.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal((await app.inject({ method: 'GET', url: '/dev/outbox/00000000-0000-0000-0000-000000000000/html' })).statusCode, 404);
      assert.equal((await app.inject({ method: 'GET', url: '/dev/outbox/..%2F..%2Fetc/html' })).statusCode, 404);
    } finally {
      await app.close();
    }
  });

  it('linkify only links http(s) URLs and stops at quotes and angle brackets', () => {
    assert.equal(linkify('javascript:alert(1)'), 'javascript:alert(1)');
    assert.equal(linkify('x "https://a.example/"><script>'), 'x &quot;<a href="https://a.example/">https://a.example/</a>&quot;&gt;&lt;script&gt;');
  });
});
