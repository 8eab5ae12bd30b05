import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { errorResponse } from '../../http/schemas.ts';
import type { UserStore } from '../accounts/store.ts';
import { createAdminGuard } from '../admin/guard.ts';
import type { SessionAuth } from '../sessions/http.ts';
import { WEBHOOK_EVENT_TYPES } from './events.ts';
import { listDeliveries, replayDead } from './admin.ts';
import type { DeliveryStatus, OutboxStore } from './store.ts';
import type { SubscriptionRegistry, WebhookInput } from './subscriptions.ts';

/**
 * The admin API for webhooks under `/api/admin/webhooks`, admins only (SEC-ASVS-01, the same
 * guard as the clients API): endpoints, their delivery log, and replay of dead deliveries (which
 * also covers back-channel logout deliveries, by id).
 */
export function registerAdminWebhookRoutes(app: FastifyInstance, deps: { subscriptions: SubscriptionRegistry; store: OutboxStore; auth: SessionAuth; users: UserStore; now: () => number; onReplayed: () => void }): void {
  const { subscriptions } = deps;
  const { adminOnly } = createAdminGuard(deps);
  const common = { tags: ['admin'], response: { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse } };

  app.get('/api/admin/webhooks', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'List webhook endpoints (never their secrets).', response: { ...common.response, 200: { type: 'object', properties: { webhooks: { type: 'array', items: webhookSchema } }, required: ['webhooks'] } } },
  }, async () => ({ webhooks: await subscriptions.list() }));

  app.post<{ Body: WebhookInput }>('/api/admin/webhooks', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Register a webhook endpoint. A generated secret (whsec_…) is in this answer only; a secret sent in the request is never shown.',
      body: { type: 'object', additionalProperties: false, required: ['url', 'events'], properties: inputProperties },
      response: { ...common.response, 201: webhookWithSecretSchema },
    },
  }, async (request, reply) => {
    const { webhook, secret } = await subscriptions.create(request.body);
    return reply.code(201).send({ ...webhook, ...(secret === undefined ? {} : { secret }) });
  });

  app.get<{ Params: { id: string } }>('/api/admin/webhooks/:id', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'One webhook endpoint.', params: idParams, response: { ...common.response, 200: webhookSchema } },
  }, async (request) => {
    const webhook = await subscriptions.get(request.params.id);
    if (!webhook) throw apiError('not_found', 'No such webhook.');
    return webhook;
  });

  app.patch<{ Params: { id: string }; Body: WebhookInput }>('/api/admin/webhooks/:id', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Change a webhook endpoint (url, events, enabled, description).',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { url: inputProperties.url, events: inputProperties.events, enabled: inputProperties.enabled, description: inputProperties.description } },
      response: { ...common.response, 200: webhookSchema },
    },
  }, async (request) => subscriptions.update(request.params.id, request.body));

  app.delete<{ Params: { id: string } }>('/api/admin/webhooks/:id', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'Delete a webhook endpoint with its pending deliveries and delivery log.', params: idParams, response: { ...common.response, 204: { type: 'null' } } },
  }, async (request, reply) => {
    await subscriptions.delete(request.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { secret?: string } | undefined }>('/api/admin/webhooks/:id/secret', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Replace the signing secret: generated (in this answer only) or the whsec_ secret sent.',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { secret: inputProperties.secret } },
      response: { ...common.response, 200: webhookWithSecretSchema },
    },
  }, async (request) => {
    const { webhook, secret } = await subscriptions.rotateSecret(request.params.id, request.body?.secret);
    return { ...webhook, ...(secret === undefined ? {} : { secret }) };
  });

  app.get<{ Params: { id: string }; Querystring: { status?: DeliveryStatus; limit?: string; before?: string } }>('/api/admin/webhooks/:id/deliveries', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'The delivery log of one endpoint, newest first: status, attempts (status code, latency, error of each).',
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'delivered', 'dead'] }, limit: { type: 'string', pattern: '^[0-9]{1,3}$' }, before: { type: 'string', maxLength: 200 } } },
      response: { ...common.response, 200: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } }, required: ['deliveries'] } },
    },
  }, async (request) => ({
    deliveries: await listDeliveries(deps, { webhookId: request.params.id, limit: Number(request.query.limit ?? 50), ...(request.query.status ? { status: request.query.status } : {}), ...(request.query.before ? { before: request.query.before } : {}) }),
  }));

  app.get<{ Querystring: { status?: DeliveryStatus; limit?: string } }>('/api/admin/webhooks/deliveries', {
    onRequest: adminOnly,
    schema: {
      ...common,
      summary: 'Deliveries of every kind (webhooks and back-channel logout), newest first; ?status=dead lists the dead letters.',
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'delivered', 'dead'] }, limit: { type: 'string', pattern: '^[0-9]{1,3}$' } } },
      response: { ...common.response, 200: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } }, required: ['deliveries'] } },
    },
  }, async (request) => ({
    deliveries: await listDeliveries(deps, { limit: Number(request.query.limit ?? 50), ...(request.query.status ? { status: request.query.status } : {}) }),
  }));

  app.post<{ Params: { id: string } }>('/api/admin/webhooks/:id/replay', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'Send every dead delivery of this endpoint again (due now, a new retry window).', params: idParams, response: { ...common.response, 200: replayedSchema } },
  }, async (request) => ({ replayed: await replayDead(deps, { webhookId: request.params.id }) }));

  app.post<{ Params: { deliveryId: string } }>('/api/admin/webhooks/deliveries/:deliveryId/replay', {
    onRequest: adminOnly,
    schema: { ...common, summary: 'Send one dead delivery (webhook or back-channel logout) again.', params: { type: 'object', properties: { deliveryId: { type: 'string', minLength: 1, maxLength: 300 } }, required: ['deliveryId'] }, response: { ...common.response, 200: replayedSchema } },
  }, async (request) => ({ replayed: await replayDead(deps, { deliveryId: request.params.deliveryId }) }));
}

const inputProperties = {
  url: { type: 'string', minLength: 1, maxLength: 2000 },
  events: { type: 'array', minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } },
  enabled: { type: 'boolean' },
  description: { type: ['string', 'null'], maxLength: 200 },
  secret: { type: 'string', minLength: 1, maxLength: 200, description: 'Write-only.' },
} as const;

const webhookProperties = {
  id: { type: 'string' },
  url: { type: 'string' },
  description: { type: ['string', 'null'] },
  events: { type: 'array', items: { type: 'string' } },
  enabled: { type: 'boolean' },
  source: { type: 'string', enum: ['api', 'config'] },
  created_at: { type: 'integer', description: 'ms since the epoch' },
  updated_at: { type: 'integer', description: 'ms since the epoch' },
} as const;
const webhookRequired = ['id', 'url', 'description', 'events', 'enabled', 'source', 'created_at', 'updated_at'];
const webhookSchema = { type: 'object', properties: webhookProperties, required: webhookRequired } as const;
const webhookWithSecretSchema = { type: 'object', properties: { ...webhookProperties, secret: { type: 'string', description: 'Shown once (when generated).' } }, required: webhookRequired } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;
const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, kind: { type: 'string' }, webhook_id: { type: ['string', 'null'] }, client_id: { type: ['string', 'null'] },
    event_id: { type: 'string' }, event_type: { type: 'string' }, status: { type: 'string' }, attempts: { type: 'integer' },
    created_at: { type: 'integer' }, next_attempt_at: nullableInteger, completed_at: nullableInteger, last_status_code: nullableInteger, last_error: { type: ['string', 'null'] },
    log: { type: 'array', items: { type: 'object', properties: { attempt: { type: 'integer' }, at: { type: 'integer' }, status_code: nullableInteger, latency_ms: { type: 'integer' }, error: { type: ['string', 'null'] } } } },
  },
} as const;
const replayedSchema = { type: 'object', properties: { replayed: { type: 'integer' } }, required: ['replayed'] } as const;
const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] } as const;
