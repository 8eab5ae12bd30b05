/**
 * The languages the hosted pages and mails ship in. Adding one: docs/branding.md ("Adding a
 * language") — a new entry here and one object per message file in ./messages/.
 */
export const LOCALES = ['en', 'de', 'fr', 'es'] as const;
export type Locale = (typeof LOCALES)[number];

export const DEFAULT_LOCALE: Locale = 'en';

/** Right-to-left scripts, by primary language subtag (none of the shipped languages is one). */
const RTL = new Set(['ar', 'dv', 'fa', 'he', 'ku', 'ps', 'sd', 'ug', 'ur', 'yi']);

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export function textDirection(locale: string): 'ltr' | 'rtl' {
  return RTL.has(locale.split('-')[0]!.toLowerCase()) ? 'rtl' : 'ltr';
}

/**
 * The supported locale for one BCP 47 tag: an exact match, else its primary language
 * ("fr-CA" → "fr"), else undefined. Tags are matched case-insensitively; junk gives undefined.
 */
export function supportedLocale(tag: string): Locale | undefined {
  const lowered = tag.trim().toLowerCase();
  if (!/^[a-z]{2,8}(-[a-z0-9]{1,8})*$/.test(lowered)) return undefined;
  if (isLocale(lowered)) return lowered;
  const primary = lowered.split('-')[0];
  return isLocale(primary) ? primary : undefined;
}
