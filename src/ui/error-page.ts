import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../errors/catalog.ts';
import { toApiError } from '../http/errors.ts';
import { html } from './html.ts';
import { sendPage } from './layout.ts';

const TITLES: Readonly<Record<number, string>> = {
  400: 'Something is wrong with the request',
  401: 'Sign in first',
  403: 'Request refused',
  404: 'Not found',
  405: 'Not allowed',
  413: 'Too much data',
  415: 'Unsupported form',
  429: 'Too many attempts',
};

/** Pages whose "go back" would lead nowhere useful (a link without its token, a POST-only path). */
const BACK: Readonly<Record<string, string>> = {
  '/reset-password': '/forgot-password',
  '/verify-email': '/account',
  '/logout': '/account',
  '/login/social/:provider': '/login',
  '/login/social/:provider/callback': '/login',
  '/login/social/link': '/login',
  '/login/social/link/email': '/login',
  '/login/social/link/confirm': '/login',
};

/** Where "go back" leads: the page's own form when it has one, else the account page. */
function backLink(request: FastifyRequest): string {
  const route = request.routeOptions.url ?? '';
  const mapped = BACK[route];
  if (mapped !== undefined) return mapped;
  return /^\/(login|signup|forgot-password)$/.test(route) ? route : '/account';
}

/** An ApiError as an HTML page: its public description only, its status and headers (Retry-After). */
export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  request.log[error.status >= 500 ? 'warn' : 'info']({ error: error.error, detail: error.detail }, error.description);
  const title = TITLES[error.status] ?? 'Something went wrong';
  return sendPage(reply, {
    status: error.status,
    headers: error.headers,
    title,
    body: html`<h1>${title}</h1>
<div class="alert" role="alert"><p>${error.description}</p></div>
<p class="links"><a href="${backLink(request)}">Go back and try again</a></p>`,
  });
}

/** What a browser sees at an address with no page, or with a method the page does not take. */
const NOT_FOUND_TEXT = {
  404: { title: 'Page not found', message: 'There is no page at this address. Check the link, or start again from the start page.' },
  405: { title: 'Not allowed', message: 'This page cannot be used that way. Open it with a link instead.' },
  link: 'Go to the start page',
} as const;

/**
 * The HTML face of the not-found handler (src/http/errors.ts): an unknown page (404) or a known
 * one with the wrong method (405, with its Allow header), linking to the start page. Clients
 * that do not prefer text/html keep the JSON error.
 */
export function sendNotFoundPage(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  request.log.info({ error: error.error }, error.description);
  const text = error.status === 405 ? NOT_FOUND_TEXT[405] : NOT_FOUND_TEXT[404];
  return sendPage(reply, {
    status: error.status,
    headers: error.headers,
    title: text.title,
    body: html`<h1>${text.title}</h1>
<div class="alert" role="alert"><p>${text.message}</p></div>
<p class="links"><a href="/">${NOT_FOUND_TEXT.link}</a></p>`,
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
  return sendPage(reply, {
    status: 500,
    title: 'Something went wrong',
    body: html`<h1>Something went wrong</h1>
<div class="alert" role="alert"><p>The server could not complete the request. Try again in a moment.</p></div>
<p>Reference: <code>${request.id}</code></p>`,
  });
}
