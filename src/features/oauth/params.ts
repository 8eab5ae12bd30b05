import type { FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';

export type FormBody = Record<string, string | string[] | undefined>;

/**
 * The form body of a back-channel OAuth request. RFC 6749 §3.2: `application/x-www-form-urlencoded`
 * only (a JSON body is refused, SEC-ASVS-12), and no parameter may appear twice (SEC-ASVS-16).
 */
export function formBody(request: FastifyRequest): FormBody {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw apiError('invalid_request', 'The request body must be application/x-www-form-urlencoded.');
  }
  const body = (request.body ?? {}) as FormBody;
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw apiError('invalid_request', `The parameter ${name} appears more than once.`);
  }
  return body;
}

/** A single string parameter (empty counts as absent). */
export function param(body: FormBody, name: string): string | undefined {
  const value = body[name];
  if (Array.isArray(value)) throw apiError('invalid_request', `The parameter ${name} appears more than once.`);
  return value === undefined || value === '' ? undefined : value;
}

export function requiredParam(body: FormBody, name: string): string {
  const value = param(body, name);
  if (value === undefined) throw apiError('invalid_request', `The parameter ${name} is required.`);
  if (value.length > 8192) throw apiError('invalid_request', `The parameter ${name} is too long.`);
  return value;
}

/** `resource` (RFC 8707) or `audience` values, space-separated. */
export function resources(body: FormBody): string[] {
  const value = param(body, 'resource') ?? param(body, 'audience');
  return value === undefined ? [] : value.split(' ').filter(Boolean);
}
