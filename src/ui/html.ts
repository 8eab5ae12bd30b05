/**
 * Auto-escaping HTML templates. `html\`…\`` escapes every interpolated string; the only way to
 * put markup into a page is another `html\`…\`` (or, rarely and visibly, `unsafeRaw()`), so a
 * forgotten escape cannot happen by accident (SEC-ASVS-10 keeps scripts out; this keeps
 * injected markup out).
 */

const BRAND: unique symbol = Symbol('SafeHtml');

/** Markup that is safe to insert as-is: produced by `html` or `unsafeRaw` only. */
export interface SafeHtml {
  readonly [BRAND]: true;
  readonly value: string;
}

/** What may be interpolated: text (escaped), markup, lists of either, or nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for element content and quoted attribute values (& < > " ' and backtick). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => ESCAPES[char] ?? char);
}

function safe(value: string): SafeHtml {
  return Object.freeze({ [BRAND]: true as const, value });
}

export function isSafeHtml(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && (value as Partial<SafeHtml>)[BRAND] === true;
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (isSafeHtml(value)) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  // `true` renders as text, like a number: only false/null/undefined mean "nothing".
  return escapeHtml(String(value));
}

/** The tagged template: literal parts are trusted markup, every interpolation is escaped. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let index = 0; index < values.length; index += 1) {
    out += render(values[index]) + (strings[index + 1] ?? '');
  }
  return safe(out);
}

/**
 * Trusts `markup` as-is. Only for constant markup written in this codebase (the stylesheet);
 * never for anything that came from a request, a user or the database.
 */
export function unsafeRaw(markup: string): SafeHtml {
  return safe(markup);
}

/** The final string of a document. */
export function toHtmlString(value: SafeHtml): string {
  return value.value;
}
