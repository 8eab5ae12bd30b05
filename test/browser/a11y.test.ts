/**
 * Issue 18, "Accessibility": axe-core (the npm package) on every hosted page and state
 * (test/support/page-tour.ts) in Chromium, in the light and the dark colour scheme, with the
 * WCAG 2.0/2.1 A and AA rules — colour-contrast included, which is how both themes' contrast is
 * checked. Any `serious` or `critical` violation fails, listed with its page, state, rule and
 * element; so does a Content-Security-Policy report in the console. axe is evaluated through the
 * DevTools protocol (`page.evaluate`), which the pages' nonce CSP does not govern.
 * One browser, one context per scheme, one account per scheme; no sleeps.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { bounded, chromiumSkip, launchChromium } from '../support/oidc.ts';
import { newTourRun, startTourServer, TOUR, walkTour, type TourServer } from '../support/page-tour.ts';

const skip = chromiumSkip();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const FAILING_IMPACTS = new Set(['serious', 'critical']);
const STEP_TIMEOUT_MS = 15_000;

interface AxeNode { target: string[]; html: string; failureSummary?: string }
interface AxeViolation { id: string; impact: string | null; help: string; nodes: AxeNode[] }
/** What the audit calls inside the page (the test tsconfig has no DOM types). */
interface AxeGlobals {
  axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> };
  document: unknown;
}

/** The serious and critical WCAG A/AA violations on the page as it is now, one line per element. */
async function audit(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
  const violations = await page.evaluate(async (tags) => {
    const { axe, document } = globalThis as unknown as AxeGlobals;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.map((node) => ({ target: node.target.map(String), html: node.html, failureSummary: node.failureSummary })) }));
  }, TAGS);
  return violations
    .filter((violation) => FAILING_IMPACTS.has(violation.impact ?? ''))
    .flatMap((violation) => violation.nodes.map((node) => `${violation.id} (${violation.impact}: ${violation.help}) at ${node.target.join(' ')} ${node.html.slice(0, 100)}${node.failureSummary ? ` — ${node.failureSummary.replace(/\s+/g, ' ').trim()}` : ''}`));
}

describe('accessibility of every hosted page (axe-core, WCAG 2.1 AA)', { skip, timeout: 240_000, concurrency: true }, () => {
  let directory: string | undefined;
  let server: TourServer | undefined;
  let browser: Browser | undefined;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'gatehouse-a11y-'));
    server = await startTourServer({ directory });
    browser = await launchChromium();
  });

  after(async () => {
    await bounded(browser?.close());
    await bounded(server?.close());
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`${colorScheme}: no serious or critical violation on any of the ${TOUR.length} pages and states`, { timeout: 180_000 }, async () => {
      const context = await browser!.newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
      try {
        context.setDefaultTimeout(STEP_TIMEOUT_MS);
        context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
        const page = await context.newPage();
        await page.emulateMedia({ colorScheme });
        const cspReports: string[] = [];
        page.on('console', (message) => {
          if (/Content Security Policy|Refused to/i.test(message.text())) cspReports.push(`${page.url()}: ${message.text()}`);
        });
        const run = newTourRun(server!, page, colorScheme);
        const problems: string[] = [];
        let audited = 0;
        await walkTour(run, async (stop, index) => {
          if (index === 0) {
            const dark = await page.evaluate(() => (globalThis as unknown as { matchMedia(query: string): { matches: boolean } }).matchMedia('(prefers-color-scheme: dark)').matches);
            assert.equal(dark, colorScheme === 'dark', `the page sees prefers-color-scheme: ${colorScheme}`);
          }
          const where = `${stop.page} — ${stop.state} (${colorScheme}, ${new URL(page.url()).pathname})`;
          for (const line of await audit(page)) problems.push(`${where}: ${line}`);
          for (const report of cspReports.splice(0)) problems.push(`${where}: CSP: ${report}`);
          audited++;
        });
        assert.equal(audited, TOUR.length, 'every stop was audited');
        assert.equal(problems.length, 0, `${problems.length} problem(s):\n${problems.join('\n')}`);
      } finally {
        await context.close();
      }
    });
  }
});
