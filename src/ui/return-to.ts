/**
 * `return_to`: where to go after signing in. Only ever a path on this server — anything else
 * is ignored, so the sign-in page can never be used as an open redirect.
 *
 * Accepted: a value of at most 2,000 printable ASCII characters (no space, no control
 * characters) that starts with exactly one `/`, contains no backslash, and whose path part has
 * no percent-encoded slash or backslash. Decided: `/%2F%2Fevil.com` is REFUSED. A browser would
 * resolve it on this server, but a proxy or framework that decodes the path before routing or
 * redirecting could turn it into `//evil.com`, and no Gatehouse page needs an encoded slash in
 * its path. Encoded slashes in the query stay allowed (`/oauth/authorize?redirect_uri=https%3A%2F%2F…`).
 * As a last check the value must resolve, by WHATWG URL rules, to this origin.
 */

export const DEFAULT_RETURN_TO = '/account';
export const MAX_RETURN_TO_LENGTH = 2000;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const ENCODED_SLASH = /%(2f|5c)/i;
const PROBE_ORIGIN = 'https://gatehouse.invalid';

/** The value when it is a safe local path, else undefined. */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (!PRINTABLE_ASCII.test(value)) return undefined; // control characters, spaces, tabs, non-ASCII
  if (value[0] !== '/' || value[1] === '/' || value[1] === '\\') return undefined; // protocol-relative
  if (value.includes('\\')) return undefined; // browsers read `\` as `/`
  const path = value.split(/[?#]/, 1)[0] ?? '';
  if (ENCODED_SLASH.test(path)) return undefined;
  let resolved: URL;
  try {
    resolved = new URL(value, PROBE_ORIGIN);
  } catch {
    return undefined;
  }
  if (resolved.origin !== PROBE_ORIGIN) return undefined;
  return value;
}

/** `safeReturnTo` with the default for anything refused or missing. */
export function returnToOrDefault(value: unknown): string {
  return safeReturnTo(value) ?? DEFAULT_RETURN_TO;
}

const AUTHORIZE_PATH = '/oauth/authorize';
const CONTINUE_PATH = '/oauth/authorize/continue';

/**
 * The authorization a sign-in continues, read from its (already safe) `return_to`: an
 * authorization request naming its `client_id`, or an authorization in progress
 * (`/oauth/authorize/continue?interaction=`, where the authorize endpoint sends the browser to
 * sign in). A pushed request (`request_uri`) without `client_id`, or anything else: undefined.
 */
export function authorizationContext(returnTo: string | undefined): { clientId: string } | { interaction: string } | undefined {
  if (returnTo === undefined) return undefined;
  const url = new URL(returnTo, PROBE_ORIGIN);
  if (url.pathname === AUTHORIZE_PATH) {
    const ids = url.searchParams.getAll('client_id');
    return ids.length === 1 && ids[0] !== '' && ids[0]!.length <= 200 ? { clientId: ids[0]! } : undefined;
  }
  if (url.pathname === CONTINUE_PATH) {
    const id = url.searchParams.get('interaction');
    return id !== null && id !== '' && id.length <= 200 ? { interaction: id } : undefined;
  }
  return undefined;
}

/** What the sign-in page shows of the client it signs in for (src/ui/layout.ts ClientBrand). */
export interface ReturnToClient {
  name: string;
  logoUri?: string | null;
  clientUri?: string | null;
  policyUri?: string | null;
  tosUri?: string | null;
}

export interface ClientLookup {
  /** A registered client by id (the client store's `get`). */
  client(clientId: string): Promise<ReturnToClient | undefined>;
  /** The client id of an authorization in progress (the authorization state's interaction). */
  interactionClientId?(interactionId: string): Promise<string | undefined>;
}

/**
 * `PagesDeps.clientFor`: the client a `return_to` continues an authorization for, or undefined
 * (no authorization, an unknown client, an expired interaction). Only registered clients are
 * named, so a crafted `return_to` can show nothing the authorize endpoint would not.
 */
export function clientForReturnTo(lookup: ClientLookup): (returnTo: string) => Promise<ReturnToClient | undefined> {
  return async (returnTo) => {
    const context = authorizationContext(safeReturnTo(returnTo));
    if (context === undefined) return undefined;
    const clientId = 'clientId' in context ? context.clientId : await lookup.interactionClientId?.(context.interaction);
    if (clientId === undefined) return undefined;
    const client = await lookup.client(clientId);
    if (!client) return undefined;
    return { name: client.name, logoUri: client.logoUri ?? null, clientUri: client.clientUri ?? null, policyUri: client.policyUri ?? null, tosUri: client.tosUri ?? null };
  };
}
