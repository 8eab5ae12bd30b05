/** Shared by the admin tests: the OAuth fixtures plus admin-scoped machine clients. */
import { hashSecret } from '../../src/crypto/random.ts';
export * from '../support/oauth.ts';

/** A deterministic secret per test client (only its hash goes into the configuration). */
export function secretFor(clientId: string): string {
  return `${clientId}-secret-0123456789abcdef0123456789abcdef`;
}

export function hashSecretFor(clientId: string): string {
  return hashSecret(secretFor(clientId));
}

import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { basic, postForm } from '../support/oauth.ts';

/** A client-credentials access token of an admin test client (its secret from `secretFor`). */
export async function adminClientToken(t: TestApp, clientId: string, params: Record<string, string> = {}): Promise<string> {
  const response = await postForm(t, '/oauth/token', { grant_type: 'client_credentials', ...params }, { authorization: basic(clientId, secretFor(clientId)) });
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { access_token: string }).access_token;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** An admin API call as a browser session (cookie + same-origin Origin) or as a bearer token. */
export function call(t: TestApp, method: Method, url: string, auth: { cookie?: string; bearer?: string }, body?: unknown): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (auth.cookie) {
    headers.cookie = auth.cookie;
    headers.origin = new URL(t.config.publicUrl).origin;
  }
  if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return t.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
}
