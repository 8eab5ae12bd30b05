import type { FastifyInstance } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import type { ClientStore } from '../../clients/store.ts';
import { validateAuthorizationRequest } from '../authorize/request.ts';
import { formBody } from '../params.ts';
import type { PushedRequestState } from './state.ts';

export const PAR_PATH = '/oauth/par';

/** Client authentication parameters: they authenticate the push and are not part of the request. */
const CLIENT_AUTH_PARAMS = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

const responseSchema = {
  type: 'object',
  properties: { request_uri: { type: 'string' }, expires_in: { type: 'integer' } },
  required: ['request_uri', 'expires_in'],
} as const;

/**
 * `POST /oauth/par` (RFC 9126 §2): the client authenticates as at the token endpoint, and its
 * authorization request goes through exactly the checks of `/oauth/authorize`
 * (`validateAuthorizationRequest`), with every refusal as a JSON OAuth error instead of a page or
 * redirect (§2.3). A valid request gets a one-time `request_uri` bound to the client.
 */
export function registerPushedAuthorizationEndpoint(app: FastifyInstance, deps: { issuer: string; authenticator: ClientAuthenticator; clients: ClientStore; state: PushedRequestState }): void {
  const endpoint = `${deps.issuer}${PAR_PATH}`;
  app.post(PAR_PATH, {
    schema: {
      tags: ['oauth'],
      summary: 'Pushed authorization request (RFC 9126): the authorization request, authenticated, in exchange for a one-time request_uri.',
      consumes: ['application/x-www-form-urlencoded'],
      response: { 201: responseSchema },
    },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const body = formBody(request);
    const client = await deps.authenticator.authenticate(request, body, { endpoint });
    // RFC 9126 §2.1: request_uri cannot itself be pushed.
    if (body.request_uri !== undefined) throw apiError('invalid_request', 'request_uri must not be sent to the pushed authorization request endpoint.');
    if (body.client_id !== undefined && body.client_id !== client.clientId) throw apiError('invalid_request', 'client_id does not match the authenticated client.');
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string' && !CLIENT_AUTH_PARAMS.has(name)) params[name] = value;
    params.client_id = client.clientId;
    const result = await validateAuthorizationRequest(params, { clients: deps.clients, issuer: deps.issuer, pushed: true });
    if (!result.ok) {
      const failure = result.failure;
      // The authenticated client is known good; what the page would have said is a JSON error here.
      if (failure.kind === 'page') throw apiError(failure.error.error === 'invalid_client' ? 'invalid_request' : failure.error.error, failure.error.description);
      throw apiError(failure.error, failure.description);
    }
    const requestUri = await deps.state.push(client.clientId, params);
    return reply.code(201).send({ request_uri: requestUri, expires_in: deps.state.ttlSeconds });
  });
}
