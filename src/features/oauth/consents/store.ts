import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../storage/sql/schema.ts';

export interface Consent {
  userId: string;
  clientId: string;
  scopes: string[];
  grantedAt: number;
  updatedAt: number;
}

/** Remembered consent per user and client (the scopes consented to so far). */
export interface ConsentStore {
  get(userId: string, clientId: string): Promise<Consent | undefined>;
  /** Adds `scopes` to what the user consented to for the client. */
  grant(userId: string, clientId: string, scopes: readonly string[], now: number): Promise<void>;
  list(userId: string): Promise<Consent[]>;
  /** Forgets the consent; false when there was none. */
  revoke(userId: string, clientId: string): Promise<boolean>;
}

export function createConsentStore(db: Kysely<DatabaseSchema>): ConsentStore {
  const toConsent = (row: { user_id: string; client_id: string; scopes: string; granted_at: number; updated_at: number }): Consent => ({
    userId: row.user_id,
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    grantedAt: row.granted_at,
    updatedAt: row.updated_at,
  });
  const get = async (userId: string, clientId: string) => {
    const row = await db.selectFrom('consents').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
    return row ? toConsent(row) : undefined;
  };
  return {
    get,
    grant: async (userId, clientId, scopes, now) => {
      const current = await get(userId, clientId);
      const merged = [...new Set([...(current?.scopes ?? []), ...scopes])].sort();
      await db
        .insertInto('consents')
        .values({ user_id: userId, client_id: clientId, scopes: JSON.stringify(merged), granted_at: now, updated_at: now })
        .onConflict((conflict) => conflict.columns(['user_id', 'client_id']).doUpdateSet({ scopes: JSON.stringify(merged), updated_at: now }))
        .execute();
    },
    list: async (userId) => (await db.selectFrom('consents').selectAll().where('user_id', '=', userId).orderBy('granted_at', 'desc').execute()).map(toConsent),
    revoke: async (userId, clientId) => {
      const result = await db.deleteFrom('consents').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
