/**
 * What the revocation stream has said so far (docs/tokens.md, "Revocations for stateless
 * verifiers"): revoked token ids, grants, sessions, and deleted clients with the time of their
 * deletion. Each entry is kept until its `expires_at` — every token it covers has expired by then.
 */

export type RevocationKind = 'jti' | 'grant' | 'session' | 'client';

export interface RevocationEntry {
  kind: RevocationKind;
  value: string;
  /** Seconds since the epoch. */
  revokedAt: number;
  expiresAt: number;
}

export interface TokenIdentity {
  jti: string;
  gid?: string | undefined;
  sid?: string | undefined;
  clientId: string;
  /** `iat`, seconds. */
  iat: number;
}

export interface RevocationList {
  apply(entry: RevocationEntry): void;
  /** Whether any entry refuses this token (by jti, grant, session, or client deleted at or after `iat`). */
  covers(token: TokenIdentity): boolean;
  sessionRevoked(sessionId: string): boolean;
  /** Forgets entries whose `expires_at` has passed. */
  prune(nowSeconds: number): void;
  size(): number;
}

/** Parses one `data:` payload of a `revocation` event, or undefined when malformed. */
export function parseRevocation(data: string): RevocationEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const kind = record.kind;
  if (kind !== 'jti' && kind !== 'grant' && kind !== 'session' && kind !== 'client') return undefined;
  const { value: id, revoked_at: revokedAt, expires_at: expiresAt } = record;
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) return undefined;
  if (!Number.isSafeInteger(revokedAt) || !Number.isSafeInteger(expiresAt)) return undefined;
  return { kind, value: id, revokedAt: revokedAt as number, expiresAt: expiresAt as number };
}

export function createRevocationList(): RevocationList {
  // kind → value → { revokedAt, expiresAt }; Maps, so a value like "__proto__" is just a key.
  const tables: Record<RevocationKind, Map<string, { revokedAt: number; expiresAt: number }>> = {
    jti: new Map(),
    grant: new Map(),
    session: new Map(),
    client: new Map(),
  };
  return {
    apply(entry) {
      const table = tables[entry.kind];
      const known = table.get(entry.value);
      // At-least-once delivery: applying one twice is harmless; a later entry only widens.
      table.set(entry.value, {
        revokedAt: Math.max(entry.revokedAt, known?.revokedAt ?? 0),
        expiresAt: Math.max(entry.expiresAt, known?.expiresAt ?? 0),
      });
    },
    covers(token) {
      if (tables.jti.has(token.jti)) return true;
      if (token.gid !== undefined && tables.grant.has(token.gid)) return true;
      if (token.sid !== undefined && tables.session.has(token.sid)) return true;
      const client = tables.client.get(token.clientId);
      // A client deleted at revoked_at: its tokens issued until then die; a re-created client's later ones live.
      return client !== undefined && token.iat <= client.revokedAt;
    },
    sessionRevoked: (sessionId) => tables.session.has(sessionId),
    prune(nowSeconds) {
      for (const table of Object.values(tables)) {
        for (const [value, entry] of table) if (entry.expiresAt < nowSeconds) table.delete(value);
      }
    },
    size: () => tables.jti.size + tables.grant.size + tables.session.size + tables.client.size,
  };
}
