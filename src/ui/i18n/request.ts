import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clearedHostCookie, hostCookie, readCookie } from '../../http/cookies.ts';
import { DEFAULT_LOCALE, type Locale } from './locales.ts';
import { LANGUAGE_COOKIE, negotiateLocale } from './negotiate.ts';
import { translator, type Translator } from './translate.ts';

/**
 * The language of one request, negotiated once and kept with the request. Pages call
 * `translatorFor(request)`; mail templates, which run inside a request's handler without the
 * request object, call `currentTranslator()` (the request's language, or the default in a
 * background job).
 */

const LANGUAGE_COOKIE_NAME = `__Host-${LANGUAGE_COOKIE}`;
const ONE_YEAR_SECONDS = 365 * 86_400;

const resolved = new WeakMap<FastifyRequest, Translator>();
const current = new AsyncLocalStorage<FastifyRequest>();
/** Per app (tests run several in one process): the configured default language. */
const defaults = new WeakMap<FastifyInstance, Locale>();
let lastConfigured: Locale = DEFAULT_LOCALE;

export interface I18nOptions {
  defaultLocale: Locale;
}

export function registerI18n(app: FastifyInstance, options: I18nOptions): void {
  defaults.set(app, options.defaultLocale);
  lastConfigured = options.defaultLocale;
  app.addHook('preHandler', (request, _reply, done) => {
    current.run(request, done);
  });
}

/** `ui_locales` from the query or form, else from the authorization request a `return_to` continues. */
function uiLocalesOf(request: FastifyRequest): string | undefined {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = (request.body !== null && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
  for (const source of [query, body]) {
    if (typeof source.ui_locales === 'string') return source.ui_locales;
  }
  for (const source of [query, body]) {
    const returnTo = source.return_to;
    if (typeof returnTo !== 'string' || !returnTo.startsWith('/') || returnTo.length > 4000) continue;
    try {
      const nested = new URL(returnTo, 'http://gatehouse.invalid').searchParams.get('ui_locales');
      if (nested) return nested;
    } catch {
      // not a URL: no preference from it
    }
  }
  return undefined;
}

/**
 * The app's configured default. Encapsulated Fastify plugins are objects created from their
 * parent instance, so the prototype chain leads back to the instance `registerI18n` saw.
 */
function defaultLocaleOf(request: FastifyRequest): Locale {
  for (let server: object | null = request.server; server !== null; server = Object.getPrototypeOf(server) as object | null) {
    const locale = defaults.get(server as FastifyInstance);
    if (locale) return locale;
  }
  return lastConfigured;
}

export function localeOf(request: FastifyRequest): Locale {
  return translatorFor(request).locale;
}

export function translatorFor(request: FastifyRequest): Translator {
  let found = resolved.get(request);
  if (!found) {
    found = translator(negotiateLocale({
      uiLocales: uiLocalesOf(request),
      cookie: readCookie(request.headers.cookie, LANGUAGE_COOKIE_NAME),
      acceptLanguage: request.headers['accept-language'],
      defaultLocale: defaultLocaleOf(request),
    }));
    resolved.set(request, found);
  }
  return found;
}

/** The language of the request being handled, or the configured default outside one. */
export function currentTranslator(): Translator {
  const request = current.getStore();
  return request ? translatorFor(request) : translator(lastConfigured);
}

/** The translator for the configured default language (background jobs, CLI). */
export function defaultTranslator(app?: FastifyInstance): Translator {
  return translator((app && defaults.get(app)) ?? lastConfigured);
}

/** Remembers a language choice in this browser (the language picker, the account setting). */
export function setLanguageCookie(request: FastifyRequest, reply: FastifyReply, locale: Locale | null): void {
  reply.header('set-cookie', locale === null ? clearedHostCookie(LANGUAGE_COOKIE_NAME) : hostCookie(LANGUAGE_COOKIE_NAME, locale, { maxAgeSeconds: ONE_YEAR_SECONDS }));
  resolved.delete(request);
}
