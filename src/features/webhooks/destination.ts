import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';

/**
 * SSRF rules for every server-side request to an operator- or client-supplied URL (webhooks,
 * back-channel logout): `https` only in production, and no loopback, private, link-local,
 * shared, documentation, multicast or cloud-metadata address unless it lies in a network the
 * operator allowed (`webhookAllowedNetworks`). The address is checked where the socket is made
 * (`guardedLookup`): the name is resolved once, every answer is checked, and the connection goes
 * to a checked address — a DNS answer that changes after registration (rebinding) cannot slip by.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** DNS: every address of a name. Tests pass their own to simulate rebinding. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));

export interface DestinationPolicy {
  production: boolean;
  /** CIDRs (or single IPs) allowed although they are special-purpose addresses. */
  allowedNetworks: readonly string[];
  resolve: Resolver;
}

export class DestinationRefusedError extends Error {
  override name = 'DestinationRefusedError';
  readonly code = 'ERR_DESTINATION_REFUSED';
}

// IANA special-purpose registries (RFC 6890 and successors): nothing a webhook should reach.
const SPECIAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  // ::/96: IPv4-compatible, :: and ::1. IPv4-mapped (::ffff:a.b.c.d) needs no rule: BlockList checks it by its IPv4 address.
  ['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) SPECIAL.addSubnet(network, prefix, 'ipv6');

function allowList(networks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of networks) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** Whether `address` (an IP literal) may be connected to under `allowedNetworks`. */
export function addressAllowed(address: string, allowed: BlockList): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return !SPECIAL.check(bare, type) || allowed.check(bare, type);
}

/** Pure URL checks (no DNS): why the URL is refused, or undefined. */
export function urlProblem(value: string, policy: Pick<DestinationPolicy, 'production'>): string | undefined {
  if (value.length > 2000) return 'must be at most 2000 characters';
  if (/[^\x21-\x7e]/.test(value)) return 'must be ASCII without spaces or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https';
  if (policy.production && url.protocol !== 'https:') return 'must use https in production';
  if (url.username !== '' || url.password !== '') return 'must not contain userinfo (user@host)';
  if (url.hash !== '' || value.includes('#')) return 'must not contain a fragment (#)';
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

export interface DestinationGuard {
  /** Registration-time check: URL rules, then the name's current addresses. */
  check(value: string): Promise<string | undefined>;
  /** Connect-time: URL rules and, for an IP literal host, the address (names go through `lookup`). */
  checkUrl(url: URL): void;
  /** A `lookup` for node:http(s) that resolves once, checks every address and answers only checked ones. */
  lookup: (hostname: string, options: { all?: boolean }, callback: (error: Error | null, address: string | { address: string; family: number }[], family?: number) => void) => void;
}

export function createDestinationGuard(policy: DestinationPolicy): DestinationGuard {
  const allowed = allowList(policy.allowedNetworks);
  const refuse = (why: string) => new DestinationRefusedError(why);
  const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

  async function resolveChecked(hostname: string): Promise<ResolvedAddress[]> {
    const addresses = await policy.resolve(hostname);
    if (addresses.length === 0) throw refuse('the host has no address');
    for (const entry of addresses) {
      if (!addressAllowed(entry.address, allowed)) throw refuse('the host resolves to a loopback, private, link-local or otherwise special-purpose address');
    }
    return addresses;
  }

  function checkUrl(url: URL): void {
    const problem = urlProblem(url.href, policy);
    if (problem) throw refuse(`the URL ${problem}`);
    const host = hostOf(url);
    if (isIP(host) !== 0 && !addressAllowed(host, allowed)) throw refuse('the address is loopback, private, link-local or otherwise special-purpose');
    if (isIP(host) === 0 && (host === 'localhost' || host.endsWith('.localhost')) && !addressAllowed('127.0.0.1', allowed)) throw refuse('localhost is a loopback address');
  }

  return {
    checkUrl,
    async check(value) {
      const problem = urlProblem(value, policy);
      if (problem) return problem;
      const url = new URL(value);
      try {
        checkUrl(url);
        const host = hostOf(url);
        if (isIP(host) === 0) await resolveChecked(host);
      } catch (error) {
        if (error instanceof DestinationRefusedError) return `is refused: ${error.message}`;
        // An unresolvable name is accepted here: the connect-time check decides at each send.
      }
      return undefined;
    },
    lookup(hostname, options, callback) {
      resolveChecked(hostname).then(
        (addresses) => {
          if (options.all) callback(null, addresses);
          else callback(null, addresses[0]!.address, addresses[0]!.family);
        },
        (error: Error) => callback(error, ''),
      );
    },
  };
}
