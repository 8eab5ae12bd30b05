import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { errorResponse } from '../../http/schemas.ts';
import { SIGNING_ALGORITHMS, type KeyInfo, type KeyService, type SigningAlgorithm } from '../../keys/service.ts';
import type { AdminAccess } from './access.ts';

/**
 * `/api/admin/keys`: the signing keys, as `gatehouse keys list|rotate|retire` (src/cli/keys.ts)
 * through the same KeyService. Needs an admin session or a client-credentials token with
 * `admin:keys`. The key service audits both with the acting admin (`signing-key-rotated` through
 * its `onRotated`, `signing-key-retired` itself), as it does for the console and the CLI.
 */
export function registerAdminKeyRoutes(app: FastifyInstance, deps: { keys: Pick<KeyService, 'list' | 'tick' | 'rotate' | 'retire'>; access: AdminAccess }): void {
  const { keys, access } = deps;
  const onRequest = access.require('admin:keys');
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

  app.get('/api/admin/keys', {
    onRequest,
    schema: { tags, summary: 'Every signing key: kid, algorithm, state (next, current, retired), when it signs from, when it leaves the JWKS. Never private material.', response: { ...errors, 200: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: keySchema } } } } },
  }, async () => {
    await keys.tick();
    return { keys: keys.list().map(keyView) };
  });

  app.post<{ Body: { immediate?: boolean; algorithm?: SigningAlgorithm } }>('/api/admin/keys/rotate', {
    onRequest,
    schema: {
      tags,
      summary: 'Create a new key: published at once, signing after twice the JWKS cache lifetime (immediate: at once). algorithm: the ID-token family.',
      body: { type: 'object', additionalProperties: false, properties: { immediate: { type: 'boolean' }, algorithm: { type: 'string', enum: [...SIGNING_ALGORITHMS] } } },
      response: { ...errors, 201: keySchema },
    },
  }, async (request, reply) => {
    const body = request.body ?? {};
    const created = await keys.rotate({ immediate: body.immediate === true, ...(body.algorithm ? { algorithm: body.algorithm } : {}), actorId: access.caller(request).id });
    return reply.code(201).send(keyView(created));
  });

  app.post<{ Params: { kid: string }; Body: { unpublish?: boolean } }>('/api/admin/keys/:kid/retire', {
    onRequest,
    schema: {
      tags,
      summary: 'Stop a key signing (a successor takes over at once); it stays in the JWKS until its tokens expired, unless unpublish (a compromised key: its tokens stop verifying).',
      params: { type: 'object', required: ['kid'], properties: { kid: { type: 'string', minLength: 1, maxLength: 128 } } },
      body: { type: 'object', additionalProperties: false, properties: { unpublish: { type: 'boolean' } } },
      response: { ...errors, 200: keySchema },
    },
  }, async (request) => {
    const { kid } = request.params;
    const unpublish = request.body?.unpublish === true;
    if (!keys.list().some((key) => key.kid === kid)) {
      await keys.tick();
      if (!keys.list().some((key) => key.kid === kid)) throw apiError('not_found', 'No signing key with this kid.');
    }
    return keyView(await keys.retire(kid, { unpublish, actorId: access.caller(request).id }));
  });
}

function keyView(key: KeyInfo): Record<string, unknown> {
  return { kid: key.kid, alg: key.alg, state: key.state, created_at: key.createdAt, activates_at: key.activatesAt, retired_at: key.retiredAt, remove_after: key.removeAfter };
}

const tags = ['admin'];
const nullableMs = { type: ['integer', 'null'], description: 'ms since the epoch' } as const;
const keySchema = {
  type: 'object',
  required: ['kid', 'alg', 'state', 'created_at', 'activates_at', 'retired_at', 'remove_after'],
  properties: {
    kid: { type: 'string' },
    alg: { type: 'string', enum: [...SIGNING_ALGORITHMS] },
    state: { type: 'string', enum: ['next', 'current', 'retired'] },
    created_at: { type: 'integer', description: 'ms since the epoch' },
    activates_at: { type: 'integer', description: 'ms since the epoch: signs from then' },
    retired_at: nullableMs,
    remove_after: { ...nullableMs, description: 'ms since the epoch: leaves the JWKS then' },
  },
} as const;
