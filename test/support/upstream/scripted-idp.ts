/**
 * A small scriptable upstream identity provider for the social-login tests (SEC-OAUTH-31..34),
 * hand-written on node:http + jose so a test can make it misbehave on purpose: forged or
 * mis-addressed ID tokens, a wrong or missing RFC 9207 `iss`, discovery metadata naming another
 * issuer. google.ts is the well-behaved real OP; this one is for the attacks.
 *
 * Two modes:
 * - `oidc`: an OpenID Connect OP (discovery, JWKS, code flow, ID token, userinfo);
 * - `github`: GitHub's OAuth 2.0 apps API (no OIDC, no `iss`): /login/oauth/authorize,
 *   /login/oauth/access_token, /user, /user/emails, with GitHub's quirks (token errors are
 *   HTTP 200 with an `error` field; urlencoded token responses unless `Accept: application/json`;
 *   comma-separated scope; /user/emails needs the `user:email` scope).
 *
 * Both auto-approve: the authorization endpoint redirects at once with a code for
 * `idp.nextIdentity`. PKCE S256 is required (a request without it gets an error redirect), the
 * redirect_uri must equal the registered one exactly, codes are single-use and consumed on first
 * presentation, clients authenticate with client_secret_basic or client_secret_post.
 */
import { createHash, KeyObject, randomBytes, sign as signBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen, readBody } from './http.ts';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility: 'public' | 'private' | null;
}

/** Who the next authorization is for; copied when the code is issued. */
export interface ScriptedIdentity {
  /** The OIDC `sub`; in github mode the numeric user id, as a string. */
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** github mode: the username (default `user<sub>`). */
  login?: string;
  /** github mode: the `email` of GET /user (GitHub's public email). Default null, as on GitHub. */
  public_email?: string | null;
  /** github mode: GET /user/emails verbatim. Default: `email` as the one private primary address. */
  emails?: GitHubEmail[];
}

/** A defect to put in the next ID token (oidc mode). */
export type Tamper =
  /** A correctly signed token whose claims name `sub` twice (another account's first): SEC-JWT-13. Not in TAMPERS: openid-client itself reads it last-wins. */
  | 'duplicate-sub'
  | 'alg-none'
  | 'hs256-with-public-key'
  | 'foreign-key'
  | 'wrong-iss'
  | 'wrong-aud'
  | 'extra-aud-wrong-azp'
  | 'expired'
  | 'future-iat'
  | 'missing-sub'
  | 'wrong-nonce'
  | 'missing-nonce'
  | 'bad-signature';

export const TAMPERS: readonly Tamper[] = [
  'alg-none', 'hs256-with-public-key', 'foreign-key', 'wrong-iss', 'wrong-aud', 'extra-aud-wrong-azp',
  'expired', 'future-iat', 'missing-sub', 'wrong-nonce', 'missing-nonce', 'bad-signature',
];

export interface ScriptedIdpOptions {
  mode: 'oidc' | 'github';
  client_id: string;
  client_secret: string;
  redirect_uri: string;
}

export interface ScriptedIdp {
  readonly mode: 'oidc' | 'github';
  /** oidc: `http://127.0.0.1:<port>`; github: the same origin (GitHub has no issuer). */
  readonly issuer: string;
  readonly origin: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  /** oidc: /userinfo; github: /user. */
  readonly userinfoEndpoint: string;
  /** github mode only. */
  readonly emailsEndpoint: string | undefined;
  /** oidc mode only. */
  readonly discoveryEndpoint: string | undefined;
  readonly jwksUri: string | undefined;
  /** The public half of the ID token signing key, as published. */
  readonly publicJwk: JWK;
  nextIdentity: ScriptedIdentity;
  /** Spoils the next ID token issued, then resets. */
  tamper: Tamper | undefined;
  /** Overrides `iss` in the next authorization response (null: omit it), then resets. */
  tamperAuthorizationResponse: { iss?: string | null } | undefined;
  /** When set, discovery reports this as `issuer`. */
  metadataIssuerOverride: string | undefined;
  readonly authorizationRequests: URLSearchParams[];
  readonly tokenRequests: URLSearchParams[];
  /** Every access token issued, in order (to check a client never stores or logs them in clear). */
  readonly issuedAccessTokens: string[];
  /** Follows nothing: requests the authorization URL and returns its Location (the callback). */
  approve(authorizationUrl: string): Promise<URL>;
  close(): Promise<void>;
}

interface IssuedCode {
  identity: ScriptedIdentity;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | null;
  scope: string;
  expiresAt: number;
}

interface Keys {
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

interface State {
  idp: ScriptedIdp;
  options: ScriptedIdpOptions;
  keys: Keys;
  codes: Map<string, IssuedCode>;
  accessTokens: Map<string, { identity: ScriptedIdentity; scope: string }>;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

const CODE_TTL_MS = 60_000;

/** Starts the IdP on 127.0.0.1 (random port); close it with `close()`. */
export async function startScriptedIdp(options: ScriptedIdpOptions): Promise<ScriptedIdp> {
  const server = createServer();
  const origin = `http://127.0.0.1:${await listen(server)}`;
  const oidc = options.mode === 'oidc';
  const keys = await createKeys();
  const idp: ScriptedIdp = {
    mode: options.mode,
    issuer: origin,
    origin,
    authorizationEndpoint: `${origin}${oidc ? '/authorize' : '/login/oauth/authorize'}`,
    tokenEndpoint: `${origin}${oidc ? '/token' : '/login/oauth/access_token'}`,
    userinfoEndpoint: `${origin}${oidc ? '/userinfo' : '/user'}`,
    emailsEndpoint: oidc ? undefined : `${origin}/user/emails`,
    discoveryEndpoint: oidc ? `${origin}/.well-known/openid-configuration` : undefined,
    jwksUri: oidc ? `${origin}/jwks` : undefined,
    publicJwk: keys.publicJwk,
    nextIdentity: { sub: '1001' },
    tamper: undefined,
    tamperAuthorizationResponse: undefined,
    metadataIssuerOverride: undefined,
    authorizationRequests: [],
    tokenRequests: [],
    issuedAccessTokens: [],
    approve,
    close: () => closeServer(server),
  };
  const state: State = { idp, options, keys, codes: new Map(), accessTokens: new Map() };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(state, req)
      .then((reply) => send(res, reply))
      .catch((error: unknown) => send(res, json(500, { error: 'server_error', error_description: String(error) })));
  });
  return idp;
}

async function approve(authorizationUrl: string): Promise<URL> {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (location === null) throw new Error(`authorization endpoint answered ${response.status}: ${await response.text()}`);
  return new URL(location, authorizationUrl);
}

async function createKeys(): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `scripted-${randomBytes(4).toString('hex')}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  return { privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

function route(state: State, req: IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? '/', state.idp.origin);
  const key = `${req.method} ${url.pathname}`;
  if (state.options.mode === 'oidc') {
    switch (key) {
      case 'GET /.well-known/openid-configuration': return Promise.resolve(json(200, discovery(state.idp)));
      case 'GET /jwks': return Promise.resolve(json(200, { keys: [state.keys.publicJwk] }));
      case 'GET /authorize': return Promise.resolve(authorize(state, url.searchParams));
      case 'POST /token': return token(state, req);
      case 'GET /userinfo': return Promise.resolve(userinfo(state, req));
    }
  } else {
    switch (key) {
      case 'GET /login/oauth/authorize': return Promise.resolve(authorize(state, url.searchParams));
      case 'POST /login/oauth/access_token': return token(state, req);
      case 'GET /user': return Promise.resolve(githubUser(state, req));
      case 'GET /user/emails': return Promise.resolve(githubEmails(state, req));
    }
  }
  return Promise.resolve(json(404, { error: 'not_found' }));
}

function discovery(idp: ScriptedIdp): Record<string, unknown> {
  return {
    issuer: idp.metadataIssuerOverride ?? idp.issuer,
    authorization_endpoint: idp.authorizationEndpoint,
    token_endpoint: idp.tokenEndpoint,
    jwks_uri: idp.jwksUri,
    userinfo_endpoint: idp.userinfoEndpoint,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['openid', 'email', 'profile'],
    claims_supported: ['sub', 'email', 'email_verified', 'name'],
    authorization_response_iss_parameter_supported: true,
  };
}

function authorize(state: State, query: URLSearchParams): Reply {
  const { idp, options } = state;
  idp.authorizationRequests.push(query);
  // RFC 6749 §4.1.2.1: an unknown client or redirect_uri is never redirected to.
  if (query.get('client_id') !== options.client_id) return json(400, { error: 'invalid_request', error_description: 'unknown client_id' });
  if (query.get('redirect_uri') !== options.redirect_uri) return json(400, { error: 'invalid_request', error_description: 'redirect_uri mismatch' });
  const params = new URLSearchParams();
  const codeChallenge = query.get('code_challenge');
  if (options.mode === 'oidc' && query.get('response_type') !== 'code') {
    params.set('error', 'unsupported_response_type');
  } else if (codeChallenge === null || query.get('code_challenge_method') !== 'S256') {
    params.set('error', 'invalid_request');
    params.set('error_description', 'PKCE with S256 is required');
  } else {
    params.set('code', issueCode(state, query, codeChallenge));
  }
  const requestState = query.get('state');
  if (requestState !== null) params.set('state', requestState);
  const iss = responseIssuer(idp);
  if (iss !== null) params.set('iss', iss);
  const location = new URL(options.redirect_uri);
  for (const [name, value] of params) location.searchParams.append(name, value);
  return { status: 302, headers: { location: location.href } };
}

/** RFC 9207: oidc mode sends `iss` unless scripted otherwise; github mode only when scripted. */
function responseIssuer(idp: ScriptedIdp): string | null {
  const tamper = idp.tamperAuthorizationResponse;
  idp.tamperAuthorizationResponse = undefined;
  if (tamper !== undefined && 'iss' in tamper) return tamper.iss ?? null;
  return idp.mode === 'oidc' ? idp.issuer : null;
}

function issueCode(state: State, query: URLSearchParams, codeChallenge: string): string {
  const code = randomBytes(24).toString('base64url');
  state.codes.set(code, {
    identity: structuredClone(state.idp.nextIdentity),
    redirectUri: state.options.redirect_uri,
    codeChallenge,
    nonce: query.get('nonce'),
    scope: query.get('scope') ?? '',
    expiresAt: Date.now() + CODE_TTL_MS,
  });
  return code;
}

async function token(state: State, req: IncomingMessage): Promise<Reply> {
  const body = new URLSearchParams(await readBody(req));
  state.idp.tokenRequests.push(body);
  const github = state.options.mode === 'github';
  const failure = tokenRequestFailure(state, req, body);
  if (failure !== undefined) return github ? githubTokenError(req, failure) : json(failure.status, failure.body);
  const codeValue = body.get('code') ?? '';
  const code = state.codes.get(codeValue)!;
  state.codes.delete(codeValue);
  const accessToken = randomBytes(24).toString('base64url');
  state.accessTokens.set(accessToken, { identity: code.identity, scope: code.scope });
  state.idp.issuedAccessTokens.push(accessToken);
  if (github) return githubTokenResponse(req, accessToken, code.scope);
  return json(200, {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: 3600,
    id_token: await mintIdToken(state, code),
    scope: code.scope,
  });
}

interface TokenFailure {
  status: number;
  body: { error: string; error_description: string };
}

/** The token-request checks in order; a failed code check still consumes the code. */
function tokenRequestFailure(state: State, req: IncomingMessage, body: URLSearchParams): TokenFailure | undefined {
  const client = authenticatedClient(req.headers.authorization, body);
  if (client === 'both') return tokenFailure(400, 'invalid_request', 'more than one client authentication method');
  if (client === undefined || client.id !== state.options.client_id || client.secret !== state.options.client_secret) {
    return tokenFailure(401, 'invalid_client', 'client authentication failed');
  }
  if (body.get('grant_type') !== 'authorization_code') return tokenFailure(400, 'unsupported_grant_type', 'authorization_code only');
  const codeValue = body.get('code') ?? '';
  const code = state.codes.get(codeValue);
  if (code === undefined || code.expiresAt < Date.now()) return tokenFailure(400, 'invalid_grant', 'unknown, used or expired code');
  const reason = codeMismatch(code, body);
  if (reason === undefined) return undefined;
  state.codes.delete(codeValue);
  return tokenFailure(400, 'invalid_grant', reason);
}

function codeMismatch(code: IssuedCode, body: URLSearchParams): string | undefined {
  // RFC 6749 §4.1.3: the redirect_uri of the authorization request must be repeated.
  if (body.get('redirect_uri') !== code.redirectUri) return 'redirect_uri mismatch';
  // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
  const verifier = body.get('code_verifier');
  if (verifier === null || createHash('sha256').update(verifier).digest('base64url') !== code.codeChallenge) {
    return 'PKCE verification failed';
  }
  return undefined;
}

function tokenFailure(status: number, error: string, description: string): TokenFailure {
  return { status, body: { error, error_description: description } };
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function authenticatedClient(authorization: string | undefined, body: URLSearchParams): { id: string; secret: string } | 'both' | undefined {
  const posted = body.has('client_secret');
  if (authorization?.toLowerCase().startsWith('basic ')) {
    if (posted) return 'both';
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    const formDecode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    const id = formDecode(decoded.slice(0, colon));
    // A client_id in the body must name the same client as the header.
    if (body.has('client_id') && body.get('client_id') !== id) return undefined;
    return { id, secret: formDecode(decoded.slice(colon + 1)) };
  }
  if (!posted) return undefined;
  return { id: body.get('client_id') ?? '', secret: body.get('client_secret') ?? '' };
}

/** GitHub answers token errors with HTTP 200 and its own error codes. */
function githubTokenError(req: IncomingMessage, failure: TokenFailure): Reply {
  const error = failure.body.error === 'invalid_client' ? 'incorrect_client_credentials'
    : failure.body.error === 'invalid_grant' && failure.body.error_description === 'redirect_uri mismatch' ? 'redirect_uri_mismatch'
      : failure.body.error === 'invalid_grant' ? 'bad_verification_code' : failure.body.error;
  return githubForm(req, { error, error_description: failure.body.error_description });
}

function githubTokenResponse(req: IncomingMessage, accessToken: string, scope: string): Reply {
  // GitHub reports granted scopes comma-separated.
  return githubForm(req, { access_token: accessToken, token_type: 'bearer', scope: scope.split(/[\s,]+/).filter(Boolean).join(',') });
}

/** JSON when asked for with Accept, urlencoded otherwise, as GitHub does. */
function githubForm(req: IncomingMessage, fields: Record<string, string>): Reply {
  if (req.headers.accept?.includes('application/json')) return json(200, fields);
  return { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: new URLSearchParams(fields).toString() };
}

function bearer(state: State, req: IncomingMessage, schemes: RegExp): { identity: ScriptedIdentity; scope: string } | undefined {
  const match = schemes.exec(req.headers.authorization ?? '');
  return match?.[1] === undefined ? undefined : state.accessTokens.get(match[1]);
}

function userinfo(state: State, req: IncomingMessage): Reply {
  const grant = bearer(state, req, /^Bearer (\S+)$/i);
  if (grant === undefined) return { ...json(401, { error: 'invalid_token' }), headers: { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' } };
  const { sub, email, email_verified, name } = grant.identity;
  return json(200, withoutUndefined({ sub, email, email_verified, name }));
}

const GITHUB_TOKEN = /^(?:Bearer|token) (\S+)$/i;
const BAD_CREDENTIALS = { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' };

function githubUser(state: State, req: IncomingMessage): Reply {
  const grant = bearer(state, req, GITHUB_TOKEN);
  if (grant === undefined) return json(401, BAD_CREDENTIALS);
  const { sub, login, name, public_email } = grant.identity;
  return json(200, { id: Number(sub), login: login ?? `user${sub}`, name: name ?? null, email: public_email ?? null });
}

function githubEmails(state: State, req: IncomingMessage): Reply {
  const grant = bearer(state, req, GITHUB_TOKEN);
  if (grant === undefined) return json(401, BAD_CREDENTIALS);
  const scopes = grant.scope.split(/[\s,]+/);
  if (!scopes.includes('user:email') && !scopes.includes('user')) return json(404, { message: 'Not Found' });
  const { email, email_verified, emails } = grant.identity;
  const derived: GitHubEmail[] = email === undefined ? [] : [{ email, primary: true, verified: email_verified ?? false, visibility: 'private' }];
  return json(200, emails ?? derived);
}

async function mintIdToken(state: State, code: IssuedCode): Promise<string> {
  const tamper = state.idp.tamper;
  state.idp.tamper = undefined;
  const claims = tamperedClaims(idTokenClaims(state, code), tamper);
  const token = await signIdToken(state.keys, claims, tamper);
  return tamper === 'bad-signature' ? corruptLastCharacter(token) : token;
}

function idTokenClaims(state: State, code: IssuedCode): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const { sub, email, email_verified, name } = code.identity;
  return withoutUndefined({
    iss: state.idp.issuer,
    sub,
    aud: state.options.client_id,
    exp: now + 300,
    iat: now,
    nonce: code.nonce ?? undefined,
    email,
    email_verified,
    name,
  });
}

function tamperedClaims(claims: JWTPayload, tamper: Tamper | undefined): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const aud = String(claims.aud);
  switch (tamper) {
    case 'wrong-iss': return { ...claims, iss: 'https://evil.example' };
    case 'wrong-aud': return { ...claims, aud: 'someone-else' };
    case 'extra-aud-wrong-azp': return { ...claims, aud: [aud, 'other-client'], azp: 'other-client' };
    case 'expired': return { ...claims, exp: now - 600, iat: now - 900 };
    case 'future-iat': return { ...claims, iat: now + 3600, exp: now + 4000 };
    case 'missing-sub': return withoutKey(claims, 'sub');
    case 'wrong-nonce': return { ...claims, nonce: 'not-the-one' };
    case 'missing-nonce': return withoutKey(claims, 'nonce');
    default: return claims;
  }
}

async function signIdToken(keys: Keys, claims: JWTPayload, tamper: Tamper | undefined): Promise<string> {
  const kid = keys.publicJwk.kid!;
  switch (tamper) {
    case 'alg-none':
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
    case 'hs256-with-public-key':
      // Key confusion: the published public key (SPKI PEM bytes) used as an HMAC secret.
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(new TextEncoder().encode(keys.publicPem));
    case 'foreign-key': {
      const foreign = await generateKeyPair('RS256');
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(foreign.privateKey);
    }
    case 'duplicate-sub': {
      const input = `${base64url({ alg: 'RS256', typ: 'JWT', kid })}.${Buffer.from(`{"sub":"someone-else",${JSON.stringify(claims).slice(1)}`).toString('base64url')}`;
      return `${input}.${signBytes('sha256', Buffer.from(input), KeyObject.from(keys.privateKey)).toString('base64url')}`;
    }
    default:
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(keys.privateKey);
  }
}

/**
 * Changes the last base64url character of the signature so that the decoded bytes change too:
 * only its high bits carry data (the low ones are padding a lenient decoder ignores), so the
 * high bit of the 6-bit value is flipped.
 */
export function corruptLastCharacter(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const index = alphabet.indexOf(token.at(-1) ?? '');
  return `${token.slice(0, -1)}${alphabet[index ^ 0b100000]}`;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

function withoutKey(claims: JWTPayload, key: string): JWTPayload {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => name !== key));
}

function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'cache-control': 'no-store', ...reply.headers });
  res.end(reply.body ?? '');
}

