import type { HeadersInput } from './types.ts';

/** What a request presents: a bearer token, a session cookie, nothing, or a malformed header. */
export type Credentials = { kind: 'bearer'; token: string } | { kind: 'dpop'; token: string } | { kind: 'cookie'; value: string } | { kind: 'none' } | { kind: 'malformed' };

const NONE: Credentials = Object.freeze({ kind: 'none' });
const MALFORMED: Credentials = Object.freeze({ kind: 'malformed' });
/** RFC 6750 §2.1: `Bearer` (scheme case-insensitive, RFC 9110 §11.1), one or more spaces, b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 9449 §7.1: the same token syntax under the `DPoP` scheme. */
const DPOP = /^dpop +([A-Za-z0-9\-._~+/]+=*)$/i;

export function header(headers: HeadersInput, name: string): string | readonly string[] | undefined | null {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name);
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** The value of cookie `name` in a Cookie header (the first one, as RFC 6265 §5.4 orders them). */
export function cookieValue(cookieHeader: string, name: string): string | undefined {
  for (const part of cookieHeader.split(';')) {
    const pair = part.trim();
    const equals = pair.indexOf('=');
    if (equals > 0 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return undefined;
}

/**
 * The credentials of a request. A bearer token comes only from `Authorization` (RFC 6750 §2.1;
 * never the query string or body, §2.2-2.3 — the kit never looks there); a request that has one
 * is judged by it alone. Otherwise the session cookie, if sessions are on. Anything but exactly
 * one Authorization header with one Bearer token is malformed (§3.1 invalid_request); another
 * scheme (e.g. Basic) is not a bearer credential.
 */
export function readCredentials(headers: HeadersInput, cookieName: string | undefined): Credentials {
  const authorization = header(headers, 'authorization');
  if (authorization !== undefined && authorization !== null) {
    if (typeof authorization !== 'string') return MALFORMED;
    if (/^bearer(\s|$)/i.test(authorization)) {
      const match = BEARER.exec(authorization);
      return match ? { kind: 'bearer', token: match[1]! } : MALFORMED;
    }
    if (/^dpop(\s|$)/i.test(authorization)) {
      const match = DPOP.exec(authorization);
      return match ? { kind: 'dpop', token: match[1]! } : MALFORMED;
    }
  }
  if (cookieName === undefined) return NONE;
  const cookies = header(headers, 'cookie');
  if (typeof cookies !== 'string') return NONE;
  const value = cookieValue(cookies, cookieName);
  return value === undefined || value === '' ? NONE : { kind: 'cookie', value };
}
