import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../../config/schema.ts';
import { apiError } from '../../../errors/catalog.ts';
import { errorResponse } from '../../../http/schemas.ts';
import type { AdminAccess } from '../../admin/access.ts';
import type { ClientActor } from '../../clients/registry.ts';
import { clientKey } from '../../rate-limit/client-key.ts';
import { tooManyRequests, type RateLimiter } from '../../rate-limit/limiter.ts';
import { INITIAL_TOKEN_MAX_SECONDS, type InitialTokenIssuer, type RegistrationService } from './service.ts';

const HOUR_MS = 3600_000;

/**
 * `/oauth/register` (RFC 7591) and `/oauth/register/:clientId` (RFC 7592), answering 404 while
 * `dynamicRegistration` is `off`. Every call counts against one per-IP budget.
 * Answers are `no-store`: they carry secrets or describe a client to its owner.
 */
export function registerDynamicRegistrationRoutes(app: FastifyInstance, deps: { service: RegistrationService; limiter: RateLimiter; config: Pick<Config, 'dynamicRegistrationsPerIp'>; enabled: boolean }): void {
  const rule = { name: 'dynamic-registration:ip', limit: deps.config.dynamicRegistrationsPerIp, windowMs: HOUR_MS };
  const limited = async (request: FastifyRequest): Promise<void> => {
    // Off: the same 404 as an unknown route (nothing counted, nothing parsed).
    if (!deps.enabled) throw apiError('not_found', 'No such endpoint.');
    const decision = await deps.limiter.hit(rule, clientKey(request.ip));
    if (!decision.allowed) throw tooManyRequests(decision);
  };
  const common = {
    onRequest: limited,
    onSend: async (_request: FastifyRequest, reply: { header(name: string, value: string): unknown }, payload: unknown) => {
      reply.header('cache-control', 'no-store');
      return payload;
    },
  };
  const errors = { 400: errorResponse, 401: errorResponse, 429: errorResponse };
  const body = { type: 'object', additionalProperties: true, description: 'RFC 7591 §2 client metadata.' } as const;
  const info = { type: 'object', additionalProperties: true, description: 'RFC 7591 §3.2.1 client information.' } as const;
  const params = { type: 'object', properties: { clientId: { type: 'string', minLength: 1, maxLength: 128 } }, required: ['clientId'] } as const;

  app.post<{ Body: Record<string, unknown> }>('/oauth/register', {
    ...common,
    schema: { tags, summary: 'Register a client (RFC 7591). An initial access token is required unless registration is open.', body, response: { ...errors, 201: info } },
  }, async (request, reply) => reply.code(201).send(await deps.service.register(request.body, bearer(request), actor(request))));

  app.get<{ Params: { clientId: string } }>('/oauth/register/:clientId', {
    ...common,
    schema: { tags, summary: 'Read a dynamically registered client (RFC 7592 §2.1); authenticated by its registration access token.', params, response: { ...errors, 200: info } },
  }, async (request) => deps.service.read(request.params.clientId, bearer(request)));

  app.put<{ Params: { clientId: string }; Body: Record<string, unknown> }>('/oauth/register/:clientId', {
    ...common,
    schema: { tags, summary: 'Replace the metadata of a dynamically registered client (RFC 7592 §2.2).', params, body, response: { ...errors, 200: info } },
  }, async (request) => deps.service.replace(request.params.clientId, bearer(request), request.body, actor(request)));

  app.delete<{ Params: { clientId: string } }>('/oauth/register/:clientId', {
    ...common,
    schema: { tags, summary: 'Delete a dynamically registered client and revoke its tokens (RFC 7592 §2.3).', params, response: { ...errors, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await deps.service.remove(request.params.clientId, bearer(request), actor(request));
    return reply.code(204).send();
  });
}

/**
 * `POST /api/admin/initial-access-tokens`: admin sessions or client tokens with `admin:clients`
 * (access.ts), as the rest of the clients admin API. The token is shown once.
 */
export function registerInitialAccessTokenRoute(app: FastifyInstance, deps: { issuer: InitialTokenIssuer; access: AdminAccess }): void {
  const adminOnly = deps.access.require('admin:clients');
  app.post<{ Body: { expires_in?: number; uses?: number | null } }>('/api/admin/initial-access-tokens', {
    onRequest: adminOnly,
    schema: {
      tags: ['admin'],
      summary: 'Issue an initial access token for dynamic client registration (RFC 7591 §3). Shown once; only its SHA-256 is stored.',
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          expires_in: { type: 'integer', minimum: 60, maximum: INITIAL_TOKEN_MAX_SECONDS, description: 'Seconds; default 86400.' },
          uses: { type: ['integer', 'null'], minimum: 1, description: 'Registrations it allows; default 1, null: unlimited until it expires.' },
        },
      },
      response: {
        400: errorResponse, 401: errorResponse, 403: errorResponse,
        201: {
          type: 'object',
          properties: { id: { type: 'string' }, initial_access_token: { type: 'string' }, expires_at: { type: 'integer', description: 'ms since the epoch' }, uses: { type: ['integer', 'null'] } },
          required: ['id', 'initial_access_token', 'expires_at', 'uses'],
        },
      },
    },
  }, async (request, reply) => {
    const input = request.body ?? {};
    const issued = await deps.issuer.issue({
      ...(input.expires_in === undefined ? {} : { expiresInSeconds: input.expires_in }),
      ...(input.uses === undefined ? {} : { uses: input.uses }),
      createdBy: deps.access.caller(request).id,
    });
    return reply.code(201).send({ id: issued.id, initial_access_token: issued.token, expires_at: issued.expiresAt, uses: issued.uses });
  });
}

const tags = ['oauth'];

/** RFC 6750 §2.1 only; the scheme name is case-insensitive. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  return match ? match[1] : '';
}

function actor(request: FastifyRequest): ClientActor {
  const agent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null };
}
