import { toApiError } from '../http/errors.ts';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors/catalog.ts';
import type { Csrf } from '../http/csrf.ts';
import { pageErrorHandler } from './error-page.ts';
import { checkFormOrigin } from './forms.ts';
import type { Translator } from './i18n/index.ts';

/** Options of every page GET: HTML errors, hidden from the JSON API's OpenAPI document. */
export const PAGE_GET = { errorHandler: pageErrorHandler, schema: { hide: true } } as const;

/**
 * Options of every page POST. The Origin / Sec-Fetch-Site check runs first, before the body is
 * even parsed, so a cross-site submission is refused with 403 whatever it sends (SEC-ASVS-07);
 * the handler then runs `checkedForm` for the token.
 */
export function pagePost(csrf: Csrf): PagePostOptions {
  return {
    errorHandler: pageErrorHandler,
    schema: { hide: true },
    onRequest: async (request) => checkFormOrigin(request, csrf),
  };
}

export interface PagePostOptions {
  errorHandler: typeof pageErrorHandler;
  schema: { hide: true };
  onRequest: (request: FastifyRequest) => Promise<void>;
}

/** A single string query parameter, or undefined (missing, repeated, or empty). */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const value = query?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/**
 * Runs a service call, turning its ApiError into a value the page renders in place (the form
 * again, with the message and status). Anything else propagates to `pageErrorHandler`: a bare
 * 500 page, never internal detail.
 */
export async function attempt<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, error };
    // Backends down or the hash queue full (503 with Retry-After): the page shows the message on
    // the form, like any refusal, instead of an error page.
    const known = error instanceof Error ? toApiError(error) : undefined;
    if (known && known.status === 503) return { ok: false, error: known };
    throw error;
  }
}

/** The wait an error asks for, from its Retry-After header (whole seconds), if it carries one. */
export function retryAfterSeconds(error: ApiError): number | undefined {
  const value = error.headers['retry-after'];
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * A service's refusal in the page's language, chosen by its code (never its English
 * description). `signIn: true` on the password sign-in forms: a 429 there is the account lockout
 * or the sign-in limit, worded as such; elsewhere it is a request limit. The wait comes from the
 * error's Retry-After, which the page keeps as a header too.
 */
export function signInErrorMessage(tr: Translator, error: ApiError, options: { signIn?: boolean } = {}): string {
  const wait = retryAfterSeconds(error);
  switch (error.error) {
    case 'invalid_credentials':
      return tr.t('signIn.error.invalidCredentials');
    case 'email_not_verified':
      return tr.t('signIn.error.emailNotVerified');
    case 'too_many_requests':
      return tr.t(options.signIn ? 'signIn.error.tooManyAttempts' : 'signIn.error.tooManyRequests', { wait: tr.duration(wait ?? 60) });
    case 'temporarily_unavailable':
    case 'not_ready':
      return tr.t('signIn.error.unavailable', { wait: tr.duration(wait ?? 5) });
    default:
      return tr.t('signIn.error.generic');
  }
}

