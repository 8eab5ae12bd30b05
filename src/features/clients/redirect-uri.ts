/**
 * Registration-time checks for redirect URIs and post-logout redirect URIs (SEC-OAUTH-05;
 * OAuth 2.1 §2.3.1, RFC 9700 §2.1 and §4.1, RFC 8252 §7). The authorization endpoint then
 * compares the `redirect_uri` parameter with the registered strings exactly, so what is
 * registered here must be a value that can be matched without any normalisation.
 */

export const MAX_URI_LENGTH = 2000;

/** Schemes that run code or read local data in the user agent (RFC 9700 §4.1, OAuth 2.1 §7.5.1). */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'filesystem:']);

/** RFC 8252 §7.3 / §8.3: plain http only to the loopback interface. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The `//authority` part of an absolute URI as written (before any parser rewrites it). */
const AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** Why `value` cannot be registered as a redirect URI, or undefined when it can. */
export function redirectUriProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_URI_LENGTH) return `must be at most ${MAX_URI_LENGTH} characters`;
  // CR/LF/tab/space would split headers or be trimmed by parsers into a different URI.
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return 'must not contain whitespace or control characters (space, tab, CR, LF)';
  if (/[^\x21-\x7e]/.test(value)) return 'must be ASCII: write international host names in punycode and percent-encode other characters';
  // OAuth 2.1 §2.3.1: exact matching, no patterns.
  if (value.includes('*')) return 'must not contain a wildcard (*): redirect URIs are matched exactly';
  // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component.
  if (value.includes('#')) return 'must not contain a fragment (#)';
  // WHATWG parsers read "\" as "/" in http(s) URLs: https://evil.example\@legit.example.
  if (value.includes('\\')) return 'must not contain a backslash';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URI (for example https://app.example.com/callback)';
  }
  const scheme = url.protocol;
  if (FORBIDDEN_SCHEMES.has(scheme)) return `must not use the ${scheme} scheme`;
  const authority = AUTHORITY.exec(value)?.[1];
  if (url.username !== '' || url.password !== '' || (authority !== undefined && authority.includes('@'))) {
    return 'must not contain userinfo (user@host)';
  }
  if (hasDotSegment(value)) return 'must not contain "." or ".." path segments';
  if (scheme === 'https:') return url.hostname === '' ? 'must name a host' : undefined;
  if (scheme === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname) ? undefined : 'must use https (http is allowed only for the loopback hosts 127.0.0.1, [::1] and localhost)';
  }
  // RFC 8252 §7.1: private-use URI schemes are reverse domain names (com.example.app:/callback).
  if (!scheme.slice(0, -1).includes('.')) {
    return `must use https, loopback http, or a private-use scheme that is a reverse domain name containing a "." (such as com.example.app:/callback); "${scheme}" is none of these`;
  }
  return undefined;
}

function hasDotSegment(value: string): boolean {
  const afterAuthority = value.replace(/^[A-Za-z][A-Za-z0-9+.-]*:(?:\/\/[^/?#]*)?/, '');
  const path = afterAuthority.split('?')[0] ?? '';
  return path.split('/').some((segment) => DOT_SEGMENT.test(segment));
}

/** Why `value` cannot be an audience (resource indicator, RFC 8707 §2), or undefined. */
export function audienceProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_URI_LENGTH) return `must be at most ${MAX_URI_LENGTH} characters`;
  if (/[^\x21-\x7e]/.test(value)) return 'must be printable ASCII without spaces';
  if (value.includes('#')) return 'must not contain a fragment (#)';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return 'must be an absolute URI (for example https://api.example.com)';
  try {
    new URL(value);
  } catch {
    return 'must be an absolute URI (for example https://api.example.com)';
  }
  return undefined;
}
