/**
 * Email addresses as account identifiers: NFKC, trimmed, lower-cased, ASCII only (SEC-PWD-05).
 * NFKC folds full-width letters and ligatures (`ａlice` → `alice`, `ﬀ` → `ff`); refusing what is
 * still non-ASCII afterwards rules out look-alike duplicates such as a Cyrillic `а` in `аlice`.
 * Internationalised domains are accepted in their punycode (xn--) form.
 */
export function normalizeEmail(raw: string): string | undefined {
  const email = raw.normalize('NFKC').trim().toLowerCase();
  if (email.length > 254 || email.length < 3) return undefined;
  // local@domain.tld, printable ASCII without spaces, quotes or angle brackets.
  if (!/^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(email)) return undefined;
  const local = email.slice(0, email.indexOf('@'));
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return undefined;
  return email;
}
