/** The i18n entry points page code and mail templates use (docs/branding.md, "Translations"). */
export { LOCALES, DEFAULT_LOCALE, isLocale, supportedLocale, textDirection, type Locale } from './locales.ts';
export { translator, type Translator, type MessageParams, type HtmlMessageParams } from './translate.ts';
export { negotiateLocale, fromAcceptLanguage, fromUiLocales, LANGUAGE_COOKIE } from './negotiate.ts';
export { registerI18n, translatorFor, currentTranslator, defaultTranslator, localeOf, setLanguageCookie } from './request.ts';
export type { MessageKey } from './messages/index.ts';
