/**
 * `return_to`: where to go after signing in. Only ever a path on this server — anything else
 * is ignored, so the sign-in page can never be used as an open redirect.
 *
 * Accepted: a value of at most 2,000 printable ASCII characters (no space, no control
 * characters) that starts with exactly one `/`, contains no backslash, and whose path part has
 * no percent-encoded slash or backslash. Decided: `/%2F%2Fevil.com` is REFUSED. A browser would
 * resolve it on this server, but a proxy or framework that decodes the path before routing or
 * redirecting could turn it into `//evil.com`, and no Gatehouse page needs an encoded slash in
 * its path. Encoded slashes in the query stay allowed (`/oauth/authorize?redirect_uri=https%3A%2F%2F…`).
 * As a last check the value must resolve, by WHATWG URL rules, to this origin.
 */

export const DEFAULT_RETURN_TO = '/account';
export const MAX_RETURN_TO_LENGTH = 2000;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const ENCODED_SLASH = /%(2f|5c)/i;
const PROBE_ORIGIN = 'https://gatehouse.invalid';

/** The value when it is a safe local path, else undefined. */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (!PRINTABLE_ASCII.test(value)) return undefined; // control characters, spaces, tabs, non-ASCII
  if (value[0] !== '/' || value[1] === '/' || value[1] === '\\') return undefined; // protocol-relative
  if (value.includes('\\')) return undefined; // browsers read `\` as `/`
  const path = value.split(/[?#]/, 1)[0] ?? '';
  if (ENCODED_SLASH.test(path)) return undefined;
  let resolved: URL;
  try {
    resolved = new URL(value, PROBE_ORIGIN);
  } catch {
    return undefined;
  }
  if (resolved.origin !== PROBE_ORIGIN) return undefined;
  return value;
}

/** `safeReturnTo` with the default for anything refused or missing. */
export function returnToOrDefault(value: unknown): string {
  return safeReturnTo(value) ?? DEFAULT_RETURN_TO;
}
