import { CompiledQuery, type Kysely } from 'kysely';
import { preparedQuery } from '../../storage/sql/prepared-query.ts';
import { syncSqliteOf } from '../../storage/sql/sync-sqlite.ts';
import { stringList } from '../../storage/sql/columns.ts';
import { directPostgresOf } from '../../storage/sql/pg-direct.ts';
import { createGroupCommit } from './group-commit.ts';
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
  getGrant(id: string): Promise<Grant | undefined>;
  /** A new grant and its first refresh token, in one transaction. */
  createGrantWithToken(grant: Grant, token: RefreshTokenRow): Promise<void>;
  /**
   * The token by its hash, with its grant, and what a refresh must know about the grant's session
   * and user (null: the grant has none, or the row is gone) — one query.
   */
  findRefreshToken(tokenHash: string): Promise<FoundRefreshToken | undefined>;
  /**
   * Rotation in one transaction: marks the token rotated, naming its successor and keeping the
   * response (successor and access token, sealed), if it was not yet — true for exactly one of
   * any number of racers — and inserts the successor. The loser changes nothing.
   */
  rotateRefreshToken(tokenId: string, now: number, successor: RefreshTokenRow, response: SealedResponse): Promise<boolean>;
  /**
   * PostgreSQL only: a whole rotation in one statement (one round trip) for a token whose grant
   * context the caller already knew, so it minted the access token first. The statement looks the
   * token up as `findRefreshToken` does, and claims it and inserts the successor only if the token
   * is live and everything the access token was minted from still holds (client, grant, user and
   * roles, session); it marks the session seen when the caller says it may be due. Returns
   * whether this claim took, when the session was last seen, and, only when the claim did not
   * take, what the lookup saw (before any concurrent claim committed).
   */
  rotateKnownRefreshToken?(known: KnownRotation, now: number, successor: RefreshTokenRow, response: SealedResponse): Promise<KnownRotationOutcome>;
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

/** What a rotation answered, sealed (SEC-REL-03: a retry gets the same answer). */
export interface SealedResponse {
  successor: string;
  accessToken: string;
  accessTokenExpiresAt: number;
}

/** What a one-statement rotation must find unchanged (`rotateKnownRefreshToken`). */
export interface KnownRotation {
  tokenHash: string;
  tokenId: string;
  tokenScope: string;
  grant: Pick<Grant, 'id' | 'client_id' | 'user_id' | 'session_id' | 'scope'>;
  /** The roles the access token carries; null for a grant without a user. */
  roles: string[] | null;
  /**
   * The session is marked seen when it was last seen before this (ms); 0: not due as far as the
   * caller knows (last seen within the touch interval), and the statement has no touch at all.
   */
  touchSessionSeenBefore: number;
}

export interface KnownRotationOutcome {
  rotated: boolean;
  /** When the grant's session was last seen (ms), this statement's touch included; null without a session. */
  sessionSeenAt: number | null;
  found: FoundRefreshToken | undefined;
}

export interface FoundRefreshToken {
  token: RefreshTokenRow;
  /** The successor of a rotated token: rotated itself (used) or not; null when none is named or its row is gone. */
  successor: { rotatedAt: number | null } | null;
  grant: Grant;
  session: { expiresAt: number; lastSeenAt: number } | null;
  user: { disabled: boolean; roles: string[] } | null;
}

interface FoundRow extends RefreshTokenRow {
  successor_found: string | null;
  successor_rotated_at: number | null;
  session_expires_at: number | null;
  session_last_seen_at: number | null;
  user_found: string | null;
  user_disabled_at: number | null;
  user_roles: string | null;
  grant_client_id: string;
  grant_user_id: string | null;
  grant_session_id: string | null;
  grant_scope: string;
  grant_created_at: number;
  grant_expires_at: number;
  grant_revoked_at: number | null;
  grant_jkt: string | null;
}

/**
 * PostgreSQL rotation (see rotateRefreshToken): $1 now, $2 sealed successor, $3 old token id,
 * $4…$9 the successor row, $10 the sealed access token, $11 its expiry.
 */
const ROTATE_POSTGRES = `with "claimed" as (
  update "refresh_tokens" set "rotated_at" = $1, "successor_id" = $4, "successor_token_encrypted" = $2,
    "successor_access_token_encrypted" = $10, "successor_access_token_expires_at" = $11
  where "id" = $3 and "rotated_at" is null returning "id"
)
insert into "refresh_tokens" ("id", "token_hash", "grant_id", "scope", "created_at", "idle_expires_at", "rotated_at", "successor_id", "successor_token_encrypted", "successor_access_token_encrypted", "successor_access_token_expires_at")
select $4, $5, $6, $7, $8, $9, null, null, null, null, null from "claimed"`;

/**
 * PostgreSQL rotation of a known token in one statement (see rotateKnownRefreshToken), around the
 * lookup's own SQL (`found`, $1 the token hash). $2 now, $3 successor id, $4 sealed successor,
 * $5 sealed access token, $6 its expiry, $7 old token id, $8 client, $9 grant, $10 token scope,
 * $11 grant scope, $12 user, $13 session, $14 roles (JSON text), $15…$17 the successor's hash,
 * created and idle expiry; with `touch`, $18: mark the session seen when last seen before this.
 * Under READ COMMITTED a concurrent claim makes this UPDATE wait on the row lock and then re-check
 * "rotated_at is null" on the committed row: it claims nothing, so nothing is inserted.
 * One row of three columns: `rotated`; when the session was last seen (after the touch, if it
 * touched); and what the lookup saw (as JSON) only when it did not claim — a rotation that took
 * sends back no row description of the lookup's ~35 columns, which was the largest part of the pg
 * driver's work per rotation (docs/benchmarks.md, W2 profile).
 * Without `touch` there is no sessions UPDATE in the plan: PostgreSQL's CPU per rotation is mostly
 * executor start-up and shutdown (every relation and index of the plan opened, locked, released),
 * and a touch is due about once a minute, not on every rotation.
 */
function rotateKnownPostgres(foundSql: string, touch: boolean): string {
  return `with "found" as (${foundSql}),
"claimed" as (
  update "refresh_tokens" as "r" set "rotated_at" = $2, "successor_id" = $3, "successor_token_encrypted" = $4,
    "successor_access_token_encrypted" = $5, "successor_access_token_expires_at" = $6
  from "found" as "f"
  where "r"."id" = "f"."id" and "r"."rotated_at" is null and "f"."id" = $7 and "f"."idle_expires_at" > $2
    and "f"."grant_client_id" = $8 and "f"."grant_id" = $9 and "f"."grant_revoked_at" is null and "f"."grant_expires_at" > $2
    and "f"."scope" = $10 and "f"."grant_scope" = $11
    and "f"."grant_user_id" is not distinct from $12 and "f"."grant_session_id" is not distinct from $13
    and ("f"."grant_user_id" is null or ("f"."user_found" is not null and "f"."user_disabled_at" is null and "f"."user_roles" = $14))
    and ("f"."grant_session_id" is null or "f"."session_expires_at" > $2)
  returning "r"."id"
),
"inserted" as (
  insert into "refresh_tokens" ("id", "token_hash", "grant_id", "scope", "created_at", "idle_expires_at", "rotated_at", "successor_id", "successor_token_encrypted", "successor_access_token_encrypted", "successor_access_token_expires_at")
  select $3, $15, $9, $10, $16, $17, null, null, null, null, null from "claimed"
  returning "id"
)${touch ? `,
"touched" as (
  update "sessions" set "last_seen_at" = $2
  where "id" = (select "grant_session_id" from "found") and "last_seen_at" < $18 and "expires_at" > $2 and exists (select 1 from "inserted")
  returning "id"
)` : ''}
select exists (select 1 from "inserted") as "rotated",
  ${touch ? 'case when exists (select 1 from "touched") then $2 else (select "session_last_seen_at" from "found") end' : '(select "session_last_seen_at" from "found")'} as "session_seen_at",
  case when exists (select 1 from "inserted") then null else (select row_to_json("found") from "found") end as "found"`;
}

const TOKEN_COLUMNS = ['t.id', 't.token_hash', 't.grant_id', 't.scope', 't.created_at', 't.idle_expires_at', 't.rotated_at', 't.successor_id', 't.successor_token_encrypted', 't.successor_access_token_encrypted', 't.successor_access_token_expires_at'] as const;

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}

/** The lookup's row as the port's shape. */
function foundFrom(row: FoundRow): FoundRefreshToken {
  return {
    token: {
      id: row.id,
      token_hash: row.token_hash,
      grant_id: row.grant_id,
      scope: row.scope,
      created_at: Number(row.created_at),
      idle_expires_at: Number(row.idle_expires_at),
      rotated_at: nullableNumber(row.rotated_at),
      successor_id: row.successor_id,
      successor_token_encrypted: row.successor_token_encrypted,
      successor_access_token_encrypted: row.successor_access_token_encrypted,
      successor_access_token_expires_at: nullableNumber(row.successor_access_token_expires_at),
    },
    successor: row.successor_found === null ? null : { rotatedAt: nullableNumber(row.successor_rotated_at) },
    grant: { id: row.grant_id, client_id: row.grant_client_id, user_id: row.grant_user_id, session_id: row.grant_session_id, scope: row.grant_scope, created_at: Number(row.grant_created_at), expires_at: Number(row.grant_expires_at), revoked_at: nullableNumber(row.grant_revoked_at), jkt: row.grant_jkt ?? null },
    session: row.session_expires_at === null || row.session_last_seen_at === null ? null : { expiresAt: Number(row.session_expires_at), lastSeenAt: Number(row.session_last_seen_at) },
    user: row.user_found === null ? null : { disabled: row.user_disabled_at !== null, roles: stringList(row.user_roles) },
  };
}

export function createSqlTokenStore(db: Kysely<DatabaseSchema>): TokenStore {
  // The refresh path's queries, compiled once (prepared-query.ts). The token lookup also reads
  // the grant's session and user rows (read only; they belong to the sessions and accounts
  // features): a refresh checks both, and each separate statement was a round trip on PostgreSQL.
  const findToken = preparedQuery<FoundRow, [string]>(db, 1, (hash) =>
    db
      .selectFrom('refresh_tokens as t')
      .innerJoin('grants as g', 'g.id', 't.grant_id')
      .leftJoin('sessions as s', 's.id', 'g.session_id')
      .leftJoin('users as u', 'u.id', 'g.user_id')
      // SEC-REL-03: whether the successor was used decides between a retry and reuse.
      .leftJoin('refresh_tokens as n', 'n.id', 't.successor_id')
      .select(TOKEN_COLUMNS)
      .select(['n.id as successor_found', 'n.rotated_at as successor_rotated_at'])
      .select(['g.client_id as grant_client_id', 'g.user_id as grant_user_id', 'g.session_id as grant_session_id', 'g.scope as grant_scope', 'g.created_at as grant_created_at', 'g.expires_at as grant_expires_at', 'g.revoked_at as grant_revoked_at', 'g.jkt as grant_jkt'])
      .select(['s.expires_at as session_expires_at', 's.last_seen_at as session_last_seen_at', 'u.id as user_found', 'u.disabled_at as user_disabled_at', 'u.roles as user_roles'])
      .where('t.token_hash', '=', hash!),
  );
  const claimToken = preparedQuery<never, [number, string, string, string, number, string]>(db, 6, (now, successorId, sealed, accessToken, accessTokenExpiresAt, tokenId) =>
    db
      .updateTable('refresh_tokens')
      .set({ rotated_at: now as unknown as number, successor_id: successorId!, successor_token_encrypted: sealed!, successor_access_token_encrypted: accessToken!, successor_access_token_expires_at: accessTokenExpiresAt as unknown as number })
      .where('id', '=', tokenId!)
      .where('rotated_at', 'is', null),
  );
  // Kysely says nothing public about the dialect; PostgreSQL's placeholders are numbered.
  const postgres = db.selectFrom('grants').select('id').where('id', '=', '').compile().sql.includes('$1');
  const sync = syncSqliteOf(db);
  const groupCommit = sync ? createGroupCommit(sync) : undefined;
  const direct = directPostgresOf(db);
  const revokedQueries = new Map<string, ReturnType<typeof preparedQuery<{ value: string }, unknown[]>>>();
  const insertToken = preparedQuery<never, [string, string, string, string, number, number]>(db, 6, (id, hash, grantId, scope, createdAt, idleExpiresAt) =>
    db.insertInto('refresh_tokens').values({ id: id!, token_hash: hash!, grant_id: grantId!, scope: scope!, created_at: createdAt as unknown as number, idle_expires_at: idleExpiresAt as unknown as number, rotated_at: null, successor_id: null, successor_token_encrypted: null, successor_access_token_encrypted: null, successor_access_token_expires_at: null }),
  );
  const rotateKnownSql = new Map<boolean, string>();
  /** PostgreSQL: lookup, claim, successor and the due session touch as one statement (rotateKnownPostgres). */
  async function rotateKnownRefreshToken(known: KnownRotation, now: number, successor: RefreshTokenRow, response: SealedResponse): Promise<KnownRotationOutcome> {
    const touch = known.touchSessionSeenBefore > 0;
    let text = rotateKnownSql.get(touch);
    if (text === undefined) rotateKnownSql.set(touch, (text = rotateKnownPostgres(findToken.statement([known.tokenHash]).sql, touch)));
    const { grant } = known;
    const parameters = [
      known.tokenHash, now, successor.id, response.successor, response.accessToken, response.accessTokenExpiresAt,
      known.tokenId, grant.client_id, grant.id, known.tokenScope, grant.scope, grant.user_id, grant.session_id,
      known.roles === null ? null : JSON.stringify(known.roles), successor.token_hash, successor.created_at, successor.idle_expires_at,
      ...(touch ? [known.touchSessionSeenBefore] : []),
    ];
    type Outcome = { rotated: boolean; session_seen_at: number | null; found: FoundRow | null };
    const result = await (direct ? direct.execute<Outcome>(text, parameters) : db.executeQuery(CompiledQuery.raw(text, parameters) as CompiledQuery<Outcome>));
    const row = result.rows[0];
    const sessionSeenAt = nullableNumber(row?.session_seen_at ?? null);
    if (row?.rotated === true) return { rotated: true, sessionSeenAt, found: undefined };
    // json: bigints arrive as JSON numbers, which foundFrom takes as it takes the driver's.
    return { rotated: false, sessionSeenAt, found: row?.found ? foundFrom(row.found) : undefined };
  }
  /**
   * Revokes the live grants a filter selects, in one UPDATE … RETURNING: no list of ids in the
   * statement (a client or user with more grants than a statement takes parameters — 65 535 on
   * PostgreSQL — would fail every time), and no gap in which a grant created between a select
   * and the update escapes. Returns the grants as they were revoked.
   */
  function revokeWhere(filter: (query: ReturnType<typeof revokeLive>) => ReturnType<typeof revokeLive>, now: number): Promise<Grant[]> {
    return filter(revokeLive(now)).returningAll().execute();
  }
  function revokeLive(now: number) {
    return db.updateTable('grants').set({ revoked_at: now }).where('revoked_at', 'is', null);
  }
  function selectLive() {
    return db.selectFrom('grants').selectAll().where('revoked_at', 'is', null);
  }

  return {
    getGrant: (id) => db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst(),
    createGrantWithToken: async (grant, token) => {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('grants').values(grant).execute();
        await insertToken([token.id, token.token_hash, token.grant_id, token.scope, token.created_at, token.idle_expires_at], trx);
      });
    },
    findRefreshToken: async (tokenHash) => {
      const row = (await findToken([tokenHash])).rows[0];
      return row ? foundFrom(row) : undefined;
    },
    rotateRefreshToken: async (tokenId, now, successor, response) => {
      const values = [successor.id, successor.token_hash, successor.grant_id, successor.scope, successor.created_at, successor.idle_expires_at] as const;
      if (postgres) {
        // One statement instead of four round trips (BEGIN, UPDATE, INSERT, COMMIT): the claim is
        // a data-modifying CTE, and the successor is inserted only when the claim took the row.
        // A concurrent claim waits on the row lock, then sees rotated_at set and inserts nothing.
        const parameters = [now, response.successor, tokenId, ...values, response.accessToken, response.accessTokenExpiresAt];
        const result = await (direct ? direct.execute(ROTATE_POSTGRES, parameters) : db.executeQuery(CompiledQuery.raw(ROTATE_POSTGRES, parameters)));
        return Number(result.numAffectedRows ?? 0) === 1;
      }
      // Embedded: the same two statements in one synchronous transaction, when the connection is
      // free (sync-sqlite.ts); nothing can interleave, and no BEGIN waits across promise hops.
      // The rotations of one event-loop turn share that transaction and its commit (group-commit.ts).
      const claimValues: [number, string, string, string, number, string] = [now, successor.id, response.successor, response.accessToken, response.accessTokenExpiresAt, tokenId];
      const grouped = await groupCommit?.run((execute) => {
        const claim = claimToken.statement(claimValues);
        if (Number(execute(claim.sql, claim.parameters).numAffectedRows ?? 0) !== 1) return false;
        const insert = insertToken.statement([...values]);
        execute(insert.sql, insert.parameters);
        return true;
      });
      if (grouped !== undefined) return grouped;
      return db.transaction().execute(async (trx) => {
        // One conditional UPDATE: of N concurrent refreshes exactly one sees a row change.
        const claimed = await claimToken(claimValues, trx);
        if (Number(claimed.numAffectedRows ?? 0) !== 1) return false;
        await insertToken([...values], trx);
        return true;
      });
    },
    ...(postgres ? { rotateKnownRefreshToken } : {}),
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
      // One compiled statement per shape (which kinds, with or without issuedAt): a handful in all.
      const shape = candidates.map((candidate) => `${candidate.kind}${candidate.issuedAt === undefined ? '' : '@'}`).join(',');
      let query = revokedQueries.get(shape);
      if (!query) {
        // One point lookup on the (kind, value) key per candidate, joined with UNION ALL: SQLite
        // runs an OR of them as a multi-index OR, five to ten times slower (docs/benchmarks.md).
        query = preparedQuery<{ value: string }, unknown[]>(db, 1 + candidates.reduce((count, candidate) => count + (candidate.issuedAt === undefined ? 2 : 3), 0), (...markers) => {
          let next = 1;
          const branch = (candidate: RevocationCandidate) => {
            const lookup = db
              .selectFrom('revocations')
              .select('value')
              .where('kind', '=', markers[next++]!)
              .where('value', '=', markers[next++]!)
              .where('expires_at', '>', markers[0] as unknown as number);
            return candidate.issuedAt === undefined ? lookup : lookup.where('revoked_at', '>=', markers[next++] as unknown as number);
          };
          let union = branch(candidates[0]!);
          for (const candidate of candidates.slice(1)) union = union.unionAll(branch(candidate));
          return union.limit(1);
        });
        revokedQueries.set(shape, query);
      }
      const values: unknown[] = [now];
      for (const candidate of candidates) {
        values.push(candidate.kind, candidate.value);
        if (candidate.issuedAt !== undefined) values.push(candidate.issuedAt);
      }
      return (await query(values)).rows.length > 0;
    },
    listRevocations: async (now, since = 0) => {
      const rows = await db.selectFrom('revocations').selectAll().where('expires_at', '>', now).where('revoked_at', '>=', since).orderBy('revoked_at').execute();
      return rows.map((row) => ({ kind: row.kind as RevocationKind, value: row.value, revokedAt: row.revoked_at, expiresAt: row.expires_at }));
    },
  };
}
