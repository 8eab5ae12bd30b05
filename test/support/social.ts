/**
 * Social-login test wiring: a Gatehouse (in-process, app.inject) whose providers point at the
 * real upstream servers of test/support/upstream/ on loopback, and a "browser" that walks the
 * redirect to the upstream (over real HTTP) and back into Gatehouse.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createBrowser, type PageBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from './app.ts';

/** The public URL the in-process app claims; upstreams redirect there, the tests inject the path. */
export const SOCIAL_PUBLIC_URL = 'http://localhost:3000';
export const UPSTREAM_CLIENT_ID = 'gatehouse-test';

export function callbackFor(providerId: string, publicUrl = SOCIAL_PUBLIC_URL): string {
  return `${publicUrl}/login/social/${providerId}/callback`;
}

export interface SocialAttempt {
  /** Where Gatehouse sent the browser (the upstream authorization request). */
  upstreamUrl: URL;
  /** Where the upstream sent the browser back (our callback, with code and state). */
  callback: URL;
  /** Gatehouse's answer to the callback. */
  response: LightMyRequestResponse;
}

/** Starts at /login/social/<id>, lets `approve` play the upstream, returns before following our answer. */
export async function socialAttempt(b: PageBrowser, providerId: string, approve: (url: string) => Promise<URL>, returnTo?: string): Promise<SocialAttempt> {
  const start = await b.get(`/login/social/${providerId}${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
  assert.equal(start.statusCode, 303, `start: ${start.statusCode} ${start.body.slice(0, 300)}`);
  const upstreamUrl = new URL(String(start.headers.location));
  const callback = await approve(upstreamUrl.href);
  assert.equal(callback.origin + callback.pathname, callbackFor(providerId), 'the upstream returned to the exact callback URL');
  const response = await b.get(callback.pathname + callback.search);
  return { upstreamUrl, callback, response };
}

/** The signed-in user of this browser (through the JSON API), or undefined. */
export async function currentUser(t: TestApp, b: PageBrowser): Promise<{ id: string; email: string } | undefined> {
  const response = await b.get('/api/auth/session');
  if (response.statusCode !== 200) return undefined;
  const body = response.json() as { user: { id: string; email: string } };
  return body.user;
}

export function newBrowser(t: TestApp): PageBrowser {
  return createBrowser(t.app);
}

/** A refusal page: an HTML error with no session cookie set. */
export function assertRefused(response: LightMyRequestResponse, what: string, status?: number): void {
  assert.ok(response.statusCode >= 400, `${what}: refused (got ${response.statusCode} ${String(response.headers.location ?? '')})`);
  if (status !== undefined) assert.equal(response.statusCode, status, `${what}: status`);
  assert.match(String(response.headers['content-type']), /text\/html/, `${what}: an HTML page`);
  const cookies = response.headers['set-cookie'];
  const list = cookies === undefined ? [] : Array.isArray(cookies) ? cookies : [String(cookies)];
  assert.ok(!list.some((cookie) => cookie.startsWith('__Host-gatehouse=') && !cookie.startsWith('__Host-gatehouse=;')), `${what}: no session cookie`);
}

/** The audit log's social sign-in failures, newest last. */
export async function socialFailures(t: TestApp): Promise<string[]> {
  const rows = await t.storage.database.db.selectFrom('audit_events').select(['detail']).where('type', '=', 'sign-in').where('outcome', '=', 'failure').orderBy('id').execute();
  return rows.map((row) => JSON.parse(row.detail) as Record<string, unknown>).filter((detail) => detail.method === 'social').map((detail) => String(detail.reason));
}
