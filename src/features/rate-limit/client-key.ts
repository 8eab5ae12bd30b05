import { isIP } from 'node:net';

/** Every unparseable address shares this one bucket (see `clientKey`). */
const INVALID_KEY = 'invalid:';

/**
 * The rate-limit identity of a client address (SEC-PWD-12, SEC-PWD-13).
 *
 * - IPv4: the address itself (`isIP` accepts only canonical dotted decimal, no leading zeros).
 * - IPv4-mapped IPv6 (`::ffff:1.2.3.4`, also in hex form `::ffff:102:304`): the IPv4 address, so
 *   a dual-stack listener counts an IPv4 client under one key.
 * - Other IPv6: its /64 prefix in expanded form (`2001:0db8:0000:0000::/64`). One subscriber
 *   usually holds a whole /64, so keying by full address would let it rotate through 2^64 keys.
 *   A zone id (`fe80::1%eth0`) is dropped: it names a local interface, not a client.
 * - Anything else: the constant `invalid:`. All garbage shares one bucket, so that rotating junk
 *   values can never mint fresh counters.
 *
 * `ip` must be Fastify's `request.ip`, which honours X-Forwarded-For only from the configured
 * trusted proxies; this function never looks at headers (SEC-PWD-13). Never throws.
 */
export function clientKey(ip: string): string {
  if (typeof ip !== 'string') return INVALID_KEY;
  switch (isIP(ip)) {
    case 4:
      return ip;
    case 6:
      return ipv6Key(ip);
    default:
      return INVALID_KEY;
  }
}

/** `address` has passed `isIP(address) === 6`. */
function ipv6Key(address: string): string {
  const groups = ipv6Groups(address);
  if (groups === undefined) return INVALID_KEY;
  // RFC 4291 §2.5.5.2: ::ffff:0:0/96 carries an IPv4 address in its last 32 bits.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const high = groups[6] ?? 0;
    const low = groups[7] ?? 0;
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  const prefix = groups.slice(0, 4).map((group) => group.toString(16).padStart(4, '0'));
  return `${prefix.join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (with optional zone id and dotted tail). */
function ipv6Groups(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  let text = (zone === -1 ? address : address.slice(0, zone)).toLowerCase();

  // A dotted IPv4 tail (`::ffff:1.2.3.4`) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (isIP(tail) !== 4) return undefined;
    const octets = tail.split('.').map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }

  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...rest];
  if (groups.some((group) => !Number.isInteger(group) || group < 0 || group > 0xffff)) return undefined;
  return groups;
}
