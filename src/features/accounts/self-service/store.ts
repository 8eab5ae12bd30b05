import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../storage/sql/schema.ts';
import type { OneTimePurpose } from '../store.ts';

/** One-time token purposes of self-service, kept in the existing `one_time_tokens` table. */
export const CHANGE_EMAIL: OneTimePurpose = 'change-email';
export const UNDO_EMAIL_CHANGE: OneTimePurpose = 'undo-email-change';

export type EmailUpdate = 'changed' | 'taken' | 'gone';

/** The self-service storage port: what the accounts' UserStore and MFA store have no method for. */
export interface SelfServiceStore {
  /**
   * Sets the address of `userId` from `from` to `to` and marks it verified (the mail proved it) —
   * only while the account still has `from`. `taken` when another account has `to` (re-checked
   * here, at confirmation, and enforced by the unique index against a concurrent sign-up).
   */
  changeEmail(userId: string, from: string, to: string, at: number): Promise<EmailUpdate>;
  /**
   * When the open undo window of `userId` closes: the expiry of a live (unused, unexpired)
   * `undo-email-change` link, or null when there is none. Read from SQL, so the window survives
   * a restart of an in-memory ephemeral store; an undo, the link expiring or an admin change
   * (which voids the link) closes it.
   */
  undoWindowEndsAt(userId: string, now: number): Promise<number | null>;
  /**
   * After an undo: the second factors and recovery codes created at or after `since` (the
   * confirmed change) go — whoever held the account then may have enrolled them. Returns how
   * many of each were removed.
   */
  removeSecondFactorsSince(userId: string, since: number): Promise<{ factors: number; recoveryCodes: number }>;
}

export function createSelfServiceStore(db: Kysely<DatabaseSchema>): SelfServiceStore {
  return {
    changeEmail: async (userId, from, to, at) => {
      const holder = await db.selectFrom('users').select('id').where('email', '=', to).executeTakeFirst();
      if (holder && holder.id !== userId) return 'taken';
      try {
        const result = await db.updateTable('users')
          .set({ email: to, email_verified_at: at, updated_at: at })
          .where('id', '=', userId)
          .where('email', '=', from)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) === 1 ? 'changed' : 'gone';
      } catch (error) {
        if (isUniqueViolation(error)) return 'taken';
        throw error;
      }
    },
    undoWindowEndsAt: async (userId, now) => {
      const row = await db.selectFrom('one_time_tokens')
        .select((eb) => eb.fn.max('expires_at').as('ends_at'))
        .where('user_id', '=', userId)
        .where('purpose', '=', UNDO_EMAIL_CHANGE)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row?.ends_at === null || row?.ends_at === undefined ? null : Number(row.ends_at);
    },
    removeSecondFactorsSince: async (userId, since) => db.transaction().execute(async (trx) => {
      const codes = await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).where('created_at', '>=', since).executeTakeFirst();
      const factors = await trx.deleteFrom('mfa_factors').where('user_id', '=', userId).where('created_at', '>=', since).executeTakeFirst();
      return { factors: Number(factors.numDeletedRows), recoveryCodes: Number(codes.numDeletedRows) };
    }),
  };
}

/** SQLite ("UNIQUE constraint failed") and PostgreSQL (SQLSTATE 23505). */
function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === '23505' || /UNIQUE constraint failed/i.test(error.message);
}
