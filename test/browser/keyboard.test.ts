/**
 * Issue 18, "Accessibility": keyboard-only walk-throughs of sign-up, sign-in and consent in
 * Chromium. Only `page.keyboard` acts on a page (Tab, Shift+Tab, Enter, Space, typing) — no
 * clicks, no `fill`; `goto` only where a user follows a link from outside (the mailed link, the
 * application sending the browser to /oauth/authorize). Each walk asserts that Tab reaches every
 * field and then the primary button, in that order; that every element it lands on shows a
 * focus indicator (`:focus-visible` with a computed outline or box-shadow); that after a failed
 * submit the error summary has focus (when the page script is on the page); and that the flow
 * completes: the account page, or the redirect to the application with a code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { bounded, chromiumSkip, launchChromium } from '../support/oidc.ts';
import { startTourServer, TOUR_PASSWORD, type TourServer } from '../support/page-tour.ts';
import { PAGE_SCRIPT_PATH } from '../../src/ui/theme/page-script.ts';

const skip = chromiumSkip();
const STEP_TIMEOUT_MS = 15_000;
/** More Tab presses than any of these pages has stops before its form's button. */
const MAX_TABS = 40;

/** What the keyboard is on: enough to recognise it and to judge its focus indicator. */
interface Focused {
  tag: string;
  name: string;
  value: string;
  form: string;
  primary: boolean;
  errorSummary: boolean;
  focusVisible: boolean;
  indicator: string;
  label: string;
}

/** The DOM the probe reads inside the page (the test tsconfig has no DOM types). */
interface ProbeElement {
  tagName: string;
  textContent: string | null;
  form?: { getAttribute(name: string): string | null } | null;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  matches(selector: string): boolean;
}
interface ProbeGlobals {
  document: { activeElement: ProbeElement | null; body: ProbeElement; querySelector(selector: string): ProbeElement | null };
  getComputedStyle(element: ProbeElement): { outlineStyle: string; outlineWidth: string; boxShadow: string };
}

async function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as unknown as ProbeGlobals;
    const element = document.activeElement ?? document.body;
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
    return {
      tag: element.tagName.toLowerCase(),
      name: element.getAttribute('name') ?? '',
      value: element.getAttribute('value') ?? '',
      form: element.form?.getAttribute('action') ?? '',
      primary: element.matches('button[type=submit]:not(.secondary):not(.danger)'),
      errorSummary: element.hasAttribute('data-error-summary'),
      focusVisible: element.matches(':focus-visible'),
      indicator: outline ? `outline ${style.outlineWidth} ${style.outlineStyle}` : shadow ? `box-shadow ${style.boxShadow}` : '',
      label: `${element.tagName.toLowerCase()}${element.getAttribute('name') ? `[name=${element.getAttribute('name')}]` : ''} "${(element.textContent ?? '').trim().slice(0, 30)}"`,
    };
  });
}

/**
 * Presses Tab until `wanted` has focus; returns every element passed on the way. Each one must
 * show a focus indicator: a keyboard user has to see where they are.
 */
async function tabTo(page: Page, wanted: (item: Focused) => boolean, what: string, key: 'Tab' | 'Shift+Tab' = 'Tab'): Promise<Focused[]> {
  const seen: Focused[] = [];
  for (let presses = 0; presses < MAX_TABS; presses++) {
    await page.keyboard.press(key);
    const item = await focused(page);
    seen.push(item);
    if (item.tag !== 'body') {
      assert.ok(item.focusVisible, `${page.url()}: ${item.label} has focus but does not match :focus-visible`);
      assert.ok(item.indicator, `${page.url()}: ${item.label} shows no focus indicator (no outline, no box-shadow on :focus-visible)`);
    }
    if (wanted(item)) return seen;
  }
  throw new Error(`${page.url()}: ${MAX_TABS} × ${key} never reached ${what}; focus went through ${seen.map((item) => item.label).join(' → ')}`);
}

const field = (form: string, name: string) => (item: Focused) => item.form === form && item.name === name;
const primaryOf = (form: string) => (item: Focused) => item.form === form && item.primary;

/**
 * From the top of the page: Tab reaches each of `fields` of the form posting to `form`, in this
 * order, and then its primary button; each field gets `values[name]` typed (replacing what is
 * there). Ends with focus on the primary button, after checking Shift+Tab steps back off it.
 */
async function fillByKeyboard(page: Page, form: string, fields: readonly string[], values: Record<string, string>): Promise<void> {
  for (const name of fields) {
    await tabTo(page, field(form, name), `the ${name} field of ${form}`);
    if (name in values) {
      await page.keyboard.press('ControlOrMeta+A');
      if (values[name] === '') await page.keyboard.press('Delete');
      else await page.keyboard.type(values[name]!);
    }
  }
  const last = await focused(page);
  await tabTo(page, primaryOf(form), `the primary button of ${form}`);
  // Shift+Tab goes back (to the last field, or the show-password toggle right after it).
  await page.keyboard.press('Shift+Tab');
  const back = await focused(page);
  assert.ok(back.form === form && !back.primary, `Shift+Tab from the primary button of ${form} goes back into the form (got ${back.label})`);
  assert.ok(back.name === last.name || back.tag === 'button', `Shift+Tab lands on the last field or its toggle (got ${back.label})`);
  await tabTo(page, primaryOf(form), `the primary button of ${form} again`);
}

/** Presses `key` on the focused element and waits for the page it leads to. */
async function press(page: Page, key: 'Enter' | 'Space'): Promise<void> {
  const loaded = page.waitForEvent('load');
  await page.keyboard.press(key);
  await loaded;
}

/** After a failed submit: the summary is there; with the page script, it has focus. */
async function assertSummaryFocused(page: Page, what: string): Promise<void> {
  assert.equal(await page.locator('[data-error-summary]').count(), 1, `${what}: the error summary is shown`);
  const scripted = (await page.locator(`script[src^="${PAGE_SCRIPT_PATH}"]`).count()) > 0;
  if (scripted) assert.equal((await focused(page)).errorSummary, true, `${what}: the error summary has focus (the page script moves it there)`);
}

describe('keyboard-only walk-throughs (sign-up, sign-in, consent)', { skip, timeout: 180_000 }, () => {
  let directory: string | undefined;
  let server: TourServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'gatehouse-keyboard-'));
    server = await startTourServer({ directory });
    browser = await launchChromium();
  });

  after(async () => {
    await bounded(Promise.allSettled(contexts.map((context) => context.close())));
    await bounded(browser?.close());
    await bounded(server?.close());
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    return context.newPage();
  }

  /** Sign-up by keyboard, a failed try first; then the mailed link, confirmed by keyboard. */
  async function signUp(page: Page, email: string): Promise<void> {
    await page.goto(`${server!.base}/signup`, { waitUntil: 'load' });
    await fillByKeyboard(page, '/signup', ['name', 'email', 'password'], { name: 'Grace Hopper', email: 'not-an-email', password: '' });
    await press(page, 'Enter');
    await assertSummaryFocused(page, 'sign-up with two problems');
    assert.equal(await page.locator('input[name=email]').getAttribute('aria-invalid'), 'true');

    await fillByKeyboard(page, '/signup', ['email', 'password'], { email, password: TOUR_PASSWORD });
    await press(page, 'Enter');
    assert.equal(await page.locator('form[action="/signup"]').count(), 0, 'sign-up went through (the check-your-inbox page)');

    await page.goto(await server!.mailedLink(email, '/verify-email'), { waitUntil: 'load' });
    await tabTo(page, primaryOf('/verify-email'), 'the confirm button');
    await press(page, 'Space');
    assert.match(page.url(), /\/login\?notice=email-verified$/);
  }

  /** Sign-in by keyboard on the page shown: a try without the password first (submitted with Enter in the email field). */
  async function signIn(page: Page, email: string): Promise<void> {
    await fillByKeyboard(page, '/login', ['email', 'password'], { email, password: '' });
    await tabTo(page, field('/login', 'email'), 'the email field (going back)', 'Shift+Tab');
    await press(page, 'Enter'); // implicit submission from a text field
    await assertSummaryFocused(page, 'sign-in without a password');
    assert.equal(await page.locator('input[name=email]').inputValue(), email, 'the typed email is kept');

    await fillByKeyboard(page, '/login', ['email', 'password'], { password: TOUR_PASSWORD });
    await press(page, 'Enter');
  }

  it('sign-up, then sign-in: every field and the primary button by Tab, errors focused, the account page reached', async () => {
    const page = await newPage();
    const email = 'keyboard-signup@example.com';
    await signUp(page, email);
    await signIn(page, email);
    assert.equal(new URL(page.url()).pathname, '/account', `signed in (at ${page.url()})`);
  });

  it('consent: sign-in for the application, then Allow by keyboard; the browser goes back to the application with a code', async () => {
    const page = await newPage();
    const email = 'keyboard-consent@example.com';
    await signUp(page, email);
    const query = new URLSearchParams({
      response_type: 'code', client_id: 'notes', redirect_uri: `${server!.clientSite}/callback`, scope: 'openid profile email', state: 'keyboard',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    });
    await page.goto(`${server!.base}/oauth/authorize?${query}`, { waitUntil: 'load' });
    assert.equal(new URL(page.url()).pathname, '/login', 'the application sends the browser to the sign-in page');
    await signIn(page, email);
    assert.equal(await page.locator('form[action="/oauth/authorize/consent"]').count(), 1, `the consent page (at ${page.url()})`);

    const path = await tabTo(page, (item) => item.form === '/oauth/authorize/consent' && item.value === 'allow', 'the Allow button');
    assert.equal(path.at(-1)!.primary, true, 'Allow is the primary button');
    // Deny comes next and is reachable too; Shift+Tab comes back to Allow.
    await tabTo(page, (item) => item.form === '/oauth/authorize/consent' && item.value === 'deny', 'the Deny button');
    await tabTo(page, (item) => item.value === 'allow', 'the Allow button (back)', 'Shift+Tab');
    await Promise.all([page.waitForURL((url) => url.href.startsWith(`${server!.clientSite}/callback?`)), page.keyboard.press('Space')]);
    const back = new URL(page.url());
    assert.ok(back.searchParams.get('code'), 'an authorization code');
    assert.equal(back.searchParams.get('state'), 'keyboard');
  });
});
