import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { errorResponse } from '../../http/schemas.ts';
import { callbackUrl, PROVIDER_FIELDS, providerView, type Provider } from '../social/providers.ts';
import type { ProviderRegistry } from '../social/registry.ts';
import type { AdminAccess } from './access.ts';
import { changeActor } from './clients-routes.ts';

/**
 * The admin API for social-login providers under `/api/admin/identity-providers`: an admin
 * session or a client-credentials token with `admin:identity-providers` (access.ts). `client_secret` is write-only: sealed under the master key, never in an answer.
 * Providers declared in the config file are listed with `source: "config"` and are changed there.
 */
export function registerAdminIdentityProviderRoutes(app: FastifyInstance, deps: { registry: ProviderRegistry; access: AdminAccess; publicUrl: string }): void {
  const { registry, access } = deps;
  const adminOnly = access.require('admin:identity-providers');
  const actor = (request: Parameters<AdminAccess['caller']>[0]) => changeActor(access.caller(request));
  const common = { tags: ['admin'], response: { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse } };
  const view = (provider: Provider) => ({ ...providerView(provider), redirect_uri: callbackUrl(deps.publicUrl, provider.id) });

  app.get('/api/admin/identity-providers', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'List social-login providers (never their secrets).', response: { ...common.response, 200: { type: 'object', properties: { providers: { type: 'array', items: providerSchema } }, required: ['providers'] } } },
  }, async () => ({ providers: (await registry.list()).map(view) }));

  app.post<{ Body: Record<string, unknown> }>('/api/admin/identity-providers', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Add a social-login provider (preset google/github, or type oidc/oauth2). The answer has the redirect_uri to register upstream.',
      body: { type: 'object', additionalProperties: false, required: ['id', 'client_id', 'client_secret'], properties: bodyProperties },
      response: { ...common.response, 201: providerSchema },
    },
  }, async (request, reply) => reply.code(201).send(view(await registry.create(request.body, actor(request)))));

  app.get<{ Params: { id: string } }>('/api/admin/identity-providers/:id', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'One social-login provider.', params: idParams, response: { ...common.response, 200: providerSchema } },
  }, async (request) => {
    const provider = await registry.get(request.params.id);
    if (!provider) throw apiError('not_found', 'No such provider.');
    return view(provider);
  });

  app.patch<{ Params: { id: string }; Body: Record<string, unknown> }>('/api/admin/identity-providers/:id', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Change a provider: the fields sent replace the current ones (client_secret rotates the secret); the result is validated as a whole.',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: bodyProperties },
      response: { ...common.response, 200: providerSchema },
    },
  }, async (request) => view(await registry.update(request.params.id, request.body, actor(request))));

  app.delete<{ Params: { id: string } }>('/api/admin/identity-providers/:id', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'Remove a provider. Identities linked through it stay linked and work again if it is added back.', params: idParams, response: { ...common.response, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await registry.remove(request.params.id, actor(request));
    return reply.code(204).send();
  });
}

const stringList = { type: 'array', items: { type: 'string' } } as const;
const url = { type: 'string', maxLength: 2000 } as const;

/** Types only; providers.ts gives the rules and the field-naming messages. */
const settingsProperties = {
  id: { type: 'string', minLength: 1, maxLength: 32 },
  preset: { type: 'string', enum: ['google', 'github'] },
  type: { type: 'string', enum: ['oidc', 'oauth2'] },
  name: { type: 'string', maxLength: 60 },
  issuer: url,
  discovery_url: url,
  authorization_endpoint: url,
  token_endpoint: url,
  userinfo_endpoint: url,
  emails_endpoint: url,
  claims: { type: 'object', additionalProperties: { type: 'string' } },
  client_id: { type: 'string', maxLength: 500 },
  token_endpoint_auth_method: { type: 'string', enum: ['client_secret_basic', 'client_secret_post'] },
  scopes: stringList,
  id_token_signed_response_alg: { type: 'string' },
  store_tokens: { type: 'boolean' },
  enabled: { type: 'boolean' },
} as const satisfies Record<(typeof PROVIDER_FIELDS)[number], unknown>;

const bodyProperties = { ...settingsProperties, client_secret: { type: 'string', minLength: 1, maxLength: 1000, description: 'Write-only: sealed at rest, never returned.' } } as const;

const providerSchema = {
  type: 'object',
  properties: {
    ...settingsProperties,
    source: { type: 'string', enum: ['config', 'api'] },
    redirect_uri: { type: 'string', description: 'The callback URL to register at the upstream provider, exactly.' },
  },
  required: ['id', 'type', 'name', 'issuer', 'client_id', 'token_endpoint_auth_method', 'scopes', 'store_tokens', 'enabled', 'source', 'redirect_uri'],
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 32 } }, required: ['id'] } as const;
