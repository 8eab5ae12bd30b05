import type { Locale } from './locales.ts';

/**
 * Message catalogs. A message is a string with `{name}` placeholders, or a plural form chosen by
 * `Intl.PluralRules` for the `count` parameter (`one`, `other`, and whatever else the language
 * uses: `zero`, `two`, `few`, `many`). Every namespace file in ./messages/ defines English first
 * and every other language with exactly the same keys — the compiler refuses a missing key
 * (`defineMessages`), and test/ui/i18n-catalog.test.ts also checks placeholders agree.
 */
export type PluralMessage = { readonly one?: string; readonly other: string; readonly zero?: string; readonly two?: string; readonly few?: string; readonly many?: string };
export type Message = string | PluralMessage;

export type Messages = Readonly<Record<string, Message>>;

/** One namespace: English defines the keys, the others must translate every one of them. */
export type NamespaceCatalog<E extends Messages> = { readonly en: E } & { readonly [L in Exclude<Locale, 'en'>]: { readonly [K in keyof E]: Message } };

export function defineMessages<const E extends Messages>(catalog: NamespaceCatalog<E>): NamespaceCatalog<E> {
  return catalog;
}
