import type { Kysely } from 'kysely';
import type { DatabaseSchema, MfaFactorsTable } from '../../storage/sql/schema.ts';

export type FactorKind = 'totp' | 'passkey';

/** A second factor of a user, as the feature sees it (no secret material except where needed). */
export interface Factor {
  id: string;
  userId: string;
  kind: FactorKind;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** TOTP only: the sealed secret. */
  secretSealed: string | null;
  /** Passkeys only. */
  credentialId: string | null;
  publicKey: string | null;
  signCount: number;
  transports: string[];
  deviceType: string | null;
}

/** The storage port of the MFA feature (style rule 5). */
export interface MfaStore {
  listFactors(userId: string): Promise<Factor[]>;
  getFactor(userId: string, factorId: string): Promise<Factor | undefined>;
  findByCredentialId(credentialId: string): Promise<Factor | undefined>;
  insertFactor(factor: Factor): Promise<void>;
  renameFactor(userId: string, factorId: string, name: string): Promise<boolean>;
  deleteFactor(userId: string, factorId: string): Promise<boolean>;
  /** Marks the factor used; for passkeys also stores the new counter, only if it moved forward (or both are 0). */
  markUsed(factorId: string, at: number, signCount?: number): Promise<boolean>;
  /** Replaces the user's recovery codes (a regeneration voids the old set) in one transaction. */
  replaceRecoveryCodes(userId: string, codeHashes: string[], at: number): Promise<void>;
  /** Uses up one recovery code: exactly one of any number of concurrent callers gets true. */
  consumeRecoveryCode(userId: string, codeHash: string, at: number): Promise<boolean>;
  remainingRecoveryCodes(userId: string): Promise<number>;
  /** Operator reset: every factor and recovery code of the user; returns how many factors went. */
  deleteAllForUser(userId: string): Promise<number>;
}

function toFactor(row: MfaFactorsTable): Factor {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind as FactorKind,
    name: row.name,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    secretSealed: row.secret_sealed,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    transports: row.transports ? (JSON.parse(row.transports) as string[]) : [],
    deviceType: row.device_type,
  };
}

export function createSqlMfaStore(db: Kysely<DatabaseSchema>): MfaStore {
  return {
    listFactors: async (userId) => {
      const rows = await db.selectFrom('mfa_factors').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toFactor);
    },
    getFactor: async (userId, factorId) => {
      const row = await db.selectFrom('mfa_factors').selectAll().where('user_id', '=', userId).where('id', '=', factorId).executeTakeFirst();
      return row ? toFactor(row) : undefined;
    },
    findByCredentialId: async (credentialId) => {
      const row = await db.selectFrom('mfa_factors').selectAll().where('credential_id', '=', credentialId).where('kind', '=', 'passkey').executeTakeFirst();
      return row ? toFactor(row) : undefined;
    },
    insertFactor: async (factor) => {
      await db.insertInto('mfa_factors').values({
        id: factor.id,
        user_id: factor.userId,
        kind: factor.kind,
        name: factor.name,
        secret_sealed: factor.secretSealed,
        credential_id: factor.credentialId,
        public_key: factor.publicKey,
        sign_count: factor.signCount,
        transports: factor.transports.length > 0 ? JSON.stringify(factor.transports) : null,
        device_type: factor.deviceType,
        created_at: factor.createdAt,
        last_used_at: factor.lastUsedAt,
      }).execute();
    },
    renameFactor: async (userId, factorId, name) => {
      const result = await db.updateTable('mfa_factors').set({ name }).where('user_id', '=', userId).where('id', '=', factorId).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    deleteFactor: async (userId, factorId) => {
      const result = await db.deleteFrom('mfa_factors').where('user_id', '=', userId).where('id', '=', factorId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    markUsed: async (factorId, at, signCount) => {
      let query = db.updateTable('mfa_factors').set(signCount === undefined ? { last_used_at: at } : { last_used_at: at, sign_count: signCount }).where('id', '=', factorId);
      // WebAuthn §6.1.1: a counter that does not move forward (unless both are 0) means a clone.
      if (signCount !== undefined && signCount !== 0) query = query.where('sign_count', '<', signCount);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    replaceRecoveryCodes: async (userId, codeHashes, at) => {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
        if (codeHashes.length === 0) return;
        await trx.insertInto('mfa_recovery_codes').values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: at, used_at: null }))).execute();
      });
    },
    consumeRecoveryCode: async (userId, codeHash, at) => {
      // Conditional UPDATE (style rule 6): the database decides the one winner.
      const result = await db.updateTable('mfa_recovery_codes').set({ used_at: at }).where('user_id', '=', userId).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    remainingRecoveryCodes: async (userId) => {
      const row = await db.selectFrom('mfa_recovery_codes').select((eb) => eb.fn.countAll<number>().as('count')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
      return Number(row?.count ?? 0);
    },
    deleteAllForUser: async (userId) => {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
        const result = await trx.deleteFrom('mfa_factors').where('user_id', '=', userId).executeTakeFirst();
        return Number(result.numDeletedRows);
      });
    },
  };
}
