import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, SERVER_ERROR_BODY, apiError } from '../errors/catalog.ts';

/** Errors whose class names mean "a backend is down": answered 503, fail closed. */
const UNAVAILABLE_CODES = new Set(['DATABASE_UNAVAILABLE', 'EPHEMERAL_UNAVAILABLE']);

/**
 * One mapping from anything thrown to the wire: ApiError as catalogued, Fastify's own client
 * errors (bad JSON, too large, bad media type, schema validation) to their 4xx, backends down to
 * 503, and everything else to a bare 500 `server_error` logged with the request id.
 */
export function toApiError(error: FastifyError | Error): ApiError | undefined {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    // Ajv's messages name the field and the rule, never the submitted value.
    return apiError('invalid_request', fastifyError.message);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return apiError('payload_too_large', 'The request body is larger than the server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return apiError('unsupported_media_type', 'The request body has a content type this endpoint does not accept.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return apiError('invalid_request', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return apiError('invalid_request', 'The Content-Length header does not match the body.');
    default:
      break;
  }
  if (UNAVAILABLE_CODES.has(String((error as { code?: unknown }).code))) {
    return apiError('temporarily_unavailable', 'A backing service is unavailable; try again shortly.', {
      detail: error.message,
      headers: { 'retry-after': '5' },
    });
  }
  const status = fastifyError.statusCode;
  if (error instanceof SyntaxError && status === 400) {
    return apiError('invalid_request', 'The request body is not valid JSON.');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return apiError(status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request', 'The request is malformed.', {
      detail: error.message,
    });
  }
  return undefined;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  const level = error.status >= 500 ? 'warn' : 'info';
  request.log[level]({ error: error.error, detail: error.detail }, error.description);
  return reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(error.toJSON());
}

export function registerErrorHandling(app: FastifyInstance): void {
  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(
      `^${route.url
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/:[^/]+/g, '[^/]+')
        .replace(/\*/g, '.*')}$`,
    );
    for (const method of methods) routes.push({ method: String(method), pattern });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = toApiError(error);
    if (known) return sendError(request, reply, known);
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).type('application/json; charset=utf-8').send(SERVER_ERROR_BODY);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))];
    if (allowed.length > 0) {
      return sendError(request, reply, apiError('method_not_allowed', `${request.method} is not allowed here.`, { headers: { allow: allowed.join(', ') } }));
    }
    return sendError(request, reply, apiError('not_found', 'No such endpoint.'));
  });
}
