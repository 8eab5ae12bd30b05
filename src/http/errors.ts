import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, SERVER_ERROR_BODY, apiError } from '../errors/catalog.ts';
import { addVaryAccept, prefersHtml } from './accept.ts';
import { faultReason, isConnectionLoss } from '../storage/sql/pg-faults.ts';

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
  if ((error as { code?: unknown }).code === 'PASSWORD_HASH_OVERLOADED') {
    // The password-hash queue is full or its wait ran out (crypto/passwords/limit.ts): shed load at once.
    const seconds = Number((error as { retryAfterSeconds?: unknown }).retryAfterSeconds);
    return apiError('temporarily_unavailable', 'The server is busy; try again shortly.', {
      detail: error.message,
      headers: { 'retry-after': String(Number.isSafeInteger(seconds) && seconds > 0 ? seconds : 1) },
    });
  }
  const unavailable = backendUnavailable(error);
  if (unavailable !== undefined) {
    // SEC-REL-06/07, SEC-ASVS-05: fail closed and fast; the detail (logged, never sent) is the
    // storage layer's secret-free reason.
    return apiError('temporarily_unavailable', 'A backing service is unavailable; try again shortly.', {
      detail: unavailable,
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

/**
 * The reason when `error` means a backend is down: a storage error with an unavailable code,
 * found on the error or its causes (a feature may wrap it), or a PostgreSQL connection loss that
 * reached here unclassified. Constraint violations and other statement errors are not.
 */
function backendUnavailable(error: Error): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    if (UNAVAILABLE_CODES.has(String((current as { code?: unknown }).code))) return (current as Error).message;
    current = (current as { cause?: unknown }).cause;
  }
  return isPostgresError(error) && isConnectionLoss(error) ? faultReason(error) : undefined;
}

/** pg's server errors carry `severity`; its client-side connection errors only a message. */
function isPostgresError(error: Error): boolean {
  return typeof (error as { severity?: unknown }).severity === 'string' || /^(Connection terminated|Client has encountered a connection error)/.test(error.message);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  const level = error.status >= 500 ? 'warn' : 'info';
  request.log[level]({ error: error.error, detail: error.detail }, error.description);
  return reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(error.toJSON());
}

/** Renders an error as an HTML page for a browser (src/ui/error-page.ts `sendNotFoundPage`). */
export type ErrorPageSender = (request: FastifyRequest, reply: FastifyReply, error: ApiError) => FastifyReply;

export interface ErrorHandlingOptions {
  /** Unknown pages and wrong methods as HTML for clients that prefer text/html; others keep JSON. */
  notFoundPage?: ErrorPageSender;
}

export function registerErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions = {}): void {
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
    const error = allowed.length > 0
      ? apiError('method_not_allowed', `${request.method} is not allowed here.`, { headers: { allow: allowed.join(', ') } })
      : apiError('not_found', 'No such endpoint.');
    // One URL, two representations chosen by Accept (RFC 9110 §12.5.1): say so to caches.
    addVaryAccept(reply);
    if (options.notFoundPage && prefersHtml(request)) return options.notFoundPage(request, reply, error);
    return sendError(request, reply, error);
  });
}
