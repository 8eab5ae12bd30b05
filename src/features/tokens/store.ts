import type { Kysely } from 'kysely';
import type { DatabaseSchema, GrantsTable, RefreshTokensTable } from '../../storage/sql/schema.ts';

export type Grant = GrantsTable;
export type RefreshTokenRow = RefreshTokensTable;

/** What a revocation names: one access token, a grant, a session, or a client (every token issued to it until then). */
export type RevocationKind = 'jti' | 'grant' | 'session' | 'client' | 'user-client';

/** A (kind, value) to look up; with `issuedAt` (ms), only a revocation made at or after it counts. */
export interface RevocationCandidate {
  kind: RevocationKind;
  value: string;
  issuedAt?: number;
}

export interface Revocation {
  kind: RevocationKind;
  value: string;
  revokedAt: number;
  expiresAt: number;
}

/** The tokens feature's storage port: grants, the refresh-token chain, revocations. */
export interface TokenStore {
  createGrant(grant: Grant): Promise<void>;
  getGrant(id: string): Promise<Grant | undefined>;
  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  findRefreshToken(tokenHash: string): Promise<{ token: RefreshTokenRow; grant: Grant } | undefined>;
  /** Marks the token rotated if it was not yet: true for exactly one of any number of racers. */
  claimRotation(tokenId: string, now: number): Promise<boolean>;
  setSuccessor(tokenId: string, successorId: string, sealedSuccessor: string): Promise<void>;
  getSuccessor(tokenId: string): Promise<{ successorId: string; sealed: string } | undefined>;
  /** Marks the grant revoked; false when it already was (or does not exist). */
  revokeGrant(grantId: string, now: number): Promise<boolean>;
  /** Revokes every live grant of the sessions (or of the user); returns the grants revoked. */
  revokeGrantsOfSessions(sessionIds: readonly string[], now: number): Promise<Grant[]>;
  revokeGrantsOfUser(userId: string, now: number): Promise<Grant[]>;
  revokeGrantsOfClient(clientId: string, now: number, userId?: string): Promise<Grant[]>;
  /** Live grants of the user (the applications they authorised). */
  liveGrantsOfUser(userId: string, now: number): Promise<Grant[]>;
  /** Rebinds the live grants of one session to another (the same user signed in again). */
  moveGrants(fromSessionId: string, toSessionId: string): Promise<void>;
  addRevocations(revocations: readonly Revocation[]): Promise<void>;
  /** Whether any of the given (kind, value) pairs is revoked and not yet expired. */
  isRevoked(candidates: readonly RevocationCandidate[], now: number): Promise<boolean>;
  /** Live revocations revoked after `since` (for the revocation stream's initial state). */
  listRevocations(now: number, since?: number): Promise<Revocation[]>;
}

export function createSqlTokenStore(db: Kysely<DatabaseSchema>): TokenStore {
  async function revokeWhere(filter: (query: ReturnType<typeof selectLive>) => ReturnType<typeof selectLive>, now: number): Promise<Grant[]> {
    const live = await filter(selectLive()).execute();
    if (live.length === 0) return [];
    await db.updateTable('grants').set({ revoked_at: now }).where('id', 'in', live.map((grant) => grant.id)).where('revoked_at', 'is', null).execute();
    return live;
  }
  function selectLive() {
    return db.selectFrom('grants').selectAll().where('revoked_at', 'is', null);
  }

  return {
    createGrant: async (grant) => {
      await db.insertInto('grants').values(grant).execute();
    },
    getGrant: (id) => db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst(),
    insertRefreshToken: async (row) => {
      await db.insertInto('refresh_tokens').values(row).execute();
    },
    findRefreshToken: async (tokenHash) => {
      const token = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!token) return undefined;
      const grant = await db.selectFrom('grants').selectAll().where('id', '=', token.grant_id).executeTakeFirst();
      return grant ? { token, grant } : undefined;
    },
    claimRotation: async (tokenId, now) => {
      // One conditional UPDATE: of N concurrent refreshes exactly one sees a row change.
      const result = await db.updateTable('refresh_tokens').set({ rotated_at: now }).where('id', '=', tokenId).where('rotated_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    setSuccessor: async (tokenId, successorId, sealed) => {
      await db.updateTable('refresh_tokens').set({ successor_id: successorId, successor_token_encrypted: sealed }).where('id', '=', tokenId).execute();
    },
    getSuccessor: async (tokenId) => {
      const row = await db.selectFrom('refresh_tokens').select(['successor_id', 'successor_token_encrypted']).where('id', '=', tokenId).executeTakeFirst();
      return row?.successor_id && row.successor_token_encrypted ? { successorId: row.successor_id, sealed: row.successor_token_encrypted } : undefined;
    },
    revokeGrant: async (grantId, now) => {
      const result = await db.updateTable('grants').set({ revoked_at: now }).where('id', '=', grantId).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    revokeGrantsOfSessions: (sessionIds, now) =>
      sessionIds.length === 0 ? Promise.resolve([]) : revokeWhere((query) => query.where('session_id', 'in', [...sessionIds]), now),
    revokeGrantsOfUser: (userId, now) => revokeWhere((query) => query.where('user_id', '=', userId), now),
    revokeGrantsOfClient: (clientId, now, userId) => revokeWhere((query) => (userId === undefined ? query.where('client_id', '=', clientId) : query.where('client_id', '=', clientId).where('user_id', '=', userId)), now),
    moveGrants: async (fromSessionId, toSessionId) => {
      await db.updateTable('grants').set({ session_id: toSessionId }).where('session_id', '=', fromSessionId).where('revoked_at', 'is', null).execute();
    },
    liveGrantsOfUser: (userId, now) => selectLive().where('user_id', '=', userId).where('expires_at', '>', now).orderBy('created_at', 'desc').execute(),
    addRevocations: async (revocations) => {
      for (const revocation of revocations) {
        await db
          .insertInto('revocations')
          .values({ kind: revocation.kind, value: revocation.value, revoked_at: revocation.revokedAt, expires_at: revocation.expiresAt })
          .onConflict((conflict) => conflict.columns(['kind', 'value']).doUpdateSet({ revoked_at: revocation.revokedAt, expires_at: revocation.expiresAt }))
          .execute();
      }
    },
    isRevoked: async (candidates, now) => {
      if (candidates.length === 0) return false;
      const row = await db
        .selectFrom('revocations')
        .select('value')
        .where('expires_at', '>', now)
        .where((eb) =>
          eb.or(
            candidates.map((candidate) =>
              candidate.issuedAt === undefined
                ? eb.and([eb('kind', '=', candidate.kind), eb('value', '=', candidate.value)])
                : eb.and([eb('kind', '=', candidate.kind), eb('value', '=', candidate.value), eb('revoked_at', '>=', candidate.issuedAt)]),
            ),
          ),
        )
        .executeTakeFirst();
      return row !== undefined;
    },
    listRevocations: async (now, since = 0) => {
      const rows = await db.selectFrom('revocations').selectAll().where('expires_at', '>', now).where('revoked_at', '>=', since).orderBy('revoked_at').execute();
      return rows.map((row) => ({ kind: row.kind as RevocationKind, value: row.value, revokedAt: row.revoked_at, expiresAt: row.expires_at }));
    },
  };
}
