/**
 * Helpers for the black-box OpenID Connect tests (test/oidc): code-flow fixture clients, the
 * authorization request → sign-in → consent → code steps through `app.inject()` (cookies and the
 * consent form's hidden `interaction` / `csrf` fields handled as a browser would), a Gatehouse
 * listening on http://localhost (a secure context for Chromium, so `__Host-` cookies work over
 * plain HTTP), a loopback callback server that records where the browser lands, and Chromium
 * (Debian's /usr/bin/chromium through playwright-core; never a downloaded browser).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import type { Browser } from 'playwright-core';
import type { TestApp } from './app.ts';
import { PASSWORD, setCookie } from './auth.ts';
import type { PageBrowser } from '../../src/ui/test-browser.ts';
import { basic, createOAuthApp, fixtureClients, freePort, postForm } from './oauth.ts';

export const REDIRECT = 'https://app.example/callback';
export const REDIRECT_2 = 'https://app.example/callback-2';
export const POST_LOGOUT = 'https://app.example/bye';
export const NATIVE_REDIRECT = 'http://127.0.0.1/cb';
export const NATIVE_REDIRECT_V6 = 'http://[::1]/cb';
export const QUERY_REDIRECT = 'https://app.example/cb?tenant=a';

/** Client secrets of the code-flow fixture clients (the configuration holds only their SHA-256). */
export const OIDC_SECRETS: Readonly<Record<string, string>> = Object.freeze({
  webapp: 'webapp-secret-6c1f0d2e3b4a59687766554433221100',
  webapp2: 'webapp2-secret-0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  postweb: 'postweb-secret-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
  twouris: 'twouris-secret-11223344556677889900aabbccddeeff',
  firstweb: 'firstweb-secret-ffeeddccbbaa99887766554433221100',
  queryweb: 'queryweb-secret-1029384756abcdefabcdef0123456789',
  loopconf: 'loopconf-secret-0123456789abcdef0123456789abcdef',
});

type ClientEntry = Record<string, unknown>;

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

export const OIDC_SCOPES = ['openid', 'profile', 'email', 'roles', 'offline_access'];

function webClient(clientId: string, rest: ClientEntry = {}): ClientEntry {
  return {
    client_id: clientId,
    name: rest.name ?? `Client ${clientId}`,
    type: 'confidential',
    token_endpoint_auth_method: 'client_secret_basic',
    client_secret_hash: sha256(OIDC_SECRETS[clientId]!),
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT],
    post_logout_redirect_uris: [POST_LOGOUT],
    scopes: OIDC_SCOPES,
    audiences: [],
    ...rest,
  };
}

/**
 * The code-flow clients (beside the fixture clients of oauth.ts):
 * - `webapp`, `webapp2`: confidential, `client_secret_basic`, one redirect URI (`conf`, `conf2`);
 * - `postweb`: confidential, `client_secret_post`;
 * - `twouris`: two registered redirect URIs;
 * - `firstweb`: confidential and flagged first-party (may skip consent);
 * - `queryweb`: a registered redirect URI that itself has a query;
 * - `native`: public (`none`), loopback redirect URIs `http://127.0.0.1/cb` and `http://[::1]/cb`;
 * - `svc` (from oauth.ts): client credentials only.
 */
export function oidcClients(extra: ClientEntry[] = []): ClientEntry[] {
  return fixtureClients({
    extra: [
      webClient('webapp', { name: 'Web App' }),
      webClient('webapp2', { name: 'Web App Two', redirect_uris: [REDIRECT], post_logout_redirect_uris: ['https://app2.example/bye'] }),
      webClient('postweb', { token_endpoint_auth_method: 'client_secret_post' }),
      webClient('twouris', { redirect_uris: [REDIRECT, REDIRECT_2] }),
      webClient('firstweb', { first_party: true, name: 'First Party Web' }),
      webClient('queryweb', { redirect_uris: [QUERY_REDIRECT] }),
      {
        client_id: 'native',
        name: 'Native App',
        type: 'public',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [NATIVE_REDIRECT, NATIVE_REDIRECT_V6],
        scopes: OIDC_SCOPES,
        audiences: [],
      },
      ...extra,
    ],
  });
}

export function createOidcApp(options: { env?: Record<string, string>; now?: () => number; clients?: ClientEntry[] } = {}): Promise<TestApp> {
  return createOAuthApp({ clients: options.clients ?? oidcClients(), ...(options.env ? { env: options.env } : {}), ...(options.now ? { now: options.now } : {}) });
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: sha256(verifier) };
}

/** The value of a hidden form field (HTML-unescaped). */
export function hidden(body: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(body);
  assert.ok(match, `hidden field ${name} in: ${body.slice(0, 400)}`);
  return match[1]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>');
}

/** `name=value` of a Set-Cookie, or undefined. */
export function cookiePair(response: LightMyRequestResponse, name: string): string | undefined {
  return setCookie(response, name)?.split(';')[0];
}

/** Adds the CSRF binding cookie a page just set (if any) to `cookie`. */
export function withCsrfCookie(response: LightMyRequestResponse, cookie: string): string {
  const csrf = cookiePair(response, '__Host-gatehouse-csrf');
  if (!csrf) return cookie;
  const others = cookie.split('; ').filter((part) => part !== '' && !part.startsWith('__Host-gatehouse-csrf='));
  return [...others, csrf].join('; ');
}

export function authorizeUrl(query: Record<string, string>): string {
  return `/oauth/authorize?${new URLSearchParams(query)}`;
}

export function authorize(t: TestApp, query: Record<string, string>, cookie = ''): Promise<LightMyRequestResponse> {
  return t.app.inject({ url: authorizeUrl(query), headers: cookie ? { cookie } : {} });
}

/** A complete, valid authorization request for `clientId` (override anything with `extra`). */
export function authzQuery(options: { clientId?: string; redirectUri?: string; scope?: string; challenge: string; state?: string; nonce?: string; extra?: Record<string, string> }): Record<string, string> {
  const query: Record<string, string> = {
    client_id: options.clientId ?? 'webapp',
    redirect_uri: options.redirectUri ?? REDIRECT,
    response_type: 'code',
    scope: options.scope ?? 'openid profile email',
    code_challenge: options.challenge,
    code_challenge_method: 'S256',
  };
  if (options.state !== undefined) query.state = options.state;
  if (options.nonce !== undefined) query.nonce = options.nonce;
  return { ...query, ...options.extra };
}

/** Is this response the consent page? */
export function isConsentPage(response: LightMyRequestResponse): boolean {
  return response.statusCode === 200 && response.body.includes('action="/oauth/authorize/consent"');
}

/** POSTs the consent form of `page` (as the browser holding `cookie` would). */
export function answerConsent(t: TestApp, page: LightMyRequestResponse, cookie: string, decision: 'allow' | 'deny' = 'allow', override: { interaction?: string; csrf?: string; origin?: string } = {}): Promise<LightMyRequestResponse> {
  const cookies = withCsrfCookie(page, cookie);
  const form = new URLSearchParams({
    interaction: override.interaction ?? hidden(page.body, 'interaction'),
    decision,
    csrf: override.csrf ?? hidden(page.body, 'csrf'),
  });
  return t.app.inject({
    method: 'POST',
    url: '/oauth/authorize/consent',
    headers: { cookie: cookies, origin: override.origin ?? new URL(t.config.publicUrl).origin, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString(),
  });
}

/** The `Location` of a redirect as a URL (resolved against the issuer for relative ones). */
export function location(t: TestApp, response: LightMyRequestResponse): URL {
  const value = response.headers.location;
  assert.ok(typeof value === 'string', `a redirect: ${response.statusCode} ${response.body.slice(0, 300)}`);
  return new URL(value, t.config.publicUrl);
}

/** Asserts a redirect to `redirectUri` (exactly: origin + path + the registered query) and returns its parameters. */
export function redirectParams(t: TestApp, response: LightMyRequestResponse, redirectUri = REDIRECT): URLSearchParams {
  assert.ok(response.statusCode === 302 || response.statusCode === 303, `a redirect, got ${response.statusCode} ${response.body.slice(0, 300)}`);
  const url = location(t, response);
  const registered = new URL(redirectUri);
  assert.equal(`${url.origin}${url.pathname}`, `${registered.origin}${registered.pathname}`, `redirected to ${url.href}`);
  assert.equal(url.hash, '', 'nothing in the fragment');
  return url.searchParams;
}

/** Asserts the authorization endpoint answered with an error page: 4xx HTML, no redirect at all. */
export function assertErrorPage(response: LightMyRequestResponse, what = ''): void {
  assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${what}: 4xx expected, got ${response.statusCode} ${String(response.headers.location ?? '')}`);
  assert.equal(response.headers.location, undefined, `${what}: no Location`);
  assert.match(String(response.headers['content-type']), /text\/html/, `${what}: an HTML page`);
  assert.doesNotMatch(response.body, /[?&]code=/, `${what}: no code on the page`);
}

/** Asserts an error redirect to the registered URI with `error`, `state` (if sent), `iss`, and no code or token. */
export function assertErrorRedirect(t: TestApp, response: LightMyRequestResponse, error: string, options: { state?: string; redirectUri?: string; what?: string } = {}): URLSearchParams {
  const params = redirectParams(t, response, options.redirectUri ?? REDIRECT);
  const what = options.what ?? '';
  assert.equal(params.get('error'), error, `${what}: ${location(t, response).href}`);
  assert.equal(params.get('iss'), t.config.publicUrl, `${what}: iss (RFC 9207)`);
  assert.equal(params.get('state'), options.state ?? null, `${what}: state`);
  for (const name of ['code', 'access_token', 'id_token', 'refresh_token']) assert.equal(params.get(name), null, `${what}: no ${name}`);
  return params;
}

export interface CodeResult {
  code: string;
  verifier: string;
  params: URLSearchParams;
  /** The cookie (with the CSRF binding) after the flow. */
  cookie: string;
}

/**
 * Runs an authorization request for the signed-in `cookie` to a code: consents when the consent
 * page comes (unless `consent: false`), asserts the code redirect and returns the code.
 */
export async function obtainCode(t: TestApp, cookie: string, options: { clientId?: string; redirectUri?: string; scope?: string; state?: string; nonce?: string; extra?: Record<string, string>; consent?: boolean } = {}): Promise<CodeResult> {
  const { verifier, challenge } = pkce();
  const redirectUri = options.redirectUri ?? (options.clientId === 'queryweb' ? QUERY_REDIRECT : options.clientId === 'native' ? NATIVE_REDIRECT : REDIRECT);
  const query = authzQuery({ ...options, redirectUri, challenge });
  let response = await authorize(t, query, cookie);
  let jar = cookie;
  if (isConsentPage(response)) {
    assert.notEqual(options.consent, false, 'no consent page expected');
    jar = withCsrfCookie(response, cookie);
    response = await answerConsent(t, response, cookie, 'allow');
  }
  const params = redirectParams(t, response, redirectUri);
  const code = params.get('code');
  assert.ok(code, `a code: ${location(t, response).href}`);
  assert.equal(params.get('iss'), t.config.publicUrl);
  assert.equal(params.get('state'), options.state ?? null);
  return { code, verifier, params, cookie: jar };
}

/** The client authentication of a code-flow fixture client: headers and extra form fields. */
export function clientAuth(clientId: string): { headers: Record<string, string>; params: Record<string, string> } {
  const secret = OIDC_SECRETS[clientId];
  if (clientId === 'postweb') return { headers: {}, params: { client_id: clientId, client_secret: secret! } };
  if (secret !== undefined) return { headers: { authorization: basic(clientId, secret) }, params: {} };
  return { headers: {}, params: { client_id: clientId } };
}

/** A token request as `clientId` (its registered authentication). */
export function tokenAs(t: TestApp, clientId: string, params: Record<string, string>): Promise<LightMyRequestResponse> {
  const auth = clientAuth(clientId);
  return postForm(t, '/oauth/token', { ...auth.params, ...params }, auth.headers);
}

export function redeem(t: TestApp, clientId: string, code: string, verifier: string, redirectUri: string | null = REDIRECT): Promise<LightMyRequestResponse> {
  return tokenAs(t, clientId, { grant_type: 'authorization_code', code, code_verifier: verifier, ...(redirectUri === null ? {} : { redirect_uri: redirectUri }) });
}

export interface CodeTokens {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

export function codeTokens(response: LightMyRequestResponse): CodeTokens {
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as CodeTokens;
}

/** Sign-in → consent → code → tokens for `clientId`. */
export async function obtainTokens(t: TestApp, cookie: string, options: Parameters<typeof obtainCode>[2] = {}): Promise<CodeTokens & { cookie: string }> {
  const clientId = options.clientId ?? 'webapp';
  const result = await obtainCode(t, cookie, options);
  const redirectUri = options.redirectUri ?? (clientId === 'queryweb' ? QUERY_REDIRECT : clientId === 'native' ? NATIVE_REDIRECT : REDIRECT);
  return { ...codeTokens(await redeem(t, clientId, result.code, result.verifier, redirectUri)), cookie: result.cookie };
}

export function userinfo(t: TestApp, accessToken: string, options: { method?: 'GET' | 'POST'; scheme?: string } = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: options.method ?? 'GET', url: '/oauth/userinfo', headers: { authorization: `${options.scheme ?? 'Bearer'} ${accessToken}` } });
}

/** Introspection as `clientId` (a code-flow fixture client, or one of oauth.ts's). */
export function introspectAs(t: TestApp, clientId: string, token: string): Promise<LightMyRequestResponse> {
  const auth = clientAuth(clientId);
  return postForm(t, '/oauth/introspect', { ...auth.params, token }, auth.headers);
}

export function refreshAs(t: TestApp, clientId: string, refreshToken: string, params: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return tokenAs(t, clientId, { grant_type: 'refresh_token', refresh_token: refreshToken, ...params });
}

/** A clock tests move by hand (createOAuthApp({ now })). */
export function manualClock(start = Date.UTC(2030, 0, 1, 9, 0, 0)): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let current = start;
  return { now: () => current, advance: (ms) => void (current += ms), set: (ms) => void (current = ms) };
}

// ---------------------------------------------------------------------------------------------
// Real network: Gatehouse on http://localhost, a callback server, Chromium.

/**
 * A Gatehouse listening on every loopback address of `localhost`, whose issuer is
 * `http://localhost:<port>`: Chromium treats http://localhost as a secure context, so the
 * `__Host-` (Secure) cookies work over plain HTTP. `clients` may depend on nothing but the port.
 */
export async function listeningOidcApp(options: { env?: Record<string, string>; clients?: ClientEntry[] } = {}): Promise<{ t: TestApp; base: string }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const t = await createOidcApp({ ...(options.clients ? { clients: options.clients } : {}), env: { GATEHOUSE_PUBLIC_URL: base, ...options.env } });
    try {
      await t.app.listen({ port, host: 'localhost' });
      return { t, base };
    } catch (error) {
      await t.close();
      if (attempt >= 3 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}

export interface CallbackServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every request received (method, absolute URL, Referer), in order. */
  hits: { method: string; url: URL; referer: string | undefined }[];
  /** Resolves with the first request whose path is `path` (bounded). */
  waitFor(path: string, timeoutMs?: number): Promise<URL>;
  close(): Promise<void>;
}

/**
 * The relying party's redirect target: a loopback HTTP server that records every request and
 * answers with a plain page, so the browser's navigation ends somewhere observable.
 */
export async function startCallbackServer(handler?: (request: IncomingMessage, url: URL) => { status: number; body: string; headers?: Record<string, string> } | undefined): Promise<CallbackServer> {
  const hits: { method: string; url: URL; referer: string | undefined }[] = [];
  const waiters = new Set<() => void>();
  let origin = '';
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    hits.push({ method: request.method ?? 'GET', url, referer: request.headers.referer });
    for (const wake of waiters) wake();
    const custom = handler?.(request, url);
    response.writeHead(custom?.status ?? 200, { 'content-type': 'text/html; charset=utf-8', ...custom?.headers });
    response.end(custom?.body ?? '<!doctype html><title>Callback</title><p>Back at the application.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    hits,
    async waitFor(path, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = hits.find((item) => item.url.pathname === path);
        if (hit) return hit.url;
        const left = deadline - Date.now();
        assert.ok(left > 0, `no request to ${path} within ${timeoutMs} ms (got ${hits.map((item) => item.url.pathname).join(', ') || 'none'})`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(left, 200));
          waiters.add(wake);
        });
      }
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export const CHROMIUM = '/usr/bin/chromium';

/** `skip` option for browser suites: skipped (with a printed reason) without Chromium, except in CI. */
export function chromiumSkip(): string | false {
  const missing = !existsSync(CHROMIUM);
  const skip = missing && !process.env.CI ? `${CHROMIUM} not found (apt-get install chromium); browser tests skipped` : false;
  if (skip) console.log(`# ${skip}`);
  return skip;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is required in CI (install Debian's chromium package)`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
}

/** Runs `work` with a deadline, so cleanup in `after` can never hang a test run. */
export function bounded(work: Promise<unknown> | undefined, ms = 15_000): Promise<unknown> {
  return Promise.race([Promise.resolve(work).catch(() => {}), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/** Runs `work`; on failure adds the server's last log lines to the error. */
export async function diagnosed(t: TestApp | undefined, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const logs = (t?.logText() ?? '').trim().split('\n').slice(-12).join('\n');
    throw new Error(`${(error as Error).message}\n--- last server log lines ---\n${logs}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// A browser over app.inject() (src/ui/test-browser.ts: cookie jar, same-origin form POSTs).

/** GETs `url` and follows redirects while they stay on this server; returns the last response. */
export async function browse(t: TestApp, b: PageBrowser, url: string, maxHops = 8): Promise<LightMyRequestResponse> {
  const own = new URL(t.config.publicUrl).origin;
  let response = await b.get(url);
  for (let hop = 0; hop < maxHops; hop++) {
    if (response.statusCode < 300 || response.statusCode >= 400) return response;
    const next = new URL(String(response.headers.location), t.config.publicUrl);
    if (next.origin !== own) return response;
    response = await b.get(next.pathname + next.search);
  }
  throw new Error(`more than ${maxHops} redirects from ${url}`);
}

/** Follows a redirect response on this server (or returns it when it leaves the server). */
export async function follow(t: TestApp, b: PageBrowser, response: LightMyRequestResponse): Promise<LightMyRequestResponse> {
  if (response.statusCode < 300 || response.statusCode >= 400) return response;
  const next = new URL(String(response.headers.location), t.config.publicUrl);
  if (next.origin !== new URL(t.config.publicUrl).origin) return response;
  return browse(t, b, next.pathname + next.search);
}

export function isLoginPage(response: LightMyRequestResponse): boolean {
  return response.statusCode === 200 && /<form[^>]+action="\/login"/.test(response.body);
}

/** Fills the hosted sign-in form shown in `page` and follows where it leads (back into the authorization). */
export async function signInOnPage(t: TestApp, b: PageBrowser, page: LightMyRequestResponse, email: string, password: string): Promise<LightMyRequestResponse> {
  assert.ok(isLoginPage(page), `the sign-in page: ${page.statusCode} ${page.body.slice(0, 300)}`);
  const returnTo = /name="return_to" value="([^"]*)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
  const response = await b.post('/login', { email, password, csrf: hidden(page.body, 'csrf'), ...(returnTo ? { return_to: returnTo } : {}) });
  assert.equal(response.statusCode, 303, `sign-in: ${response.statusCode} ${response.body.slice(0, 300)}`);
  return follow(t, b, response);
}

/** Presses Allow or Deny on the consent page shown in `page`. */
export function pressConsent(b: PageBrowser, page: LightMyRequestResponse, decision: 'allow' | 'deny' = 'allow'): Promise<LightMyRequestResponse> {
  assert.ok(isConsentPage(page), `the consent page: ${page.statusCode} ${page.body.slice(0, 300)}`);
  return b.post('/oauth/authorize/consent', { interaction: hidden(page.body, 'interaction'), decision, csrf: hidden(page.body, 'csrf') });
}

/**
 * A whole authorization in the page browser: the request, the hosted sign-in when asked
 * (`email`), consent when asked (`allow`); returns the final response (normally the redirect to
 * the client) and what happened on the way.
 */
export async function authorizeInBrowser(t: TestApp, b: PageBrowser, query: Record<string, string>, options: { email?: string; password?: string; consent?: 'allow' | 'deny' } = {}): Promise<{ response: LightMyRequestResponse; signedIn: boolean; consented: boolean }> {
  let response = await browse(t, b, authorizeUrl(query));
  let signedIn = false;
  let consented = false;
  if (isLoginPage(response)) {
    assert.ok(options.email, 'the sign-in page came, but no user was given');
    response = await signInOnPage(t, b, response, options.email, options.password ?? PASSWORD);
    signedIn = true;
  }
  if (isConsentPage(response)) {
    response = await pressConsent(b, response, options.consent ?? 'allow');
    consented = true;
  }
  return { response, signedIn, consented };
}
