import { stringList } from '../../storage/sql/columns.ts';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';

/** A server-side session. The cookie holds a random token; only its SHA-256 is stored. */
export interface Session {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute end: createdAt + absolute timeout. */
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
  authMethods: string[];
  authTime: number;
}

/** What a validated session says about its user (kept with the session in the cache). */
export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  emailVerified: boolean;
  roles: string[];
  disabled: boolean;
}

export interface SessionRecord {
  session: Session;
  user: SessionUser;
}

/** The storage port the sessions feature owns (style rule 5: a handful of domain methods). */
export interface SessionStore {
  insert(session: Session, tokenHash: string): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<SessionRecord | undefined>;
  touch(sessionId: string, lastSeenAt: number): Promise<void>;
  /** Marks a session seen at `now` if it exists and has not reached its absolute end; false otherwise. */
  touchIfLive(sessionId: string, now: number): Promise<boolean>;
  /** Deletes one session of `userId`; returns its token hash, or undefined when there was none. */
  delete(sessionId: string, userId: string): Promise<string | undefined>;
  /** Deletes every session of the user except `keepSessionId`; returns what was deleted. */
  deleteForUser(userId: string, keepSessionId?: string): Promise<{ id: string; tokenHash: string }[]>;
  listForUser(userId: string, now: number): Promise<Session[]>;
  deleteExpired(now: number, idleTimeoutMs: number): Promise<number>;
}

export function createSqlSessionStore(db: Kysely<DatabaseSchema>): SessionStore {
  return {
    insert: async (session, tokenHash) => {
      await db
        .insertInto('sessions')
        .values({
          id: session.id,
          token_hash: tokenHash,
          user_id: session.userId,
          created_at: session.createdAt,
          last_seen_at: session.lastSeenAt,
          expires_at: session.expiresAt,
          ip: session.ip,
          user_agent: session.userAgent,
          auth_methods: JSON.stringify(session.authMethods),
          auth_time: session.authTime,
        })
        .execute();
    },

    findByTokenHash: async (tokenHash) => {
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'sessions.id as id',
          'sessions.user_id as user_id',
          'sessions.created_at as created_at',
          'sessions.last_seen_at as last_seen_at',
          'sessions.expires_at as expires_at',
          'sessions.ip as ip',
          'sessions.user_agent as user_agent',
          'sessions.auth_methods as auth_methods',
          'sessions.auth_time as auth_time',
          'users.email as email',
          'users.name as name',
          'users.email_verified_at as email_verified_at',
          'users.roles as roles',
          'users.disabled_at as disabled_at',
        ])
        .where('sessions.token_hash', '=', tokenHash)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        session: {
          id: row.id,
          userId: row.user_id,
          createdAt: row.created_at,
          lastSeenAt: row.last_seen_at,
          expiresAt: row.expires_at,
          ip: row.ip,
          userAgent: row.user_agent,
          authMethods: stringList(row.auth_methods),
          authTime: row.auth_time,
        },
        user: {
          id: row.user_id,
          email: row.email,
          name: row.name,
          emailVerified: row.email_verified_at !== null,
          roles: stringList(row.roles),
          disabled: row.disabled_at !== null,
        },
      };
    },

    touchIfLive: async (sessionId, now) => {
      const result = await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', sessionId).where('expires_at', '>', now).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    touch: async (sessionId, lastSeenAt) => {
      // Monotonic: a slower instance never moves last-seen backwards.
      await db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', sessionId).where('last_seen_at', '<', lastSeenAt).execute();
    },

    delete: async (sessionId, userId) => {
      const row = await db.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).returning('token_hash').executeTakeFirst();
      return row?.token_hash;
    },

    deleteForUser: async (userId, keepSessionId) => {
      let query = db.deleteFrom('sessions').where('user_id', '=', userId);
      if (keepSessionId !== undefined) query = query.where('id', '!=', keepSessionId);
      const rows = await query.returning(['id', 'token_hash']).execute();
      return rows.map((row) => ({ id: row.id, tokenHash: row.token_hash }));
    },

    listForUser: async (userId, now) => {
      const rows = await db.selectFrom('sessions').selectAll().where('user_id', '=', userId).where('expires_at', '>', now).orderBy('last_seen_at', 'desc').execute();
      return rows.map((row) => ({
        id: row.id,
        userId: row.user_id,
        createdAt: row.created_at,
        lastSeenAt: row.last_seen_at,
        expiresAt: row.expires_at,
        ip: row.ip,
        userAgent: row.user_agent,
        authMethods: stringList(row.auth_methods),
        authTime: row.auth_time,
      }));
    },

    deleteExpired: async (now, idleTimeoutMs) => {
      const result = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleTimeoutMs)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

