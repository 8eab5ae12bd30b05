import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { errorResponse } from '../../http/schemas.ts';
import { clientView, type ClientMetadata } from '../clients/model.ts';
import type { ClientRegistry } from '../clients/registry.ts';
import type { AdminAccess, AdminCaller } from './access.ts';

/**
 * The admin API for OAuth clients under `/api/admin/clients`: an admin session or a
 * client-credentials token with `admin:clients` (access.ts, SEC-ASVS-01). `client_secret`
 * appears only in the create and rotate answers.
 */
export function registerAdminClientRoutes(app: FastifyInstance, deps: { registry: ClientRegistry; access: AdminAccess }): void {
  const { registry, access } = deps;
  const adminOnly = access.require('admin:clients');
  const actor = (request: Parameters<AdminAccess['caller']>[0]) => changeActor(access.caller(request));
  const common = { tags, response: { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse } };

  app.get('/api/admin/clients', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'List OAuth clients (never their secrets).', response: { ...common.response, 200: { type: 'object', properties: { clients: { type: 'array', items: clientSchema } }, required: ['clients'] } } },
  }, async () => ({ clients: (await registry.list()).map(clientView) }));

  app.post<{ Body: ClientMetadata }>('/api/admin/clients', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Register an OAuth client. A generated client_secret (secret methods) is in this answer only.',
      body: { type: 'object', additionalProperties: false, required: ['name', 'type'], properties: metadataProperties },
      response: { ...common.response, 201: clientWithSecretSchema },
    },
  }, async (request, reply) => {
    const { client, clientSecret } = await registry.create(request.body, { source: 'api', actor: actor(request) });
    return reply.code(201).send({ ...clientView(client), ...(clientSecret === undefined ? {} : { client_secret: clientSecret }) });
  });

  app.get<{ Params: { clientId: string } }>('/api/admin/clients/:clientId', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'One OAuth client.', params: clientIdParams, response: { ...common.response, 200: clientSchema } },
  }, async (request) => {
    const client = await registry.get(request.params.clientId);
    if (!client) throw apiError('not_found', 'No such client.');
    return clientView(client);
  });

  app.patch<{ Params: { clientId: string }; Body: ClientMetadata }>('/api/admin/clients/:clientId', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Change an OAuth client: the fields sent replace the current ones; the result is validated as a whole. Config-file clients are changed in the config file.',
      params: clientIdParams,
      body: { type: 'object', additionalProperties: false, properties: metadataProperties },
      response: { ...common.response, 200: clientWithSecretSchema },
    },
  }, async (request) => {
    const { client, clientSecret } = await registry.update(request.params.clientId, request.body, { actor: actor(request) });
    return { ...clientView(client), ...(clientSecret === undefined ? {} : { client_secret: clientSecret }) };
  });

  app.delete<{ Params: { clientId: string } }>('/api/admin/clients/:clientId', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'Delete an OAuth client with its grants and refresh tokens.', params: clientIdParams, response: { ...common.response, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await registry.delete(request.params.clientId, { actor: actor(request) });
    return reply.code(204).send();
  });

  app.post<{ Params: { clientId: string }; Body: { grace_period_seconds?: number } }>('/api/admin/clients/:clientId/secret', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Rotate the client secret. The new one is in this answer only; the old one keeps working for grace_period_seconds (default 0).',
      params: clientIdParams,
      body: { type: 'object', additionalProperties: false, properties: { grace_period_seconds: { type: 'integer', minimum: 0 } } },
      response: { ...common.response, 200: clientWithSecretSchema },
    },
  }, async (request) => {
    const options = request.body?.grace_period_seconds === undefined ? {} : { gracePeriodSeconds: request.body.grace_period_seconds };
    const { client, clientSecret } = await registry.rotateSecret(request.params.clientId, { ...options, actor: actor(request) });
    return { ...clientView(client), client_secret: clientSecret };
  });
}

/** The audit's subject stays the admin user (as before); `actorId` names user and machine callers alike. */
export function changeActor(caller: AdminCaller): { userId?: string; actorId: string; ip: string; userAgent: string | null } {
  return { ...(caller.kind === 'user' ? { userId: caller.id } : {}), actorId: caller.id, ip: caller.ip, userAgent: caller.userAgent };
}

const tags = ['admin'];

const stringList = { type: 'array', items: { type: 'string' } } as const;
const ttl = { type: ['integer', 'null'] } as const;
const jwks = {
  type: ['object', 'null'],
  properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
} as const;

/** Types only; the registry's validation gives the rules and the field-naming messages. */
const metadataProperties = {
  client_id: { type: 'string', minLength: 1, maxLength: 128 },
  name: { type: 'string', maxLength: 200 },
  type: { type: 'string', enum: ['confidential', 'public'] },
  token_endpoint_auth_method: { type: 'string', enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] },
  grant_types: { type: 'array', items: { type: 'string', enum: ['authorization_code', 'refresh_token', 'client_credentials'] } },
  redirect_uris: stringList,
  post_logout_redirect_uris: stringList,
  scopes: stringList,
  audiences: stringList,
  access_token_ttl_seconds: ttl,
  refresh_token_idle_ttl_seconds: ttl,
  refresh_token_absolute_ttl_seconds: ttl,
  first_party: { type: 'boolean' },
  jwks,
  backchannel_logout_uri: { type: ['string', 'null'], maxLength: 2000 },
  backchannel_logout_session_required: { type: 'boolean' },
  require_pushed_authorization_requests: { type: 'boolean' },
  // RFC 7591 §2 branding (shown on the sign-in and consent pages); https URLs, email addresses.
  logo_uri: { type: ['string', 'null'], maxLength: 2000 },
  client_uri: { type: ['string', 'null'], maxLength: 2000 },
  policy_uri: { type: ['string', 'null'], maxLength: 2000 },
  tos_uri: { type: ['string', 'null'], maxLength: 2000 },
  contacts: { type: 'array', items: { type: 'string', maxLength: 320 } },
} as const;

const clientProperties = {
  ...metadataProperties,
  client_id: { type: 'string' },
  name: { type: 'string' },
  source: { type: 'string', enum: ['api', 'cli', 'config', 'dynamic'] },
  created_at: { type: 'integer', description: 'ms since the epoch' },
  updated_at: { type: 'integer', description: 'ms since the epoch' },
} as const;

const clientRequired = [
  'client_id', 'name', 'type', 'token_endpoint_auth_method', 'grant_types', 'redirect_uris', 'post_logout_redirect_uris', 'scopes', 'audiences',
  'access_token_ttl_seconds', 'refresh_token_idle_ttl_seconds', 'refresh_token_absolute_ttl_seconds', 'first_party', 'jwks', 'backchannel_logout_uri', 'backchannel_logout_session_required', 'require_pushed_authorization_requests', 'logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'contacts', 'source', 'created_at', 'updated_at',
];

const clientSchema = { type: 'object', properties: clientProperties, required: clientRequired } as const;

const clientWithSecretSchema = {
  type: 'object',
  properties: { ...clientProperties, client_secret: { type: 'string', description: 'Shown once; only its SHA-256 is stored.' } },
  required: clientRequired,
} as const;

const clientIdParams = { type: 'object', properties: { clientId: { type: 'string', minLength: 1, maxLength: 128 } }, required: ['clientId'] } as const;
