/**
 * What the mobile app does over HTTP (a first-party, public client: no secret, no browser).
 *
 * - sign in with email and password at Gatehouse → access token + refresh token;
 * - call the API with `Authorization: Bearer <access token>`;
 * - when the access token expires, refresh: every refresh returns a NEW refresh token, and the
 *   old one must be thrown away (presenting it again later revokes the whole family).
 */

export interface MobileTokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

export class GatehouseError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, description: string | undefined) {
    super(`${status} ${error}${description ? `: ${description}` : ''}`);
    this.status = status;
    this.error = error;
  }
}

async function tokensFrom(response: Response): Promise<MobileTokens> {
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new GatehouseError(response.status, String(body.error ?? 'error'), body.error_description as string | undefined);
  return body as unknown as MobileTokens;
}

/** First-party sign-in: `POST /api/auth/sign-in` with the app's client_id. */
export async function signIn(gatehouse: string, clientId: string, email: string, password: string): Promise<MobileTokens> {
  const response = await fetch(`${gatehouse}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, client_id: clientId }),
  });
  return tokensFrom(response);
}

/** Refresh-token grant (public client: client_id instead of a secret). `scope` may only narrow. */
export async function refresh(gatehouse: string, clientId: string, refreshToken: string, scope?: string): Promise<MobileTokens> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
  if (scope) form.set('scope', scope);
  const response = await fetch(`${gatehouse}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  return tokensFrom(response);
}

/** Signing out of the app: revoking the refresh token ends its grant (and its access tokens). */
export async function signOut(gatehouse: string, clientId: string, refreshToken: string): Promise<void> {
  const response = await fetch(`${gatehouse}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: refreshToken, client_id: clientId }) });
  if (!response.ok) throw new GatehouseError(response.status, 'revocation_failed', undefined);
}

/** An API call with the access token. */
export function callApi(api: string, path: string, accessToken: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  return fetch(`${api}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${accessToken}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
}
