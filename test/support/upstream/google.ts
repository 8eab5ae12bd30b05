/**
 * A Google-like upstream OpenID Connect provider for the social-login tests (SEC-OAUTH-31..34):
 * a real OP (panva's `oidc-provider` 9) on http://127.0.0.1:<random port>, so Gatehouse's
 * "Log in with Google" is checked against a certified implementation, not a stub.
 *
 * Configured like Google: authorization code flow only, confidential clients, RS256 ID tokens
 * that carry `email`, `email_verified` and `name` (Google puts them in the ID token, so
 * `conformIdTokenClaims` is off), PKCE S256 required for every client, RFC 9207 `iss` in every
 * authorization response. Accounts are a Map the test edits at any time; the sign-in page is a
 * plain HTML form that a test drives with `signInHeadless` (fetch + a cookie jar) or a browser.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen, readBody } from './http.ts';
import { exportJWK, generateKeyPair } from 'jose';
import type { Account, Configuration, Provider, ProviderMiddleware } from 'oidc-provider';

/** The claims an upstream account releases; `sub` is the Map key. */
export interface UpstreamAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface GoogleLikeClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface GoogleLike {
  /** `http://127.0.0.1:<port>`; also the origin of every endpoint. */
  readonly issuer: string;
  /** accountId (= `sub`) → claims; read on every sign-in, token and userinfo request. */
  readonly accounts: Map<string, UpstreamAccount>;
  /** The query of every `GET /auth` request, in order. */
  readonly authorizationRequests: URLSearchParams[];
  /** The form body of every token-endpoint POST, in order (failed ones included). */
  readonly tokenRequests: URLSearchParams[];
  /**
   * Signs `accountId` in on a fresh cookie jar (a new browser, so no upstream SSO session
   * carries over) and returns the redirect to the client's redirect_uri (code, state, iss, or
   * an error), without following it.
   */
  signInHeadless(authorizationUrl: string, accountId: string): Promise<URL>;
  close(): Promise<void>;
}

export interface GoogleLikeOptions {
  clients: GoogleLikeClient[];
}

/** Starts the provider; close it with `close()`. */
export async function startGoogleLike(options: GoogleLikeOptions): Promise<GoogleLike> {
  const accounts = new Map<string, UpstreamAccount>();
  const authorizationRequests: URLSearchParams[] = [];
  const tokenRequests: URLSearchParams[] = [];
  const server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const ProviderClass = await loadProvider();
  const configuration = await providerConfiguration(options.clients, accounts);
  const provider = withoutProviderNotices(() => new ProviderClass(issuer, configuration));
  provider.use(recordRequests(authorizationRequests, tokenRequests));
  const providerCallback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      handleInteraction(provider, accounts, req, res).catch((error: unknown) => sendError(res, error));
    } else {
      providerCallback(req, res);
    }
  });
  return {
    issuer,
    accounts,
    authorizationRequests,
    tokenRequests,
    signInHeadless: (authorizationUrl, accountId) => signInHeadless(issuer, authorizationUrl, accountId),
    close: () => closeServer(server),
  };
}

let providerModule: Promise<typeof Provider> | undefined;

/**
 * Imported lazily so its import-time notice ("Unsupported runtime" on a non-LTS Node 24) can be
 * filtered like the others.
 */
function loadProvider(): Promise<typeof Provider> {
  providerModule ??= withoutProviderNotices(() => import('oidc-provider')).then((module) => module.default);
  return providerModule;
}

/**
 * Runs `work` with oidc-provider's start-up notices (in-memory adapter, runtime) dropped from
 * the console: they are for production operators, and only add noise to test output.
 */
function withoutProviderNotices<T>(work: () => T): T {
  const { warn, info } = console;
  const quiet = (print: (...data: unknown[]) => void) => (...data: unknown[]) => {
    if (typeof data[0] !== 'string' || !data[0].includes('oidc-provider ')) print(...data);
  };
  console.warn = quiet(warn);
  console.info = quiet(info);
  const restore = (): void => {
    console.warn = warn;
    console.info = info;
  };
  try {
    const result = work();
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  } catch (error) {
    restore();
    throw error;
  }
}

async function providerConfiguration(
  clients: GoogleLikeClient[],
  accounts: Map<string, UpstreamAccount>,
): Promise<Configuration> {
  return {
    clients: clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: client.redirect_uris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      // oidc-provider takes client_secret_post as well for a client registered with basic.
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    })),
    jwks: { keys: [await signingKey()] },
    // Cookies are signed; a fresh key per start. Over http (ctx.secure false) they are not Secure.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
    responseTypes: ['code'],
    // Google releases the scope's claims in the ID token itself, not only at userinfo.
    conformIdTokenClaims: false,
    // The default requires PKCE only for public clients; Google-style confidential ones must too.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    // oidc-provider's defaults, written out because its default TTL functions print a notice.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    findAccount: async (_ctx, sub) => findAccount(accounts, sub),
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>error</title><pre>${escapeHtml(JSON.stringify(out))}</pre>`;
    },
  };
}

async function signingKey(): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `google-like-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };
}

function findAccount(accounts: Map<string, UpstreamAccount>, sub: string): Account | undefined {
  if (!accounts.has(sub)) return undefined;
  return {
    accountId: sub,
    // Read at claim time, so a test may change the account between sign-ins.
    claims: () => ({ ...accounts.get(sub), sub }),
  };
}

/**
 * Records requests as oidc-provider saw them: the token body is read from `ctx.oidc.body`
 * after the provider parsed it (parsing it here would consume the stream it reads).
 */
function recordRequests(authorizationRequests: URLSearchParams[], tokenRequests: URLSearchParams[]): ProviderMiddleware {
  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth') authorizationRequests.push(new URLSearchParams(ctx.querystring));
    try {
      await next();
    } finally {
      if (ctx.method === 'POST' && ctx.oidc?.route === 'token') tokenRequests.push(toSearchParams(ctx.oidc.body ?? {}));
    }
  };
}

function toSearchParams(body: Record<string, string | string[] | undefined>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of [value ?? []].flat()) params.append(name, item);
  }
  return params;
}

/** `GET /interaction/:uid` shows the sign-in form; `POST /interaction/:uid/login` submits it. */
async function handleInteraction(
  provider: Provider,
  accounts: Map<string, UpstreamAccount>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') return sendHtml(res, 200, signInPage(details.uid));
  if (req.method !== 'POST' || !req.url?.endsWith('/login')) return sendHtml(res, 404, 'not found');
  const accountId = new URLSearchParams(await readBody(req)).get('login') ?? '';
  if (!accounts.has(accountId)) return sendHtml(res, 400, signInPage(details.uid, 'Unknown account.'));
  // Consent in the same step, so the flow goes straight back to the redirect_uri.
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope('openid email profile');
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

function signInPage(uid: string, error?: string): string {
  const message = error === undefined ? '' : `<p class="error" id="error">${escapeHtml(error)}</p>`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
${message}<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<input name="login" id="login"><button id="signin" type="submit">Sign in</button></form></body></html>`;
}

async function signInHeadless(issuer: string, authorizationUrl: string, accountId: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(authorizationUrl);
  let form: URLSearchParams | undefined;
  let submitted = false;
  for (let hop = 0; hop < 20; hop += 1) {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
      ...(form ? { body: form } : {}),
    });
    storeCookies(jar, response.headers.getSetCookie());
    form = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      url = new URL(location, url);
      // The redirect_uri belongs to the client: hand it back instead of following it.
      if (url.origin !== new URL(issuer).origin) return url;
      continue;
    }
    const html = await response.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || action === undefined || submitted) {
      throw new Error(`upstream sign-in stopped at ${url.pathname} with ${response.status}: ${html.slice(0, 300)}`);
    }
    url = new URL(action, url);
    form = new URLSearchParams({ login: accountId });
    submitted = true;
  }
  throw new Error('upstream sign-in: too many redirects');
}

/** A jar keyed by name only: every upstream cookie goes back on every upstream request. */
function storeCookies(jar: Map<string, string>, setCookies: string[]): void {
  for (const header of setCookies) {
    const [pair = '', ...attributes] = header.split(';');
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    const expired = attributes.some((attribute) => isExpiry(attribute.trim()));
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

function isExpiry(attribute: string): boolean {
  const [key = '', value = ''] = attribute.split('=');
  if (key.toLowerCase() === 'max-age') return Number(value) <= 0;
  if (key.toLowerCase() === 'expires') return Date.parse(value) <= Date.now();
  return false;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

/** Interaction errors (expired or missing interaction cookie) are the test's fault: 400. */
function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.end();
  sendHtml(res, 400, `<pre>${escapeHtml(error instanceof Error ? error.message : String(error))}</pre>`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

