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

/**
 * JSON object text → plain object; invalid UTF-8, non-objects, bad JSON and objects that name a
 * member twice → undefined (SEC-JWT-16, SEC-JWT-13). `JSON.parse` keeps the last of two equal
 * names, so `{"exp":1,"exp":9999999999}` would pass a check that another parser reads as expired:
 * RFC 7515 §5.2 and RFC 7519 §4 let a JWT parser reject duplicates, and every JWT surface of the
 * server and the kit reads its JOSE header and claims through this one function.
 */
export function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  let text: string;
  let value: unknown;
  try {
    text = UTF8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return hasDuplicateMember(text) ? undefined : (value as Record<string, unknown>);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when an object anywhere in `text` names a member twice — names compared after unescaping,
 * so `"exp"` and `"\u0065xp"` are the same. `text` must already be valid JSON (JSON.parse
 * accepted it): the scan only tracks strings, objects and arrays.
 */
export function hasDuplicateMember(text: string): boolean {
  // One entry per open container: the member names seen so far, or null for an array.
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(end);
        if (d === BACKSLASH) {
          escaped = true;
          end += 2;
        } else if (d === QUOTE) {
          break;
        } else {
          end++;
        }
      }
      const names = open[open.length - 1];
      if (expectName && names) {
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = open[open.length - 1] != null;
    }
  }
  return false;
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
