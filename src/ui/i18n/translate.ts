import { html, isSafeHtml, type SafeHtml } from '../html.ts';
import { CATALOGS, type MessageKey } from './messages/index.ts';
import type { Message } from './catalog.ts';
import { DEFAULT_LOCALE, textDirection, type Locale } from './locales.ts';

export type MessageParams = Readonly<Record<string, string | number>>;
export type HtmlMessageParams = Readonly<Record<string, string | number | SafeHtml>>;

/**
 * One locale's view of the catalogs: what page code and mail templates call instead of writing
 * text. `t` gives plain text (the `html` template escapes it where it lands); `tHtml` puts
 * markup (a link, <strong>) into a translated sentence, escaping the message itself.
 */
export interface Translator {
  readonly locale: Locale;
  readonly dir: 'ltr' | 'rtl';
  t(key: MessageKey, params?: MessageParams): string;
  tHtml(key: MessageKey, params: HtmlMessageParams): SafeHtml;
  /** A date and time in this locale (medium date, short time), in `timeZone` (default UTC). */
  dateTime(ms: number, timeZone?: string): string;
  date(ms: number, timeZone?: string): string;
  /** "3 minutes", "1 hour": a duration in whole units, the largest that fits. */
  duration(seconds: number): string;
  /** "a, b and c" in this locale. */
  list(items: readonly string[]): string;
  number(value: number): string;
}

const PLACEHOLDER = /\{([a-zA-Z0-9_]+)\}/g;

function pick(locale: Locale, message: Message, params: Readonly<Record<string, unknown>> | undefined, rules: Intl.PluralRules): string {
  if (typeof message === 'string') return message;
  const count = params?.count;
  const category = typeof count === 'number' ? rules.select(count) : 'other';
  return message[category] ?? message.other;
}

const cache = new Map<Locale, Translator>();

export function translator(locale: Locale): Translator {
  const cached = cache.get(locale);
  if (cached) return cached;
  const catalog = CATALOGS[locale];
  const fallback = CATALOGS[DEFAULT_LOCALE];
  const rules = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const lists = new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' });
  const dateTimes = new Map<string, Intl.DateTimeFormat>();
  const formatter = (kind: 'dateTime' | 'date', timeZone: string) => {
    const id = `${kind}:${timeZone}`;
    let format = dateTimes.get(id);
    if (!format) {
      format = new Intl.DateTimeFormat(locale, kind === 'date' ? { dateStyle: 'medium', timeZone } : { dateStyle: 'medium', timeStyle: 'short', timeZone });
      dateTimes.set(id, format);
    }
    return format;
  };
  const message = (key: MessageKey): Message => {
    const found = catalog.get(key) ?? fallback.get(key);
    // A key that is in no catalog is a programming error the type checker already refuses.
    if (found === undefined) throw new Error(`unknown message key ${key}`);
    return found;
  };
  const format = (value: string | number): string => (typeof value === 'number' ? numbers.format(value) : value);
  const result: Translator = {
    locale,
    dir: textDirection(locale),
    t(key, params) {
      return pick(locale, message(key), params, rules).replace(PLACEHOLDER, (whole, name: string) => {
        const value = params?.[name];
        return value === undefined ? whole : format(value);
      });
    },
    tHtml(key, params) {
      const text = pick(locale, message(key), params, rules);
      const parts: (string | SafeHtml)[] = [];
      let last = 0;
      for (const match of text.matchAll(PLACEHOLDER)) {
        parts.push(text.slice(last, match.index));
        const value = params[match[1]!];
        parts.push(value === undefined ? match[0] : isSafeHtml(value) ? value : format(value));
        last = match.index + match[0].length;
      }
      parts.push(text.slice(last));
      return html`${parts}`;
    },
    dateTime: (ms, timeZone = 'UTC') => formatter('dateTime', timeZone).format(ms),
    date: (ms, timeZone = 'UTC') => formatter('date', timeZone).format(ms),
    duration(seconds) {
      const whole = Math.max(0, Math.ceil(seconds));
      const [unit, size] = whole >= 86_400 ? ['day', 86_400] as const : whole >= 3600 ? ['hour', 3600] as const : whole >= 60 ? ['minute', 60] as const : ['second', 1] as const;
      // Rounded up: "wait 2 minutes" for 61 s, never a wait shorter than the real one.
      const amount = Math.max(1, Math.ceil(whole / size));
      return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(amount);
    },
    list: (items) => lists.format(items),
    number: (value) => numbers.format(value),
  };
  cache.set(locale, result);
  return result;
}
