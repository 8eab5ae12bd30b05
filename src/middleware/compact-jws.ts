/**
 * Strict compact-JWS shape, shared by the kit and the server (the server imports it from here;
 * the kit ships standalone and imports nothing of the server). SEC-JWT-15, -16, -17: exactly three non-empty
 * segments of canonical, unpadded base64url — no `=`, whitespace, standard-alphabet characters
 * or non-zero unused bits, so one signature has exactly one spelling — and no byte-order mark in
 * front of the header or payload JSON.
 */

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Header members that would let a token pick its own key or processing rules (SEC-JWT-04, -12). */
export const FORBIDDEN_HEADER_MEMBERS: readonly string[] = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit', 'b64', 'zip', 'enc'];

/** JSON object text → plain object; invalid UTF-8, non-objects and bad JSON → undefined (SEC-JWT-16). */
export function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export interface CompactJWS {
  /** `header.payload`, the signing input. */
  signingInput: string;
  header: Buffer;
  payload: Buffer;
  signature: Buffer;
  /** The header segment as sent (cache key for header checks). */
  headerSegment: string;
}

/** Decodes one segment, or undefined when it is not canonical base64url. */
function decodeSegment(segment: string): Buffer | undefined {
  if (!SEGMENT.test(segment)) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  // Node decodes leniently (RFC 4648 §3.5 unused bits are ignored): re-encoding must round-trip.
  if (bytes.toString('base64url') !== segment) return undefined;
  return bytes;
}

function startsWithBOM(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/** The decoded parts of a plain compact JWS, or a reason why `token` is not one. */
export function parseCompactJWS(token: string, maxLength: number): CompactJWS | string {
  if (token.length > maxLength) return 'token too long';
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first <= 0 || last === first || token.indexOf('.', first + 1) !== last || last === token.length - 1) return 'not a compact JWS';
  const headerSegment = token.slice(0, first);
  const header = decodeSegment(headerSegment);
  const payload = decodeSegment(token.slice(first + 1, last));
  const signature = decodeSegment(token.slice(last + 1));
  if (!header || !payload || !signature) return 'a segment is not canonical base64url';
  if (startsWithBOM(header) || startsWithBOM(payload)) return 'a byte-order mark before the JSON';
  return { signingInput: token.slice(0, last), header, payload, signature, headerSegment };
}
