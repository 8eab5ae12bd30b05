import type { OpenAPIV3_1 } from 'openapi-types';
import { errorResponse } from './schemas.ts';

/**
 * What the OpenAPI document says about each operation beyond its route schema: a stable
 * `operationId` (clients generate code from it: never rename one), how it is authenticated, and
 * the 4xx answers it can give. Applied by `describeRoute` from the swagger `transform`, so route
 * files keep only their own request/response schemas. Routes missing here still get a derived
 * id (`postApiAuthSomething`) and the security of their path prefix.
 */

/** Security requirement names, defined in `securitySchemes()`. */
type Auth = 'public' | 'session' | 'optionalSession' | 'admin' | 'bearer' | 'client' | 'confidentialClient';

interface OperationSpec {
  operationId: string;
  auth: Auth;
  /** 4xx (and 503) answers added with the error body, unless the route schema has its own. */
  errors?: readonly number[];
  /** The success answer, for routes whose schema has none. */
  success?: Record<number, unknown>;
  /** For routes hidden from the route schema (pages, probes): what the document shows instead. */
  document?: Record<string, unknown>;
}

const SESSION_ERRORS = [401] as const;
/** Cookie-authenticated writes: the Origin / Fetch Metadata check and the JSON-only body rule. */
const SESSION_WRITE_ERRORS = [400, 401, 403, 415] as const;
const CLIENT_ERRORS = [400, 401] as const;
/** Admin calls: unauthenticated, not allowed (or cross-site), unknown object, body type. */
const ADMIN_ERRORS = [400, 401, 403, 404, 415] as const;

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const redirect = (description: string) => ({ description, type: 'null' });

/** OAuth 2.1 client authentication in the form body (client_secret_post, private_key_jwt, none). */
const clientAuthFields = {
  client_id: { type: 'string', description: 'client_secret_post, private_key_jwt and public clients (none).' },
  client_secret: { type: 'string', description: 'client_secret_post.' },
  client_assertion_type: { type: 'string', enum: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'], description: 'private_key_jwt (RFC 7523).' },
  client_assertion: { type: 'string', description: 'private_key_jwt: a JWT signed with a key from the client’s registered JWKS.' },
} as const;

const tokenRequest = {
  type: 'object',
  properties: {
    grant_type: { type: 'string', enum: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'] },
    device_code: { type: 'string', description: 'urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4).' },
    code: { type: 'string' },
    redirect_uri: { type: 'string' },
    code_verifier: { type: 'string' },
    refresh_token: { type: 'string' },
    scope: { type: 'string' },
    resource: { type: 'string' },
    // RFC 8693 §2.1 (token exchange); a DPoP proof (RFC 9449) travels in the DPoP header.
    audience: { type: 'string', description: 'Token exchange: the target audience(s), space-separated (or resource).' },
    subject_token: { type: 'string', description: 'Token exchange: the access token (or, where the policy allows, ID token) to act for.' },
    subject_token_type: { type: 'string', enum: ['urn:ietf:params:oauth:token-type:access_token', 'urn:ietf:params:oauth:token-type:id_token'] },
    actor_token: { type: 'string', description: 'Token exchange: an access token of the calling client naming the actor.' },
    actor_token_type: { type: 'string', enum: ['urn:ietf:params:oauth:token-type:access_token'] },
    requested_token_type: { type: 'string', enum: ['urn:ietf:params:oauth:token-type:access_token'] },
    ...clientAuthFields,
  },
  required: ['grant_type'],
} as const;

/** RFC 8628 §3.1. */
const deviceAuthorizationRequest = {
  type: 'object',
  properties: { scope: { type: 'string' }, resource: { type: 'string' }, ...clientAuthFields },
  required: ['scope'],
} as const;

const tokenParameter = {
  type: 'object',
  properties: { token: { type: 'string' }, token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'] }, ...clientAuthFields },
  required: ['token'],
} as const;

const authorizationQuery = {
  type: 'object',
  properties: {
    response_type: { type: 'string', enum: ['code'] },
    client_id: { type: 'string' },
    redirect_uri: { type: 'string' },
    scope: { type: 'string' },
    state: { type: 'string' },
    nonce: { type: 'string' },
    code_challenge: { type: 'string' },
    code_challenge_method: { type: 'string', enum: ['S256'] },
    prompt: { type: 'string' },
    max_age: { type: 'string' },
    login_hint: { type: 'string' },
  },
} as const;

const endSessionQuery = {
  type: 'object',
  properties: { id_token_hint: { type: 'string' }, client_id: { type: 'string' }, post_logout_redirect_uri: { type: 'string' }, state: { type: 'string' } },
} as const;

const authorizeResponses = {
  200: html('The sign-in or consent page.'),
  302: redirect('Back to the client’s redirect_uri with `code` and `state` (or `error`).'),
  400: html('An error page: the client or redirect_uri is unknown, so nothing is redirected.'),
};
const authorizeDocument = (summary: string, where: 'querystring' | 'body') => ({
  tags: ['oidc'],
  summary,
  ...(where === 'querystring' ? { querystring: authorizationQuery } : { body: authorizationQuery, consumes: ['application/x-www-form-urlencoded'] }),
  response: authorizeResponses,
});
const endSessionDocument = (summary: string, where: 'querystring' | 'body') => ({
  tags: ['oidc'],
  summary,
  ...(where === 'querystring' ? { querystring: endSessionQuery } : { body: endSessionQuery, consumes: ['application/x-www-form-urlencoded'] }),
  response: { 200: html('A confirmation page, or the signed-out page.'), 302: redirect('To the registered post_logout_redirect_uri.'), 400: html('An error page (an invalid id_token_hint or redirect URI).') },
});

const introspectionResponse = {
  description: 'RFC 7662 §2.2: exactly {"active":false} for anything not active.',
  type: 'object',
  properties: { active: { type: 'boolean' }, scope: { type: 'string' }, client_id: { type: 'string' }, sub: { type: 'string' }, exp: { type: 'integer' }, iat: { type: 'integer' }, token_type: { type: 'string' } },
  required: ['active'],
  additionalProperties: true,
} as const;
const userinfoResponse = { description: 'The user’s claims for the token’s scopes.', type: 'object', properties: { sub: { type: 'string' } }, required: ['sub'], additionalProperties: true } as const;

const checkResult = { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'string' } } }, required: ['status'] } as const;

export const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  // Sessions and accounts (first-party, cookie session).
  'GET /api/auth/session': { operationId: 'getSession', auth: 'session', errors: SESSION_ERRORS },
  'GET /api/auth/sessions': { operationId: 'listSessions', auth: 'session', errors: SESSION_ERRORS },
  'DELETE /api/auth/sessions/:id': { operationId: 'revokeSession', auth: 'session', errors: SESSION_WRITE_ERRORS },
  'POST /api/auth/sessions/revoke-others': { operationId: 'revokeOtherSessions', auth: 'session', errors: SESSION_WRITE_ERRORS },
  'POST /api/auth/sign-out': { operationId: 'signOut', auth: 'optionalSession', errors: [400, 403, 415] },
  'POST /api/auth/sign-up': { operationId: 'signUp', auth: 'public', errors: [400, 403, 415, 429] },
  'POST /api/auth/sign-in': { operationId: 'signIn', auth: 'public', errors: [400, 401, 403, 415, 429] },
  'POST /api/auth/verify-email': { operationId: 'verifyEmail', auth: 'public', errors: [400, 403, 415] },
  'POST /api/auth/verify-email/resend': { operationId: 'resendVerificationEmail', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 429] },
  'POST /api/auth/forgot-password': { operationId: 'requestPasswordReset', auth: 'public', errors: [400, 403, 415, 429] },
  'POST /api/auth/reset-password': { operationId: 'resetPassword', auth: 'public', errors: [400, 403, 415, 429] },
  'POST /api/auth/change-password': { operationId: 'changePassword', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 429] },
  'PATCH /api/auth/me': { operationId: 'updateProfile', auth: 'session', errors: SESSION_WRITE_ERRORS },
  'GET /api/auth/applications': { operationId: 'listApplications', auth: 'session', errors: SESSION_ERRORS },
  'DELETE /api/auth/applications/:clientId': { operationId: 'revokeApplication', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 404], success: { 204: { description: 'Revoked.', type: 'null' } } },
  // Self-service (docs/accounts-and-sessions.md): email change (confirmed from the new address,
  // undoable from the old one: both links are public), account deletion, data export.
  'GET /api/account/email': { operationId: 'getAccountEmail', auth: 'session', errors: SESSION_ERRORS },
  'POST /api/account/email': { operationId: 'requestEmailChange', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 409, 429] },
  'POST /api/account/email/confirm': { operationId: 'confirmEmailChange', auth: 'public', errors: [400, 403, 409, 415] },
  'POST /api/account/email/undo': { operationId: 'undoEmailChange', auth: 'public', errors: [400, 403, 409, 415] },
  'POST /api/account/delete': { operationId: 'deleteMyAccount', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 429] },
  'GET /api/account/export': { operationId: 'exportMyData', auth: 'session', errors: SESSION_ERRORS },
  // MFA (docs/mfa.md): factors of the signed-in user; the second step and required enrolment take
  // the pending sign-in (cookie or mfa_token + client_id), not a session.
  'GET /api/auth/mfa': { operationId: 'listSecondFactors', auth: 'session', errors: SESSION_ERRORS },
  'POST /api/auth/mfa/totp': { operationId: 'startTotpEnrolment', auth: 'session', errors: SESSION_WRITE_ERRORS },
  'POST /api/auth/mfa/totp/confirm': { operationId: 'confirmTotpEnrolment', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 429] },
  'POST /api/auth/mfa/recovery-codes': { operationId: 'regenerateRecoveryCodes', auth: 'session', errors: SESSION_WRITE_ERRORS },
  'PATCH /api/auth/mfa/factors/:id': { operationId: 'renameSecondFactor', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 404] },
  'DELETE /api/auth/mfa/factors/:id': { operationId: 'removeSecondFactor', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 404] },
  'POST /api/auth/mfa/verify': { operationId: 'verifySecondFactor', auth: 'public', errors: [400, 401, 403, 415, 429] },
  'POST /api/auth/mfa/enrol/totp': { operationId: 'startRequiredTotpEnrolment', auth: 'public', errors: [400, 401, 403, 415] },
  'POST /api/auth/mfa/enrol/totp/confirm': { operationId: 'confirmRequiredTotpEnrolment', auth: 'public', errors: [400, 401, 403, 415, 429] },
  'POST /api/auth/mfa/enrol/passkey/options': { operationId: 'startRequiredPasskeyEnrolment', auth: 'public', errors: [400, 401, 403, 415] },
  'POST /api/auth/mfa/enrol/passkey': { operationId: 'confirmRequiredPasskeyEnrolment', auth: 'public', errors: [400, 401, 403, 409, 415, 429] },
  'POST /api/auth/mfa/step-up': { operationId: 'stepUp', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 429] },
  // Passkeys over the JSON API (docs/mfa.md). The second step's options take the pending sign-in
  // (cookie or mfa_token), not a session; passwordless sign-in is public.
  'POST /api/auth/mfa/passkeys/options': { operationId: 'startPasskeyRegistration', auth: 'session', errors: SESSION_WRITE_ERRORS },
  'POST /api/auth/mfa/passkeys': { operationId: 'addPasskey', auth: 'session', errors: [...SESSION_WRITE_ERRORS, 409, 429] },
  'POST /api/auth/mfa/passkey/options': { operationId: 'startPasskeySecondStep', auth: 'public', errors: [400, 401, 403, 415] },
  'POST /api/auth/mfa/step-up/passkey/options': { operationId: 'startPasskeyStepUp', auth: 'session', errors: SESSION_WRITE_ERRORS },
  'POST /api/auth/sign-in/passkey/options': { operationId: 'startPasskeySignIn', auth: 'public', errors: [400, 403, 415] },
  'POST /api/auth/sign-in/passkey': { operationId: 'signInWithPasskey', auth: 'public', errors: [400, 401, 403, 415, 429] },
  // OAuth 2.1 / OpenID Connect.
  'GET /oauth/authorize': { operationId: 'authorize', auth: 'optionalSession', document: authorizeDocument('Authorization endpoint (authorization code + PKCE); a browser navigation that ends at the client’s redirect_uri.', 'querystring') },
  'POST /oauth/authorize': { operationId: 'authorizeWithForm', auth: 'optionalSession', document: authorizeDocument('Authorization endpoint, parameters form-encoded (OpenID Connect Core §3.1.2.1).', 'body') },
  'GET /oauth/end-session': { operationId: 'endSession', auth: 'optionalSession', document: endSessionDocument('RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).', 'querystring') },
  'POST /oauth/end-session': { operationId: 'endSessionWithForm', auth: 'optionalSession', document: endSessionDocument('RP-initiated logout, parameters form-encoded.', 'body') },
  'POST /oauth/token': { operationId: 'requestToken', auth: 'client', errors: CLIENT_ERRORS },
  'POST /oauth/device_authorization': { operationId: 'requestDeviceAuthorization', auth: 'client', errors: CLIENT_ERRORS },
  'POST /oauth/par': { operationId: 'pushAuthorizationRequest', auth: 'client', errors: CLIENT_ERRORS },
  'POST /oauth/revoke': { operationId: 'revokeToken', auth: 'client', errors: CLIENT_ERRORS, success: { 200: { description: 'Revoked, or the token was unknown (RFC 7009 §2.2).', type: 'null' } } },
  'POST /oauth/introspect': { operationId: 'introspectToken', auth: 'client', errors: [...CLIENT_ERRORS, 429], success: { 200: introspectionResponse } },
  'GET /oauth/userinfo': { operationId: 'getUserinfo', auth: 'bearer', errors: [401, 403], success: { 200: userinfoResponse } },
  'POST /oauth/userinfo': { operationId: 'postUserinfo', auth: 'bearer', errors: [400, 401, 403], success: { 200: userinfoResponse } },
  'GET /.well-known/openid-configuration': { operationId: 'getOpenIDConfiguration', auth: 'public' },
  'GET /.well-known/oauth-authorization-server': { operationId: 'getAuthorizationServerMetadata', auth: 'public' },
  'GET /.well-known/jwks.json': { operationId: 'getJWKS', auth: 'public' },
  'GET /api/revocations/stream': { operationId: 'streamRevocations', auth: 'confidentialClient', errors: [401, 403], success: { 200: { description: 'Server-Sent Events: `event: revocation` with `{kind, value, revoked_at, expires_at}`.', content: { 'text/event-stream': { schema: { type: 'string' } } } } } },
  // Administration: an admin session, or a client-credentials token with admin:clients / admin:identity-providers.
  'GET /api/admin/clients': { operationId: 'listClients', auth: 'admin' },
  'POST /api/admin/clients': { operationId: 'createClient', auth: 'admin' },
  'GET /api/admin/clients/:clientId': { operationId: 'getClient', auth: 'admin' },
  'PATCH /api/admin/clients/:clientId': { operationId: 'updateClient', auth: 'admin' },
  'DELETE /api/admin/clients/:clientId': { operationId: 'deleteClient', auth: 'admin' },
  'POST /api/admin/clients/:clientId/secret': { operationId: 'rotateClientSecret', auth: 'admin' },
  'POST /api/admin/initial-access-tokens': { operationId: 'createInitialAccessToken', auth: 'admin' },
  // RFC 7591/7592 (only when dynamicRegistration is on): an initial access token unless registration is open.
  'POST /oauth/register': { operationId: 'registerClient', auth: 'public', errors: [400, 401, 429] },
  'GET /oauth/register/:clientId': { operationId: 'readClientRegistration', auth: 'bearer', errors: [401, 429] },
  'PUT /oauth/register/:clientId': { operationId: 'updateClientRegistration', auth: 'bearer', errors: [400, 401, 429] },
  'DELETE /oauth/register/:clientId': { operationId: 'deleteClientRegistration', auth: 'bearer', errors: [401, 429] },
  'GET /api/admin/identity-providers': { operationId: 'listIdentityProviders', auth: 'admin' },
  'POST /api/admin/identity-providers': { operationId: 'createIdentityProvider', auth: 'admin' },
  'GET /api/admin/identity-providers/:id': { operationId: 'getIdentityProvider', auth: 'admin' },
  'PATCH /api/admin/identity-providers/:id': { operationId: 'updateIdentityProvider', auth: 'admin' },
  'DELETE /api/admin/identity-providers/:id': { operationId: 'deleteIdentityProvider', auth: 'admin' },
  // User administration (an admin session, or a client-credentials token with admin:users).
  'GET /api/admin/users': { operationId: 'listUsers', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/users': { operationId: 'createUser', auth: 'admin', errors: ADMIN_ERRORS },
  'GET /api/admin/users/:userId': { operationId: 'getUser', auth: 'admin', errors: ADMIN_ERRORS },
  'PATCH /api/admin/users/:userId': { operationId: 'updateUser', auth: 'admin', errors: ADMIN_ERRORS },
  'DELETE /api/admin/users/:userId': { operationId: 'deleteUser', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/users/:userId/disable': { operationId: 'disableUser', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/users/:userId/enable': { operationId: 'enableUser', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/users/:userId/password-reset': { operationId: 'sendUserPasswordReset', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/users/:userId/mfa-reset': { operationId: 'resetUserMfa', auth: 'admin', errors: ADMIN_ERRORS },
  'GET /api/admin/users/:userId/sessions': { operationId: 'listUserSessions', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/users/:userId/sessions/revoke-all': { operationId: 'revokeAllUserSessions', auth: 'admin', errors: ADMIN_ERRORS },
  'DELETE /api/admin/users/:userId/sessions/:sessionId': { operationId: 'revokeUserSession', auth: 'admin', errors: ADMIN_ERRORS },
  'GET /api/admin/users/:userId/grants': { operationId: 'listUserGrants', auth: 'admin', errors: ADMIN_ERRORS },
  'DELETE /api/admin/users/:userId/grants/:clientId': { operationId: 'revokeUserGrant', auth: 'admin', errors: ADMIN_ERRORS },
  // The role catalog (an admin session, or a client-credentials token with admin:roles).
  'GET /api/admin/roles': { operationId: 'listRoles', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/roles': { operationId: 'createRole', auth: 'admin', errors: ADMIN_ERRORS },
  'GET /api/admin/roles/:name': { operationId: 'getRole', auth: 'admin', errors: ADMIN_ERRORS },
  'PATCH /api/admin/roles/:name': { operationId: 'updateRole', auth: 'admin', errors: ADMIN_ERRORS },
  'DELETE /api/admin/roles/:name': { operationId: 'deleteRole', auth: 'admin', errors: ADMIN_ERRORS },
  // The audit log (admin:audit) and the signing keys (admin:keys).
  'GET /api/admin/audit': { operationId: 'listAuditEvents', auth: 'admin', errors: [400, 401, 403] },
  'GET /api/admin/audit/export': { operationId: 'exportAuditEvents', auth: 'admin', errors: [400, 401, 403], success: { 200: { description: 'Every matching event, newest first, streamed: NDJSON (the event objects of listAuditEvents) or CSV (RFC 4180; cells starting with = + - @ prefixed with a quote).', content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } } } },
  'GET /api/admin/keys': { operationId: 'listSigningKeys', auth: 'admin', errors: [401, 403] },
  'POST /api/admin/keys/rotate': { operationId: 'rotateSigningKey', auth: 'admin', errors: ADMIN_ERRORS },
  'POST /api/admin/keys/:kid/retire': { operationId: 'retireSigningKey', auth: 'admin', errors: ADMIN_ERRORS },
  // Branding text settings over the config (admin:branding, docs/branding.md).
  'GET /api/admin/branding': { operationId: 'getBranding', auth: 'admin', errors: [401, 403] },
  'PATCH /api/admin/branding': { operationId: 'updateBranding', auth: 'admin', errors: [400, 401, 403, 415] },
  // Probes (also on the admin listener).
  'GET /healthz': { operationId: 'getHealth', auth: 'public', document: { tags: ['health'], summary: 'Liveness: the process answers (no I/O).', response: { 200: checkResult } } },
  'GET /readyz': { operationId: 'getReadiness', auth: 'public', document: { tags: ['health'], summary: 'Readiness: the database and the ephemeral store answer; 503 names the failing part.', response: { 200: checkResult, 503: { ...errorResponse, properties: { ...errorResponse.properties, checks: checkResult.properties.checks } } } } },
};

/** Form bodies of the back-channel endpoints (parsed by `formBody`, so not in their route schemas). */
const FORM_BODIES: Readonly<Record<string, unknown>> = {
  'POST /oauth/token': tokenRequest,
  'POST /oauth/device_authorization': deviceAuthorizationRequest,
  'POST /oauth/par': { ...authorizationQuery, properties: { ...authorizationQuery.properties, resource: { type: 'string' }, ...clientAuthFields }, required: ['response_type', 'code_challenge', 'code_challenge_method'] },
  'POST /oauth/revoke': tokenParameter,
  'POST /oauth/introspect': tokenParameter,
};

/** The security schemes; the session cookie's name comes from config. */
export function securitySchemes(sessionCookieName: string): Record<string, OpenAPIV3_1.SecuritySchemeObject> {
  return {
    session: { type: 'apiKey', in: 'cookie', name: sessionCookieName, description: 'The first-party session cookie set by sign-in. Writes also need a same-origin Origin (or Sec-Fetch-Site) header.' },
    bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An RFC 9068 access token issued by /oauth/token.' },
    clientSecretBasic: {
      type: 'http',
      scheme: 'basic',
      description: 'OAuth client authentication client_secret_basic (RFC 6749 §2.3.1). client_secret_post, private_key_jwt (client_assertion, RFC 7523) and none travel in the form body instead: see the request body fields.',
    },
  };
}

const SECURITY: Record<Auth, readonly Record<string, string[]>[]> = {
  public: [],
  session: [{ session: [] }],
  // `{}`: works without it too (a browser that is not signed in sees the sign-in page).
  optionalSession: [{}, { session: [] }],
  // An admin session, or a client-credentials token with the area's admin scope (admin:users …).
  admin: [{ session: [] }, { bearer: [] }],
  bearer: [{ bearer: [] }],
  // `{}`: credentials in the form body (client_secret_post, private_key_jwt) or a public client.
  client: [{ clientSecretBasic: [] }, {}],
  confidentialClient: [{ clientSecretBasic: [] }],
};

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is malformed or a parameter is invalid.',
  401: 'Not authenticated (no session, or client authentication failed).',
  403: 'Authenticated but not allowed, or a cross-site request.',
  404: 'No such resource.',
  409: 'Conflicts with the current state.',
  415: 'The body has the wrong content type.',
  429: 'Too many requests; see Retry-After.',
};

function fallback(method: string, url: string): OperationSpec {
  const words = url.split(/[^A-Za-z0-9]+/).filter(Boolean).map((word) => word[0]!.toUpperCase() + word.slice(1));
  const auth: Auth = url.startsWith('/api/admin/') ? 'admin' : url.startsWith('/api/auth/') ? 'session' : url.startsWith('/oauth/') ? 'client' : 'public';
  return { operationId: `${method.toLowerCase()}${words.join('')}`, auth };
}

/**
 * The document's view of one route: the route schema (never modified: Fastify validates with
 * it) plus `operationId`, `security`, form bodies and missing error responses.
 */
export function describeRoute(method: string, url: string, schema: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const key = `${method} ${url}`;
  const spec = OPERATIONS[key];
  if (!spec && schema?.hide === true) return schema;
  const { operationId, auth, errors = [], success = {}, document } = spec ?? fallback(method, url);
  const base: Record<string, unknown> = document ?? { ...schema };
  if (base.hide === true) return base;
  const response: Record<string, unknown> = { ...success, ...(base.response as Record<string, unknown> | undefined) };
  // What @fastify/swagger would have shown had the route no response schema at all.
  if (!Object.keys(response).some((status) => status.startsWith('2'))) response[200] = { description: 'Default Response', type: 'null' };
  for (const status of errors) {
    if (!(status in response)) response[status] = { description: ERROR_TEXT[status] ?? 'Client error.', ...errorResponse };
  }
  return {
    ...base,
    operationId,
    security: SECURITY[auth],
    ...(FORM_BODIES[key] && !base.body ? { body: FORM_BODIES[key] } : {}),
    ...(Object.keys(response).length > 0 ? { response } : {}),
  };
}
