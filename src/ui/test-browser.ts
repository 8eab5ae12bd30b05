/**
 * Test-only: a minimal browser over `app.inject()` for the page tests — a cookie jar, the
 * same-origin `Origin` header a real browser sends with a form POST, and form-token scraping.
 * Not imported by the server.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { OutgoingMail } from '../features/email/mailer.ts';

export interface SetCookie {
  name: string;
  value: string;
  attributes: string[];
  raw: string;
}

export function setCookies(response: LightMyRequestResponse): SetCookie[] {
  const header = response.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
  return lines.map((raw) => {
    const [pair = '', ...attributes] = raw.split(';').map((part) => part.trim());
    const index = pair.indexOf('=');
    return { name: pair.slice(0, index), value: pair.slice(index + 1), attributes, raw };
  });
}

/** The `csrf` hidden field of the first form on a page. */
export function formToken(body: string): string {
  const match = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(body);
  assert.ok(match?.[1], 'the page has a csrf field');
  return match[1];
}

export interface PageBrowser {
  readonly jar: Map<string, string>;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /**
   * A form POST as Chromium sends it from one of our pages: `Origin: null` (the pages'
   * Referrer-Policy is no-referrer) and `Sec-Fetch-Site: same-origin`.
   */
  post(url: string, fields: Record<string, string | string[]>, headers?: Record<string, string | undefined>): Promise<LightMyRequestResponse>;
  /** GET `formUrl`, then POST `fields` plus its csrf token to `action`. */
  submit(formUrl: string, action: string, fields: Record<string, string>): Promise<LightMyRequestResponse>;
}

export function createBrowser(app: FastifyInstance, record?: (response: LightMyRequestResponse) => void): PageBrowser {
  const jar = new Map<string, string>();
  async function send(options: { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; payload?: string }): Promise<LightMyRequestResponse> {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await app.inject({ ...options, headers: { ...(cookie ? { cookie } : {}), ...options.headers } });
    for (const set of setCookies(response)) {
      if (set.value === '' || set.attributes.includes('Max-Age=0')) jar.delete(set.name);
      else jar.set(set.name, set.value);
    }
    record?.(response);
    return response;
  }
  const browser: PageBrowser = {
    jar,
    get: (url, headers = {}) => send({ method: 'GET', url, headers }),
    post: (url, fields, headers = {}) => {
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) body.append(name, one);
      const merged: Record<string, string | undefined> = { 'content-type': 'application/x-www-form-urlencoded', origin: 'null', 'sec-fetch-site': 'same-origin', ...headers };
      // `undefined` leaves a header out, as a browser that does not send it would.
      const sent = Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined));
      return send({ method: 'POST', url, payload: body.toString(), headers: sent });
    },
    submit: async (formUrl, action, fields) => {
      const page = await browser.get(formUrl);
      assert.equal(page.statusCode, 200, `GET ${formUrl}`);
      return browser.post(action, { ...fields, csrf: formToken(page.body) });
    },
  };
  return browser;
}

/** Creates an account through the JSON API, as a first-party app would. */
export async function signUpViaApi(app: FastifyInstance, input: { email: string; password: string; name?: string }): Promise<void> {
  const response = await app.inject({ method: 'POST', url: '/api/auth/sign-up', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(input) });
  assert.equal(response.statusCode, 202, response.body);
}

/** Waits (bounded) for a mail to `to` whose text contains `path`, and returns the link to it. */
export async function linkFromMail(mails: readonly OutgoingMail[], to: string, path: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    for (const mail of mails.toReversed()) {
      if (mail.to !== to) continue;
      const match = new RegExp(`https?://[^\\s]+${path}\\?token=[^\\s]+`).exec(mail.text);
      if (match) return match[0];
    }
    assert.ok(Date.now() < deadline, `no mail to ${to} with a ${path} link`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `/path?query` of an absolute link. */
export function localPart(link: string): string {
  const url = new URL(link);
  return url.pathname + url.search;
}
