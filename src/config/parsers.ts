import { isIP } from 'node:net';
import { ValueError } from './types.ts';

/** Parsers shared by the schema: each accepts an environment string or a JSON value. */

export function string(raw: unknown): string {
  if (typeof raw !== 'string') throw new ValueError('must be a string');
  return raw;
}

export function nonEmptyString(raw: unknown): string {
  const value = string(raw).trim();
  if (value === '') throw new ValueError('must not be empty');
  return value;
}

export function integer(min: number, max: number): (raw: unknown) => number {
  return (raw) => {
    const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new ValueError('must be a whole number');
    }
    if (value < min || value > max) throw new ValueError(`must be between ${min} and ${max}`);
    return value;
  };
}

export function boolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const value = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
  }
  throw new ValueError('must be true or false');
}

export function oneOf<const T extends string>(choices: readonly T[]): (raw: unknown) => T {
  return (raw) => {
    const value = string(raw).trim();
    if (!(choices as readonly string[]).includes(value)) {
      throw new ValueError(`must be one of ${choices.join(', ')}`);
    }
    return value as T;
  };
}

/** Comma-separated in the environment, an array of strings in a config file. */
export function list(item: (raw: unknown) => string): (raw: unknown) => readonly string[] {
  return (raw) => {
    const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    if (!Array.isArray(items)) throw new ValueError('must be a list (comma-separated in the environment)');
    return Object.freeze(items.map((value: unknown) => item(value)));
  };
}

/** An absolute http(s) URL without query, fragment or credentials; no trailing slash. */
export function httpUrl(raw: unknown): string {
  const text = nonEmptyString(raw);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValueError('must be an absolute URL such as https://auth.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValueError('must use https:// (or http:// for localhost)');
  if (url.username || url.password) throw new ValueError('must not contain credentials');
  if (url.search || url.hash) throw new ValueError('must not contain a query or fragment');
  return url.toString().replace(/\/$/, '');
}

/** An origin (scheme://host[:port]) as browsers send it in the Origin header. */
export function origin(raw: unknown): string {
  const url = new URL(httpUrl(raw));
  return url.origin;
}

/** A database URL: `sqlite:<path>`, `sqlite::memory:` or `postgres(ql)://…`. */
export function databaseUrl(raw: unknown): string {
  const value = nonEmptyString(raw);
  if (value.startsWith('sqlite:')) {
    if (value.length === 'sqlite:'.length) throw new ValueError('sqlite: needs a file path, e.g. sqlite:./data/gatehouse.db');
    return value;
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ValueError('is not a valid postgres:// URL');
    }
    return value;
  }
  throw new ValueError('must start with sqlite: or postgres://');
}

export function redisUrl(raw: unknown): string {
  const value = nonEmptyString(raw);
  if (!/^rediss?:\/\//.test(value)) throw new ValueError('must start with redis:// or rediss://');
  try {
    new URL(value);
  } catch {
    throw new ValueError('is not a valid redis:// URL');
  }
  return value;
}

/** An IP address or CIDR block (IPv4 or IPv6), as accepted for trusted proxies. */
export function ipOrCidr(raw: unknown): string {
  const value = nonEmptyString(raw);
  const [address, bits, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) throw new ValueError(`"${value}" is not an IP address or CIDR block`);
  if (bits !== undefined) {
    const max = family === 4 ? 32 : 128;
    if (!/^\d+$/.test(bits) || Number(bits) > max) throw new ValueError(`"${value}" has an invalid prefix length`);
  }
  return value;
}

/**
 * Decodes a master key given as base64, base64url or hex. Never echoes the value.
 * At least 32 bytes (256 bits) after decoding.
 */
export function masterKey(raw: unknown): string {
  const value = nonEmptyString(raw);
  const bytes = decodeKeyMaterial(value);
  if (bytes === undefined) throw new ValueError('must be base64, base64url or hex');
  if (bytes.length < 32) {
    throw new ValueError(`is too short (${bytes.length} bytes; at least 32 needed) — generate one with: openssl rand -base64 32`);
  }
  return value;
}

export function decodeKeyMaterial(value: string): Buffer | undefined {
  // Hex first (`openssl rand -hex 32`): an even-length run of hex digits is never read as base64.
  // 32-byte base64 keys are 43 (unpadded) or 44 (padded with '=') characters, so they never match.
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) {
    return Buffer.from(value, 'hex');
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  return undefined;
}

/** A JSON array of objects (from the environment as text, or the config file as JSON), frozen. */
export function objectArray(what: string): (raw: unknown) => readonly Readonly<Record<string, unknown>>[] {
  return (raw) => {
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw) as unknown;
      } catch {
        throw new ValueError(`must be a JSON array of ${what} objects`);
      }
    }
    if (!Array.isArray(value) || !value.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))) {
      throw new ValueError(`must be an array of ${what} objects`);
    }
    return Object.freeze(value.map((item) => Object.freeze({ ...(item as Record<string, unknown>) })));
  };
}
