const SEGMENT = /^[A-Za-z0-9_-]+$/;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Why a token is not a plain compact JWS, or undefined when it is (SEC-JWT-15, -16, -17):
 * exactly three non-empty segments of canonical, unpadded base64url (no `=`, whitespace or
 * non-zero unused bits — so one signature has one spelling) and no byte-order mark in front of
 * the header or payload JSON. Checked before any JOSE library sees the token.
 */
export function compactJwsProblem(token: string, maxLength: number): string | undefined {
  if (token.length > maxLength) return 'token too long';
  const segments = token.split('.');
  if (segments.length !== 3) return 'not a compact JWS';
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || Buffer.from(segment, 'base64url').toString('base64url') !== segment) return 'a segment is not canonical base64url';
  }
  for (const segment of segments.slice(0, 2)) {
    if (Buffer.from(segment!, 'base64url').subarray(0, 3).equals(BOM)) return 'a byte-order mark before the JSON';
  }
  return undefined;
}
