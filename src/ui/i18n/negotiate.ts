import { supportedLocale, type Locale } from './locales.ts';

/** The preference cookie set from the language picker / account setting (a locale tag, nothing else). */
export const LANGUAGE_COOKIE = 'gatehouse_lang';

export interface LocaleSources {
  /** OpenID Connect `ui_locales`: space-separated BCP 47 tags, most preferred first. */
  uiLocales?: string | undefined;
  /** The `gatehouse_lang` cookie. */
  cookie?: string | undefined;
  /** The Accept-Language header. */
  acceptLanguage?: string | undefined;
  defaultLocale: Locale;
}

/** The first supported tag of an `ui_locales` value (at most 20 tags are looked at). */
export function fromUiLocales(value: string | undefined): Locale | undefined {
  if (!value) return undefined;
  for (const tag of value.slice(0, 400).split(/\s+/).slice(0, 20)) {
    const locale = supportedLocale(tag);
    if (locale) return locale;
  }
  return undefined;
}

/** RFC 9110 §12.5.4: the supported language with the highest q (ties: header order); q=0 never. */
export function fromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (!header) return undefined;
  let best: { locale: Locale; q: number } | undefined;
  for (const part of header.slice(0, 1000).split(',').slice(0, 30)) {
    const [tag = '', ...params] = part.split(';');
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*$/i.exec(param);
      if (match) q = Number(match[1]);
    }
    if (q <= 0) continue;
    const locale = tag.trim() === '*' ? undefined : supportedLocale(tag);
    if (locale && (!best || q > best.q)) best = { locale, q };
  }
  return best?.locale;
}

/**
 * The page language, in order: `ui_locales` (from the request, or from the authorization
 * request it continues), the preference cookie, Accept-Language, the configured default.
 */
export function negotiateLocale(sources: LocaleSources): Locale {
  return fromUiLocales(sources.uiLocales)
    ?? (sources.cookie ? supportedLocale(sources.cookie) : undefined)
    ?? fromAcceptLanguage(sources.acceptLanguage)
    ?? sources.defaultLocale;
}
