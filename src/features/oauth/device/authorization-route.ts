import type { FastifyInstance } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import { resolveAudience } from '../../tokens/access-token.ts';
import { formBody, param, resources } from '../params.ts';
import { DEVICE_CODE_GRANT } from './grant.ts';
import type { DeviceState } from './state.ts';

export const DEVICE_AUTHORIZATION_PATH = '/oauth/device_authorization';
/** Where the user goes on their phone or computer (RFC 8628 §3.3). */
export const DEVICE_VERIFICATION_PATH = '/device';

const responseSchema = {
  type: 'object',
  properties: {
    device_code: { type: 'string' },
    user_code: { type: 'string' },
    verification_uri: { type: 'string' },
    verification_uri_complete: { type: 'string' },
    expires_in: { type: 'integer' },
    interval: { type: 'integer' },
  },
  required: ['device_code', 'user_code', 'verification_uri', 'expires_in', 'interval'],
} as const;

/**
 * `POST /oauth/device_authorization` (RFC 8628 §3.1–§3.2): the client authenticates as at the
 * token endpoint, must be registered for the device_code grant, and asks for a subset of its
 * scopes (and RFC 8707 resources); it gets a device code to poll with and a user code to show.
 */
export function registerDeviceAuthorizationEndpoint(app: FastifyInstance, deps: { issuer: string; authenticator: ClientAuthenticator; state: DeviceState }): void {
  const endpoint = `${deps.issuer}${DEVICE_AUTHORIZATION_PATH}`;
  app.post(DEVICE_AUTHORIZATION_PATH, {
    schema: {
      tags: ['oauth'],
      summary: 'Device authorization endpoint (RFC 8628): a device code to poll /oauth/token with, and a user code for /device.',
      consumes: ['application/x-www-form-urlencoded'],
      response: { 200: responseSchema },
    },
  }, async (request, reply) => {
    // RFC 8628 §3.2: the response carries a secret (the device code), never cached.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const body = formBody(request);
    const client = await deps.authenticator.authenticate(request, body, { endpoint });
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) throw apiError('unauthorized_client', 'This client may not use the device authorization grant.');
    const scope = [...new Set((param(body, 'scope') ?? '').split(' ').filter(Boolean))];
    if (scope.length === 0) throw apiError('invalid_scope', 'The request must name a scope.');
    if (!scope.every((value) => client.scopes.includes(value))) throw apiError('invalid_scope', 'The requested scope is not allowed for this client.');
    const audience = resolveAudience(client, resources(body), deps.issuer);
    if (!audience) throw apiError('invalid_target', 'The requested resource is not allowed for this client.');

    const started = await deps.state.start({ clientId: client.clientId, scope, audience });
    const verification = `${deps.issuer}${DEVICE_VERIFICATION_PATH}`;
    return {
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: verification,
      verification_uri_complete: `${verification}?user_code=${encodeURIComponent(started.userCode)}`,
      expires_in: started.expiresIn,
      interval: deps.state.intervalSeconds,
    };
  });
}
