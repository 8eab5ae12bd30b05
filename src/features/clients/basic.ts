/**
 * HTTP Basic client credentials (RFC 6749 §2.3.1, RFC 7617). The client id and secret are each
 * `application/x-www-form-urlencoded` before being joined with ":" and base64-encoded, so they
 * are form-decoded here after the base64 step.
 */

export type AuthorizationHeader =
  | { kind: 'none' }
  | { kind: 'basic'; clientId: string; clientSecret: string }
  /** Present but unusable: another scheme, bad base64, no ":", bad percent-encoding … */
  | { kind: 'malformed'; reason: string };

const BASIC = /^basic +([^\s]+) *$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_CLIENT_ID = 256;
const MAX_SECRET = 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseAuthorizationHeader(header: string | undefined): AuthorizationHeader {
  if (header === undefined) return { kind: 'none' };
  const match = BASIC.exec(header);
  if (!match) return { kind: 'malformed', reason: 'not a Basic authorization header' };
  const encoded = match[1] ?? '';
  // Strict base64: Buffer would silently skip stray characters and accept missing padding.
  const bytes = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
  if (bytes === undefined || bytes.toString('base64') !== encoded) {
    return { kind: 'malformed', reason: 'Basic credentials are not canonical base64' };
  }
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
  } catch {
    return { kind: 'malformed', reason: 'Basic credentials are not UTF-8' };
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) return { kind: 'malformed', reason: 'Basic credentials have no ":"' };
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || clientSecret === undefined) return { kind: 'malformed', reason: 'Basic credentials are not form-urlencoded' };
  if (clientId === '' || clientSecret === '') return { kind: 'malformed', reason: 'Basic credentials with an empty client id or secret' };
  if (clientId.length > MAX_CLIENT_ID || clientSecret.length > MAX_SECRET) return { kind: 'malformed', reason: 'Basic credentials are too long' };
  return { kind: 'basic', clientId, clientSecret };
}

/** `application/x-www-form-urlencoded` decoding of one value; undefined for a bad escape. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
