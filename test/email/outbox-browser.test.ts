/**
 * The development outbox in Chromium: the HTML part renders in its sandboxed frame with its
 * inline styles (its own CSP allows them) while a script in it never runs, and the page itself
 * raises no CSP violation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { createDevOutbox } from '../../src/features/email/mailer.ts';
import { registerDevOutboxRoute } from '../../src/features/email/dev-outbox-route.ts';
import { registerSecurityHeaders } from '../../src/http/security-headers.ts';
import { bounded, chromiumSkip, launchChromium } from '../support/oidc.ts';

const skip = chromiumSkip();

/** The page globals the evaluated callbacks use (the test is compiled without the DOM library). */
interface PageGlobals {
  getComputedStyle(element: unknown): { color: string };
}

describe('dev outbox in Chromium', { skip }, () => {
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  const outbox = createDevOutbox();
  before(async () => {
    app = Fastify();
    registerSecurityHeaders(app, { production: false });
    registerDevOutboxRoute(app, outbox);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });
  after(async () => {
    await bounded(browser?.close());
    await app.close();
  });

  it('renders the styled HTML part in its frame; scripts in it do not run; no CSP violation on the page', async () => {
    await outbox.send({ to: 'a@example.com', subject: 'Styled', text: 'Plain part', html: '<!doctype html><p id="p" style="color:#8a1538">Styled part</p><script>parent.document.title = "pwned"; document.body.dataset.ran = "yes"</script>' });
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    try {
      await page.goto(`${base}/dev/outbox`);
      const frame = await (await page.waitForSelector('iframe')).contentFrame();
      assert.ok(frame);
      await frame.waitForSelector('#p');
      assert.equal(await frame.$eval('#p', (element) => (globalThis as unknown as PageGlobals).getComputedStyle(element).color), 'rgb(138, 21, 56)');
      assert.equal(await frame.$eval('body', (element) => (element as unknown as { dataset: Record<string, string | undefined> }).dataset.ran ?? 'no'), 'no');
      assert.notEqual(await page.title(), 'pwned');
      assert.match(await page.textContent('pre') ?? '', /Plain part/);
      const pageViolations = violations.filter((text) => !/script/i.test(text));
      assert.deepEqual(pageViolations, []);
    } finally {
      await page.close();
    }
  });
});
