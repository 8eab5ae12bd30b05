/**
 * Just enough MIME to read a captured mail in a test: header unfolding, nested multipart, and
 * the quoted-printable / base64 transfer encodings (quoted-printable wraps long lines — such
 * as a link with a token — with soft line breaks, so a regex on the raw message is not enough).
 */

export interface MimePart {
  headers: Map<string, string>;
  body: string;
}

function splitHeaders(raw: string): MimePart {
  const normalized = raw.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? '' : normalized.slice(end + 2);
  const headers = new Map<string, string>();
  // RFC 5322 §2.2.3: a line starting with white space continues the previous header.
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function parameter(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}=(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(header);
  return match?.[1] ?? match?.[2];
}

/** Every leaf part of a message, depth first. */
export function leafParts(raw: string): MimePart[] {
  const part = splitHeaders(raw);
  const type = part.headers.get('content-type') ?? 'text/plain';
  const boundary = /^multipart\//i.test(type) ? parameter(type, 'boundary') : undefined;
  if (boundary === undefined) return [part];
  const delimiter = `--${boundary}`;
  const sections = part.body.split('\n').reduce<string[][]>((acc, line) => {
    if (line === delimiter || line === `${delimiter}--`) acc.push([]);
    else acc.at(-1)?.push(line);
    return acc;
  }, []);
  // The section after the closing delimiter is the epilogue; drop it with the empty tail.
  return sections.slice(0, -1).filter((lines) => lines.length > 0).flatMap((lines) => leafParts(lines.join('\n')));
}

/** RFC 2045 §6.7: soft line breaks (`=` at line end) vanish, `=XX` is one byte. */
export function decodeQuotedPrintable(text: string): Buffer {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let index = 0; index < joined.length; index += 1) {
    const char = joined[index]!;
    const hex = joined.slice(index + 1, index + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

export function decodePart(part: MimePart): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const charset = (parameter(part.headers.get('content-type') ?? '', 'charset') ?? 'utf-8').toLowerCase();
  const bytes = encoding === 'quoted-printable'
    ? decodeQuotedPrintable(part.body)
    : encoding === 'base64'
      ? Buffer.from(part.body.replace(/\s+/g, ''), 'base64')
      : Buffer.from(part.body, 'utf8');
  return new TextDecoder(charset === 'us-ascii' ? 'utf-8' : charset).decode(bytes);
}

/** The decoded text/plain part of a raw message. */
export function plainText(raw: string): string {
  const part = leafParts(raw).find((candidate) => /^text\/plain/i.test(candidate.headers.get('content-type') ?? 'text/plain'));
  if (part === undefined) throw new Error('the message has no text/plain part');
  return decodePart(part);
}
