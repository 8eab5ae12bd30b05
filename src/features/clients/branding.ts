import { redirectUriProblem } from './redirect-uri.ts';

/**
 * RFC 7591 §2 metadata for the pages a user sees (the sign-in and consent pages show them):
 * `logo_uri`, `client_uri`, `policy_uri`, `tos_uri` and `contacts`. Pure checks, no I/O; the
 * server never fetches these URLs, browsers do — so only https (plain http to a loopback host
 * only in development), and the same character rules as redirect URIs.
 */

export const BRANDING_URI_FIELDS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const;
export type BrandingUriField = (typeof BRANDING_URI_FIELDS)[number];

export const MAX_CONTACTS = 10;
const MAX_EMAIL = 320;
/** One address, no display name (RFC 5322 addr-spec, the common subset). */
const EMAIL = /^[^\s@<>()[\],;:"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/**
 * A DNS name or an IP literal. WHATWG URL parsing lets `;` and other punctuation into a host;
 * the logo's origin lands in the page's CSP `img-src`, so anything else is refused.
 */
const HOST = /^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;

export interface BrandingRules {
  /** Development only: accept `http://` to 127.0.0.1, [::1] or localhost. */
  loopbackHttp: boolean;
}

/** Why `value` cannot be a branding URL, or undefined when it can. */
export function brandingUriProblem(value: string, rules: BrandingRules): string | undefined {
  const reason = redirectUriProblem(value);
  if (reason) return reason;
  const url = new URL(value);
  if (!HOST.test(url.hostname)) return 'must name a DNS host or an IP address';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    return rules.loopbackHttp ? undefined : 'must be an https URL (http to a loopback host is allowed in development only)';
  }
  return 'must be an https URL';
}

/** Why `value` cannot be a contact, or undefined when it can. */
export function contactProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_EMAIL) return `must be an email address of 1 to ${MAX_EMAIL} characters`;
  if (/[^\x21-\x7e]/.test(value)) return 'must be an ASCII email address without spaces (write international domains in punycode)';
  if (!EMAIL.test(value)) return 'must be an email address (name@example.com)';
  return undefined;
}
