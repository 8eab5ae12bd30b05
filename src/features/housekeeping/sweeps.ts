import type { Kysely, Transaction } from 'kysely';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import { GRACE_MS, SKEW_MARGIN_MS, type HousekeepingTable } from './tables.ts';

/** What one batch needs: the database, whether it is PostgreSQL (row locks), the clock reading, the batch size. */
export interface BatchContext {
  db: Kysely<DatabaseSchema>;
  postgres: boolean;
  now: number;
  limit: number;
}

/** One kind of dead row: a bounded DELETE that returns how many rows it removed, per table. */
export interface Sweep {
  name: string;
  /** Deletes at most `limit` rows of the sweep's kind (plus what hangs off them); returns the counts. */
  batch(context: BatchContext): Promise<Partial<Record<HousekeepingTable, number>>>;
  /** The table whose count says whether the batch was full (another may follow). */
  table: HousekeepingTable;
}

function deleted(result: { numDeletedRows: bigint }): number {
  return Number(result.numDeletedRows);
}

/*
 * Every batch is one autocommit statement (sessions: one short transaction of two) of the form
 *   DELETE FROM t WHERE key IN (SELECT key FROM … WHERE <dead> LIMIT n [FOR UPDATE SKIP LOCKED])
 * so it holds no lock beyond its own rows and is idempotent: instances sweeping at the same time
 * pick disjoint rows on PostgreSQL (SKIP LOCKED: also never waits on a row a rotation holds), and
 * SQLite runs one writer at a time. A row another sweep deleted first is simply not counted twice.
 */

/**
 * Refresh tokens of revoked grants. Nothing can use them again: every presentation of a token of a
 * revoked grant — live, rotated or reused — answers invalid_grant without side effects, exactly
 * what an unknown token gets (refresh, RFC 7009 revocation, RFC 7662 introspection alike). Reuse
 * detection is untouched: the tokens of a live grant are never swept, however long ago rotated.
 */
const revokedGrantTokens: Sweep = {
  name: 'refresh tokens of revoked grants',
  table: 'refresh_tokens',
  async batch({ db, postgres, limit }) {
    const result = await db
      .deleteFrom('refresh_tokens')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('grants as g')
          .innerJoin('refresh_tokens as t', 't.grant_id', 'g.id')
          .select('t.id')
          .where('g.revoked_at', 'is not', null)
          .limit(limit)
          .$if(postgres, (query) => query.forUpdate('t').skipLocked()),
      )
      .executeTakeFirst();
    return { refresh_tokens: deleted(result) };
  },
};

/** Refresh tokens of grants past their absolute lifetime (refused as "grant expired" before anything else). */
const expiredGrantTokens: Sweep = {
  name: 'refresh tokens of expired grants',
  table: 'refresh_tokens',
  async batch({ db, postgres, now, limit }) {
    const result = await db
      .deleteFrom('refresh_tokens')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('grants as g')
          .innerJoin('refresh_tokens as t', 't.grant_id', 'g.id')
          .select('t.id')
          .where('g.expires_at', '<=', now - SKEW_MARGIN_MS)
          .limit(limit)
          .$if(postgres, (query) => query.forUpdate('t').skipLocked()),
      )
      .executeTakeFirst();
    return { refresh_tokens: deleted(result) };
  },
};

/**
 * Dead grants (revoked, or past their absolute lifetime) a day after they died, once their tokens
 * are gone (the sweeps above; the cascade then removes nothing, so a batch stays bounded).
 */
function deadGrants(column: 'revoked_at' | 'expires_at'): Sweep {
  return {
    name: column === 'revoked_at' ? 'revoked grants' : 'expired grants',
    table: 'grants',
    async batch({ db, postgres, now, limit }) {
      const result = await db
        .deleteFrom('grants')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('grants as g')
            .select('g.id')
            .where(`g.${column}`, '<=', now - GRACE_MS)
            .where((inner) => inner.not(inner.exists(inner.selectFrom('refresh_tokens as t').select('t.id').whereRef('t.grant_id', '=', 'g.id'))))
            .limit(limit)
            .$if(postgres, (query) => query.forUpdate('g').skipLocked()),
        )
        .executeTakeFirst();
      return { grants: deleted(result) };
    },
  };
}

/**
 * Sessions a day past their absolute end, with the record of which clients got an ID token for
 * them (back-channel logout participants). Ended sessions are already deleted when they end (and
 * their participants taken then); an expired one sent no logout token and sends none now. Only
 * the absolute end counts: a device session of a native app is refreshed, not browsed, so its
 * last-seen time says nothing about its idle state. The audit log keeps the history.
 */
const expiredSessions: Sweep = {
  name: 'expired sessions',
  table: 'sessions',
  async batch({ db, postgres, now, limit }) {
    return db.transaction().execute(async (trx: Transaction<DatabaseSchema>) => {
      const rows = await trx
        .deleteFrom('sessions')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('sessions as s')
            .select('s.id')
            .where('s.expires_at', '<=', now - GRACE_MS)
            .limit(limit)
            .$if(postgres, (query) => query.forUpdate('s').skipLocked()),
        )
        .returning('id')
        .execute();
      if (rows.length === 0) return { sessions: 0 };
      const participants = await trx.deleteFrom('backchannel_sessions').where('session_id', 'in', rows.map((row) => row.id)).executeTakeFirst();
      return { sessions: rows.length, backchannel_sessions: deleted(participants) };
    });
  },
};

/** One-time tokens (email links) that expired, or were used or voided: both are refused as unknown ones are. */
function deadOneTimeTokens(column: 'expires_at' | 'consumed_at'): Sweep {
  return {
    name: column === 'expires_at' ? 'expired one-time tokens' : 'used one-time tokens',
    table: 'one_time_tokens',
    async batch({ db, postgres, now, limit }) {
      const result = await db
        .deleteFrom('one_time_tokens')
        .where('token_hash', 'in', (eb) =>
          eb
            .selectFrom('one_time_tokens as o')
            .select('o.token_hash')
            .where(`o.${column}`, '<=', now - SKEW_MARGIN_MS)
            .limit(limit)
            .$if(postgres, (query) => query.forUpdate('o').skipLocked()),
        )
        .executeTakeFirst();
      return { one_time_tokens: deleted(result) };
    },
  };
}

/**
 * Revocations past `expires_at`: every token they cover has expired (docs/tokens.md: "an entry can
 * be forgotten after expires_at"); neither the lookups nor the stream read them any more.
 */
const expiredRevocations: Sweep = {
  name: 'expired revocations',
  table: 'revocations',
  async batch({ db, postgres, now, limit }) {
    const dead = db.selectFrom('revocations as r').select(['r.kind', 'r.value']).where('r.expires_at', '<=', now - SKEW_MARGIN_MS).limit(limit);
    const batch = postgres ? dead.forUpdate('r').skipLocked() : dead;
    const result = await db
      .deleteFrom('revocations')
      .where(({ eb, refTuple }) => eb(refTuple('kind', 'value'), 'in', batch.$asTuple('kind', 'value')))
      .executeTakeFirst();
    return { revocations: deleted(result) };
  },
};

/** Every sweep, in order: tokens before the grants they belong to. */
export const SWEEPS: readonly Sweep[] = Object.freeze([
  revokedGrantTokens,
  expiredGrantTokens,
  deadGrants('revoked_at'),
  deadGrants('expires_at'),
  expiredSessions,
  deadOneTimeTokens('expires_at'),
  deadOneTimeTokens('consumed_at'),
  expiredRevocations,
]);
