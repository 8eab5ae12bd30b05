import { stringList } from '../../storage/sql/columns.ts';
import type { Kysely, Selectable } from 'kysely';
import type { DatabaseSchema, UsersTable } from '../../storage/sql/schema.ts';
import { hashSecret, randomToken } from '../../crypto/random.ts';

export interface User {
  id: string;
  email: string;
  name: string | null;
  emailVerifiedAt: number | null;
  passwordHash: string | null;
  roles: string[];
  createdAt: number;
  updatedAt: number;
  disabledAt: number | null;
}

/** The accounts feature's storage port. */
export interface UserStore {
  /** Inserts the user; undefined when the email is already registered (no exception, no race). */
  create(user: User): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  setPasswordHash(id: string, passwordHash: string, at: number): Promise<void>;
  /** Replaces the hash only if it is still `expected` (re-hash on sign-in must not undo a concurrent change). */
  upgradePasswordHash(id: string, expected: string, passwordHash: string, at: number): Promise<void>;
  markEmailVerified(id: string, at: number): Promise<void>;
  /** Removes the password (the account then signs in only through a linked identity or a reset). */
  clearPassword(id: string, at: number): Promise<void>;
  updateName(id: string, name: string | null, at: number): Promise<void>;
  setRoles(id: string, roles: string[], at: number): Promise<void>;
  count(): Promise<number>;
}

/** What a one-time link is for; `change-email` / `undo-email-change`: self-service (accounts/self-service/). */
export type OneTimePurpose = 'verify-email' | 'reset-password' | 'link-identity' | 'change-email' | 'undo-email-change';

/** Single-use link tokens (verification, reset): random 256-bit, stored as SHA-256, consumed atomically. */
export interface OneTimeTokenStore {
  /** A new token; earlier unconsumed tokens of the same purpose for the user stop working. */
  issue(purpose: OneTimePurpose, userId: string, ttlMs: number, now: number): Promise<string>;
  /** The user id when the token is valid, unexpired and unused — marking it used in the same step. */
  consume(token: string, purpose: OneTimePurpose, now: number): Promise<string | undefined>;
  /** The user id a valid, unexpired, unused token belongs to — without using it (only `consume` redeems). */
  peek(token: string, purpose: OneTimePurpose, now: number): Promise<string | undefined>;
  /** Invalidates every outstanding token of the purpose for the user. */
  invalidate(userId: string, purpose: OneTimePurpose, now: number): Promise<void>;
}

export function createSqlUserStore(db: Kysely<DatabaseSchema>): UserStore {
  return {
    create: async (user) => {
      const row = await db
        .insertInto('users')
        .values(toRow(user))
        .onConflict((conflict) => conflict.column('email').doNothing())
        .returningAll()
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    findByEmail: async (email) => {
      const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    findById: async (id) => {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    setPasswordHash: async (id, passwordHash, at) => {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: at }).where('id', '=', id).execute();
    },
    upgradePasswordHash: async (id, expected, passwordHash, at) => {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: at }).where('id', '=', id).where('password_hash', '=', expected).execute();
    },
    markEmailVerified: async (id, at) => {
      await db.updateTable('users').set({ email_verified_at: at, updated_at: at }).where('id', '=', id).where('email_verified_at', 'is', null).execute();
    },
    clearPassword: async (id, at) => {
      await db.updateTable('users').set({ password_hash: null, updated_at: at }).where('id', '=', id).execute();
    },
    updateName: async (id, name, at) => {
      await db.updateTable('users').set({ name, updated_at: at }).where('id', '=', id).execute();
    },
    setRoles: async (id, roles, at) => {
      await db.updateTable('users').set({ roles: JSON.stringify(roles), updated_at: at }).where('id', '=', id).execute();
    },
    count: async () => {
      const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export function createSqlOneTimeTokenStore(db: Kysely<DatabaseSchema>): OneTimeTokenStore {
  const invalidate = async (userId: string, purpose: OneTimePurpose, now: number): Promise<void> => {
    await db.updateTable('one_time_tokens').set({ consumed_at: now }).where('user_id', '=', userId).where('purpose', '=', purpose).where('consumed_at', 'is', null).execute();
  };
  return {
    issue: async (purpose, userId, ttlMs, now) => {
      await invalidate(userId, purpose, now);
      const token = randomToken(32);
      await db.insertInto('one_time_tokens').values({ token_hash: hashSecret(token), purpose, user_id: userId, created_at: now, expires_at: now + ttlMs, consumed_at: null }).execute();
      return token;
    },
    consume: async (token, purpose, now) => {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
      // One conditional UPDATE … RETURNING: of many concurrent redemptions exactly one matches.
      const row = await db
        .updateTable('one_time_tokens')
        .set({ consumed_at: now })
        .where('token_hash', '=', hashSecret(token))
        .where('purpose', '=', purpose)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('user_id')
        .executeTakeFirst();
      return row?.user_id;
    },
    peek: async (token, purpose, now) => {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
      const row = await db
        .selectFrom('one_time_tokens')
        .select('user_id')
        .where('token_hash', '=', hashSecret(token))
        .where('purpose', '=', purpose)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row?.user_id;
    },
    invalidate,
  };
}

function toRow(user: User): UsersTable {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    email_verified_at: user.emailVerifiedAt,
    password_hash: user.passwordHash,
    roles: JSON.stringify(user.roles),
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    disabled_at: user.disabledAt,
  };
}

function fromRow(row: Selectable<UsersTable>): User {
  const roles = stringList(row.roles);
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    emailVerifiedAt: row.email_verified_at,
    passwordHash: row.password_hash,
    roles,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabledAt: row.disabled_at,
  };
}
