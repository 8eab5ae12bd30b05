import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../storage/sql/schema.ts';

/** How the admin user list is ordered; `-` is descending. */
export const USER_SORTS = ['created_at', '-created_at', 'email', '-email'] as const;
export type UserSort = (typeof USER_SORTS)[number];

export interface UserListQuery {
  /** Part of the email address or the name, case-insensitive. */
  search?: string;
  status?: 'active' | 'disabled';
  role?: string;
  verified?: boolean;
  /** Whether the user has a second factor (a row in `mfa_factors`; recovery codes alone do not count). */
  hasMfa?: boolean;
  sort?: UserSort;
  /** The `next_cursor` of the previous page. */
  cursor?: string;
  limit?: number;
}

export interface UserListPage {
  ids: string[];
  total: number;
  nextCursor: string | null;
}

/** The admin feature's storage port for users: what `UserStore` (the sign-in path's port) does not need. */
export interface UserAdminStore {
  list(query: UserListQuery): Promise<UserListPage>;
  /** Sets or clears `disabled_at`; false when the user does not exist. */
  setDisabled(userId: string, disabledAt: number | null, at: number): Promise<boolean>;
  setEmailVerified(userId: string, verifiedAt: number | null, at: number): Promise<void>;
  /**
   * Sets the address, unverified, only while the account still has `from`: `taken` when another
   * account holds `to` (checked, and enforced by the unique index against a concurrent sign-up).
   */
  setEmail(userId: string, from: string, to: string, at: number): Promise<'changed' | 'taken' | 'gone'>;
  /** Deletes the user row; sessions, links, grants, consents and factors go with it (ON DELETE CASCADE). */
  erase(userId: string): Promise<boolean>;
}

export const MAX_PAGE = 200;

export function createUserAdminStore(db: Kysely<DatabaseSchema>): UserAdminStore {
  return {
    list: async (query) => {
      const sort = query.sort ?? '-created_at';
      const column = sort.replace('-', '') as 'created_at' | 'email';
      const descending = sort.startsWith('-');
      const limit = Math.min(MAX_PAGE, Math.max(1, query.limit ?? 50));
      let filtered = db.selectFrom('users');
      if (query.search) {
        const pattern = `%${escapeLike(query.search.toLowerCase())}%`;
        filtered = filtered.where((eb) => eb.or([
          eb(sql`lower(email)`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`lower(coalesce(name, ''))`, 'like', sql`${pattern} escape '\\'`),
        ]));
      }
      if (query.status === 'active') filtered = filtered.where('disabled_at', 'is', null);
      if (query.status === 'disabled') filtered = filtered.where('disabled_at', 'is not', null);
      if (query.verified === true) filtered = filtered.where('email_verified_at', 'is not', null);
      if (query.verified === false) filtered = filtered.where('email_verified_at', 'is', null);
      if (query.hasMfa !== undefined) {
        const factor = (eb: ExpressionBuilder<DatabaseSchema, 'users'>) => eb.exists(eb.selectFrom('mfa_factors').select('mfa_factors.id').whereRef('mfa_factors.user_id', '=', 'users.id'));
        filtered = filtered.where((eb) => (query.hasMfa ? factor(eb) : eb.not(factor(eb))));
      }
      // Roles are a JSON list of names from [a-z0-9:_-]; the quotes make the match exact.
      if (query.role !== undefined) filtered = filtered.where(sql`roles`, 'like', sql`${`%"${escapeLike(query.role)}"%`} escape '\\'`);
      const total = Number((await filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

      let page = filtered.select(['id', 'email', 'created_at']);
      const after = decodeCursor(query.cursor);
      if (after) {
        const op = descending ? '<' : '>';
        page = page.where((eb) => eb.or([eb(column, op, after.value as never), eb.and([eb(column, '=', after.value as never), eb('id', op, after.id)])]));
      }
      const direction = descending ? 'desc' : 'asc';
      const rows = await page.orderBy(column, direction).orderBy('id', direction).limit(limit + 1).execute();
      const shown = rows.slice(0, limit);
      const last = shown.at(-1);
      return {
        ids: shown.map((row) => row.id),
        total,
        nextCursor: rows.length > limit && last ? encodeCursor(column === 'email' ? last.email : Number(last.created_at), last.id) : null,
      };
    },
    setDisabled: async (userId, disabledAt, at) => {
      const result = await db.updateTable('users').set({ disabled_at: disabledAt, updated_at: at }).where('id', '=', userId).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    setEmailVerified: async (userId, verifiedAt, at) => {
      await db.updateTable('users').set({ email_verified_at: verifiedAt, updated_at: at }).where('id', '=', userId).execute();
    },
    setEmail: async (userId, from, to, at) => {
      const holder = await db.selectFrom('users').select('id').where('email', '=', to).executeTakeFirst();
      if (holder && holder.id !== userId) return 'taken';
      try {
        const result = await db.updateTable('users').set({ email: to, email_verified_at: null, updated_at: at }).where('id', '=', userId).where('email', '=', from).executeTakeFirst();
        return Number(result.numUpdatedRows) === 1 ? 'changed' : 'gone';
      } catch (error) {
        if (isUniqueViolation(error)) return 'taken';
        throw error;
      }
    },
    erase: async (userId) => {
      const result = await db.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

/** SQLite ("UNIQUE constraint failed") and PostgreSQL (SQLSTATE 23505). */
function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (error as { code?: unknown }).code === '23505' || /UNIQUE constraint failed/i.test(error.message);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function encodeCursor(value: string | number, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

/** Throws RangeError for a cursor we did not make. */
export function decodeCursor(cursor: string | undefined): { value: string | number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && (typeof parsed[0] === 'string' || typeof parsed[0] === 'number') && typeof parsed[1] === 'string') return { value: parsed[0], id: parsed[1] };
  } catch {
    // fall through
  }
  throw new RangeError('not a cursor of this list');
}
