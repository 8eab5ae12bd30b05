import { apiError, type ApiError } from '../../../errors/catalog.ts';
import type { Client } from '../../clients/model.ts';
import { REQUEST_URI_PREFIX, type PushedRequestState } from './state.ts';

type Params = Record<string, string | string[] | undefined>;

export type Resolution = { ok: true; params: Params; pushed: boolean } | { ok: false; error: ApiError };

/**
 * The authorization endpoint's view of RFC 9126 §4: a `request_uri` of ours is replaced by the
 * parameters pushed for it — only for the client that pushed it (`client_id` must name it) and
 * only once. The pushed parameters are the request; others sent alongside are ignored. Any other
 * `request_uri` is left in place, so the request checks refuse it (request_uri_not_supported).
 */
export function pushedRequestResolver(deps: { state: PushedRequestState; requiredEverywhere: boolean }): {
  resolve(params: Params): Promise<Resolution>;
  required(client: Client): boolean;
} {
  return {
    async resolve(params) {
      const requestUri = params.request_uri;
      if (typeof requestUri !== 'string' || !requestUri.startsWith(REQUEST_URI_PREFIX)) return { ok: true, params, pushed: false };
      const clientId = params.client_id;
      if (typeof clientId !== 'string' || clientId === '') return { ok: false, error: apiError('invalid_request', 'The request has no client_id.') };
      const pushed = await deps.state.take(requestUri, clientId);
      // RFC 9126 §7.3 (and FAPI 2.0): one-time, short-lived, bound to the client that pushed it.
      if (!pushed) return { ok: false, error: apiError('invalid_request', 'The request_uri is invalid, expired, already used, or belongs to another application. Start again from the application.', { detail: 'invalid_request_uri' }) };
      return { ok: true, params: { ...pushed.params, client_id: pushed.clientId }, pushed: true };
    },
    required: (client) => deps.requiredEverywhere || client.requirePushedAuthorizationRequests,
  };
}
