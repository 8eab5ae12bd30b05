/** Helpers for black-box auth tests through `app.inject()`. */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.ts';

export const ORIGIN = 'http://localhost:3000';
export const PASSWORD = 'correct horse battery staple';

/** JSON POST the way a first-party browser app sends it. */
export function postJSON(t: TestApp, url: string, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', origin: new URL(t.config.publicUrl).origin, ...headers }, payload: JSON.stringify(body) });
}

/** The `name=value` of a Set-Cookie header for `name`, or undefined. */
export function setCookie(response: LightMyRequestResponse, name: string): string | undefined {
  const raw = response.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.find((cookie) => cookie.startsWith(`${name}=`));
}

export function sessionCookie(response: LightMyRequestResponse): string {
  const cookie = setCookie(response, '__Host-gatehouse');
  assert.ok(cookie, 'a session cookie was set');
  return cookie.split(';')[0]!;
}

/** The token from the last mail to `to` whose link points at `path`. */
export function linkToken(t: TestApp, to: string, path: string): string {
  const mail = [...t.mails].reverse().find((m) => m.to === to.normalize('NFKC').toLowerCase() && m.text.includes(path));
  assert.ok(mail, `a mail to ${to} with a ${path} link`);
  const match = new RegExp(`${path.replace(/[/]/g, '\\/')}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.text);
  assert.ok(match, 'the mail contains a token link');
  return decodeURIComponent(match[1]!);
}

/** Signs up, verifies via the mailed link, signs in; returns the session cookie. */
export async function registerAndSignIn(t: TestApp, email: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<string> {
  const signUp = await postJSON(t, '/api/auth/sign-up', { email, password }, headers);
  assert.equal(signUp.statusCode, 202, signUp.body);
  const verify = await postJSON(t, '/api/auth/verify-email', { token: linkToken(t, email, '/verify-email') }, headers);
  assert.equal(verify.statusCode, 200, verify.body);
  return signIn(t, email, password, headers);
}

export async function signIn(t: TestApp, email: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<string> {
  const response = await postJSON(t, '/api/auth/sign-in', { email, password }, headers);
  assert.equal(response.statusCode, 200, response.body);
  return sessionCookie(response);
}

export async function whoami(t: TestApp, cookie: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ url: '/api/auth/session', headers: { cookie } });
}
