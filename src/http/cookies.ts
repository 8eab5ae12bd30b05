/**
 * Cookies by hand: the parsing and serialising we need is a few lines, and owning it keeps the
 * session cookie's attributes in one visible place (RFC 6265bis §4.1.3: `__Host-` requires
 * Secure, Path=/ and no Domain).
 */

/** The value of cookie `name` from a Cookie header, or undefined. First occurrence wins. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index === -1) continue;
    if (part.slice(0, index).trim() === name) {
      const value = part.slice(index + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

export interface HostCookieOptions {
  /** Max-Age in seconds; omitted = a browser-session cookie. 0 deletes. */
  maxAgeSeconds?: number;
  sameSite?: 'Lax' | 'Strict';
}

/** A `__Host-` cookie: Secure, HttpOnly, Path=/, no Domain, SameSite Lax by default. */
export function hostCookie(name: string, value: string, options: HostCookieOptions = {}): string {
  if (!/^[A-Za-z0-9!#$&'*+.^_`|~-]+$/.test(name)) throw new Error('invalid cookie name');
  if (!/^[A-Za-z0-9._~-]*$/.test(value)) throw new Error('cookie values must be base64url');
  const parts = [`${name}=${value}`, 'Path=/', 'Secure', 'HttpOnly', `SameSite=${options.sameSite ?? 'Lax'}`];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.trunc(options.maxAgeSeconds))}`);
  return parts.join('; ');
}

/** Expires a cookie set with `hostCookie`. */
export function clearedHostCookie(name: string, sameSite: 'Lax' | 'Strict' = 'Lax'): string {
  return `${hostCookie(name, '', { sameSite, maxAgeSeconds: 0 })}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}
