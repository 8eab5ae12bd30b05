import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError, ErrorCode } from '../errors/catalog.ts';
import { toApiError } from '../http/errors.ts';
import { html } from './html.ts';
import { translatorFor, type MessageKey, type Translator } from './i18n/index.ts';
import { CATALOGS } from './i18n/messages/index.ts';
import { sendPage, type ClientBrand } from './layout.ts';

/** The usual code of a status: a code without its own title borrows this one's. */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  502: 'upstream_unavailable',
  503: 'temporarily_unavailable',
};

/** `errors.<part>.<code>` when the catalog has it, else the entry of the status's usual code, else server_error. */
function keyFor(part: 'title' | 'text', error: ApiError): MessageKey {
  for (const code of [error.error, CODE_OF_STATUS[error.status], 'server_error']) {
    const key = `errors.${part}.${code}`;
    if (code !== undefined && CATALOGS.en.has(key)) return key as MessageKey;
  }
  return `errors.${part}.server_error`;
}

/** The page title: from the error code ("Unknown application"), the status only as fallback. */
export function errorTitle(tr: Translator, error: ApiError): string {
  return tr.t(keyFor('title', error));
}

/**
 * The page text. English pages keep the error's own public description (it names the exact
 * problem); other languages get the code's translated text — never the English description.
 */
export function errorText(tr: Translator, error: ApiError): string {
  if (tr.locale === 'en') return error.description;
  if (keyFor('text', error) === 'errors.text.too_many_requests') {
    const seconds = Number(error.headers['retry-after']);
    return Number.isFinite(seconds) && seconds > 0 ? tr.t('errors.text.too_many_requests', { duration: tr.duration(seconds) }) : tr.t('errors.text.tooManyRequestsLater');
  }
  return tr.t(keyFor('text', error));
}

export interface ErrorLink {
  href: string;
  label: string;
}

export interface ErrorPageOptions {
  /** Already translated text naming what went wrong in this context (replaces the code's text). */
  message?: string;
  /** Where the page's one link leads; default: see `backLink`. */
  back?: ErrorLink;
  /** The OAuth client the failed step was for (its name and logo at the top). */
  client?: ClientBrand;
}

/** Pages whose "go back" would lead nowhere useful (a link without its token, a POST-only path). */
const BACK: Readonly<Record<string, string>> = {
  '/reset-password': '/forgot-password',
  '/login/social/:provider': '/login',
  '/login/social/:provider/callback': '/login',
  '/login/social/link': '/login',
  '/login/social/link/email': '/login',
  '/login/social/link/confirm': '/login',
  '/device': '/device',
  '/device/confirm': '/device',
};

/**
 * Where the link leads: the page's own form when it has one; the account or admin area for
 * their pages; else the start page — never /account for someone who may be signed out, and never
 * back to an OAuth client that could not be verified (an error that cannot be redirected).
 */
export function backLink(tr: Translator, request: FastifyRequest): ErrorLink {
  const route = request.routeOptions.url ?? '';
  const retry = (href: string) => ({ href, label: tr.t('errors.back.retry') });
  const mapped = BACK[route];
  if (mapped !== undefined) return retry(mapped);
  if (/^\/(login|signup|forgot-password)$/.test(route)) return retry(route);
  if (/^\/account(\/|$)/.test(route)) return { href: '/account', label: tr.t('errors.back.account') };
  return { href: '/', label: tr.t('errors.back.start') };
}

/** An ApiError as an HTML page: title and text from its code, its status and headers (Retry-After). */
export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, error: ApiError, options: ErrorPageOptions = {}): FastifyReply {
  request.log[error.status >= 500 ? 'warn' : 'info']({ error: error.error, detail: error.detail }, error.description);
  const tr = translatorFor(request);
  const title = errorTitle(tr, error);
  const back = options.back ?? backLink(tr, request);
  return sendPage(reply, {
    status: error.status,
    headers: error.headers,
    title,
    ...(options.client ? { client: options.client } : {}),
    body: html`<h1>${title}</h1>
<div class="alert" role="alert"><p>${options.message ?? errorText(tr, error)}</p></div>
<p class="links"><a href="${back.href}">${back.label}</a></p>`,
  });
}

/**
 * The HTML face of the not-found handler (src/http/errors.ts): an unknown page (404) or a known
 * one with the wrong method (405, with its Allow header), linking to the start page. Clients
 * that do not prefer text/html keep the JSON error.
 */
export function sendNotFoundPage(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  request.log.info({ error: error.error }, error.description);
  const tr = translatorFor(request);
  const code = error.status === 405 ? 'method_not_allowed' : 'not_found';
  const title = tr.t(`errors.title.${code}`);
  return sendPage(reply, {
    status: error.status,
    headers: error.headers,
    title,
    body: html`<h1>${title}</h1>
<div class="alert" role="alert"><p>${tr.t(`errors.text.${code}`)}</p></div>
<p class="links"><a href="/">${tr.t('errors.back.start')}</a></p>`,
  });
}

/**
 * The error handler of every page route: known errors (ApiError, Fastify's 4xx such as a
 * wrong content type) become an HTML page with their status; anything else is logged with the
 * request id and answered with a bare 500 page — never the error's message or stack.
 */
export function pageErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = toApiError(error);
  if (known) return sendErrorPage(request, reply, known);
  request.log.error({ err: error }, 'unhandled error');
  const tr = translatorFor(request);
  const title = tr.t('errors.title.server_error');
  return sendPage(reply, {
    status: 500,
    title,
    body: html`<h1>${title}</h1>
<div class="alert" role="alert"><p>${tr.t('errors.text.server_error')}</p></div>
<p>${tr.tHtml('errors.reference', { id: html`<code>${request.id}</code>` })}</p>`,
  });
}
