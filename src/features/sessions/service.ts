import type { Config } from '../../config/schema.ts';
import { hashSecret, newId, randomToken } from '../../crypto/random.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { Session, SessionRecord, SessionStore, SessionUser } from './store.ts';

export type SessionConfig = Pick<
  Config,
  'sessionIdleTimeoutSeconds' | 'sessionAbsoluteTimeoutSeconds' | 'sessionTouchIntervalSeconds' | 'sessionCacheSeconds'
>;

export interface SessionMeta {
  ip: string | null;
  userAgent: string | null;
  authMethods: string[];
  /** When the user authenticated (kept across rotation; `auth_time` in ID tokens). */
  authTime?: number;
  /** Lifetime instead of the absolute timeout: device sessions of first-party native apps live as long as their grant. */
  lifetimeMs?: number;
}

export interface SessionService {
  /** A new session for `userId`; returns the cookie token (shown once, never stored). */
  create(userId: string, meta: SessionMeta): Promise<{ token: string; session: Session }>;
  /** The live session behind a cookie token, or undefined (unknown, expired, idle, revoked, disabled user). */
  validate(token: string | undefined): Promise<SessionRecord | undefined>;
  /** New id and token for the same sign-in (privilege change): the old token stops working. */
  rotate(current: SessionRecord, meta: Pick<SessionMeta, 'ip' | 'userAgent'>): Promise<{ token: string; session: Session }>;
  /** Ends one session of `userId`; false when it was not theirs or did not exist. */
  revoke(sessionId: string, userId: string): Promise<boolean>;
  /** Ends every session of the user, optionally keeping one; returns how many ended. */
  revokeAllForUser(userId: string, keepSessionId?: string): Promise<number>;
  /** Drops cached copies of the user's sessions everywhere (roles changed, disabled …). */
  userChanged(userId: string): Promise<void>;
  list(userId: string): Promise<Session[]>;
  /** Whether the session still exists and has not reached its end; marks it seen (token refreshes keep device sessions current). */
  touchIfLive(sessionId: string): Promise<boolean>;
  /** Starts listening for revocations from other instances. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const CHANNEL = 'sessions:invalidate';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const MAX_CACHED = 100_000;

type Invalidation = { kind: 'token'; tokenHashes: string[] } | { kind: 'user'; userId: string };

interface CacheEntry {
  record: SessionRecord;
  fetchedAt: number;
}

/**
 * Sessions with an in-process cache so the validation hot path costs no SQL query in steady
 * state. Every revocation deletes the row, evicts locally and is published on the ephemeral
 * store's pub/sub (Redis when scaled out) so every instance evicts within milliseconds;
 * `sessionCacheSeconds` bounds staleness should a message be lost.
 */
export function createSessionService(deps: {
  store: SessionStore;
  ephemeral: EphemeralStore;
  config: SessionConfig;
  now?: () => number;
  /** Told about every session that ends server-side (tokens bound to it are revoked there). */
  onEnded?: (sessionIds: string[], userId: string) => Promise<void>;
}): SessionService {
  const { store, ephemeral, config } = deps;
  const now = deps.now ?? Date.now;
  const idleMs = config.sessionIdleTimeoutSeconds * 1000;
  const absoluteMs = config.sessionAbsoluteTimeoutSeconds * 1000;
  const touchMs = config.sessionTouchIntervalSeconds * 1000;
  const cacheMs = config.sessionCacheSeconds * 1000;
  const cache = new Map<string, CacheEntry>();
  let unsubscribe: (() => Promise<void>) | undefined;

  function remember(tokenHash: string, record: SessionRecord): void {
    if (cacheMs === 0) return;
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(tokenHash, { record, fetchedAt: now() });
  }

  function evict(message: Invalidation): void {
    if (message.kind === 'token') {
      for (const hash of message.tokenHashes) cache.delete(hash);
      return;
    }
    for (const [hash, entry] of cache) if (entry.record.user.id === message.userId) cache.delete(hash);
  }

  async function broadcast(message: Invalidation): Promise<void> {
    evict(message);
    await ephemeral.publish(CHANNEL, JSON.stringify(message));
  }

  async function load(tokenHash: string): Promise<SessionRecord | undefined> {
    const record = await store.findByTokenHash(tokenHash);
    if (record) remember(tokenHash, record);
    return record;
  }

  async function create(userId: string, meta: SessionMeta): Promise<{ token: string; session: Session }> {
    const token = randomToken(32);
    const at = now();
    const session: Session = {
      id: newId(at),
      userId,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at + (meta.lifetimeMs ?? absoluteMs),
      ip: meta.ip,
      userAgent: meta.userAgent === null ? null : meta.userAgent.slice(0, 512),
      authMethods: meta.authMethods,
      authTime: meta.authTime ?? at,
    };
    await store.insert(session, hashSecret(token));
    return { token, session };
  }

  return {
    create,

    validate: async (token) => {
      if (token === undefined || !TOKEN_PATTERN.test(token)) return undefined;
      const tokenHash = hashSecret(token);
      const at = now();
      const cached = cache.get(tokenHash);
      let record = cached && at - cached.fetchedAt < cacheMs ? cached.record : await load(tokenHash);
      if (!record) return undefined;
      if (record.user.disabled || at >= record.session.expiresAt) {
        await dropToken(tokenHash, record);
        return undefined;
      }
      if (at - record.session.lastSeenAt >= idleMs && record === cached?.record) {
        // Another instance may have seen activity since we cached it: ask the database.
        record = await load(tokenHash);
        if (!record) return undefined;
      }
      if (at - record.session.lastSeenAt >= idleMs) {
        await dropToken(tokenHash, record);
        return undefined;
      }
      if (at - record.session.lastSeenAt >= touchMs) {
        await store.touch(record.session.id, at);
        record = { ...record, session: { ...record.session, lastSeenAt: at } };
        remember(tokenHash, record);
      }
      return record;
    },

    rotate: async (current, meta) => {
      const next = await create(current.user.id, {
        ...meta,
        authMethods: current.session.authMethods,
        authTime: current.session.authTime,
      });
      const oldHash = await store.delete(current.session.id, current.user.id);
      if (oldHash) await broadcast({ kind: 'token', tokenHashes: [oldHash] });
      await deps.onEnded?.([current.session.id], current.user.id);
      return next;
    },

    revoke: async (sessionId, userId) => {
      const hash = await store.delete(sessionId, userId);
      if (!hash) return false;
      await broadcast({ kind: 'token', tokenHashes: [hash] });
      await deps.onEnded?.([sessionId], userId);
      return true;
    },

    revokeAllForUser: async (userId, keepSessionId) => {
      const ended = await store.deleteForUser(userId, keepSessionId);
      if (ended.length > 0) {
        await broadcast({ kind: 'token', tokenHashes: ended.map((session) => session.tokenHash) });
        await deps.onEnded?.(ended.map((session) => session.id), userId);
      }
      return ended.length;
    },

    userChanged: (userId) => broadcast({ kind: 'user', userId }),

    list: (userId) => store.listForUser(userId, now()),
    touchIfLive: (sessionId) => store.touchIfLive(sessionId, now()),

    start: async () => {
      unsubscribe = await ephemeral.subscribe(CHANNEL, (text) => {
        try {
          evict(JSON.parse(text) as Invalidation);
        } catch {
          cache.clear();
        }
      });
    },

    stop: async () => {
      await unsubscribe?.();
      unsubscribe = undefined;
      cache.clear();
    },
  };

  async function dropToken(tokenHash: string, record: SessionRecord): Promise<void> {
    cache.delete(tokenHash);
    if (await store.delete(record.session.id, record.user.id)) await deps.onEnded?.([record.session.id], record.user.id);
  }
}

// The API view of a session, per (immutable) Session object: `GET /api/auth/session` answers the
// same cached record many times between touches, and three ISO dates per answer were ~3 % of it.
const views = new WeakMap<Session, { current: Record<string, unknown>; other: Record<string, unknown> }>();

export function publicSession(session: Session, currentId?: string): Readonly<Record<string, unknown>> {
  let view = views.get(session);
  if (!view) {
    const fields = {
      id: session.id,
      created_at: new Date(session.createdAt).toISOString(),
      last_seen_at: new Date(session.lastSeenAt).toISOString(),
      expires_at: new Date(session.expiresAt).toISOString(),
      ip: session.ip,
      user_agent: session.userAgent,
    };
    view = { current: Object.freeze({ ...fields, current: true }), other: Object.freeze({ ...fields, current: false }) };
    views.set(session, view);
  }
  return session.id === currentId ? view.current : view.other;
}

export function publicUser(user: SessionUser): Record<string, unknown> {
  return { id: user.id, email: user.email, name: user.name, email_verified: user.emailVerified, roles: user.roles };
}
