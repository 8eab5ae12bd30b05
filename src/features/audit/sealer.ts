import { appendFile } from 'node:fs/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditKeyRing } from '../../keys/audit-keys.ts';
import type { DialectName } from '../../storage/sql/database.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import { chainHash, checkpointPayload, macValid, type AuditRecordColumns } from './chain.ts';
import { checkpointLine, type Checkpoint } from './checkpoint-file.ts';

/**
 * The sealer (docs/audit.md): writers only insert; one sealer at a time per cluster assigns
 * chain positions and hashes to the settled, unsealed records, in batches, and signs
 * checkpoints. On PostgreSQL the one sealer is whoever gets `pg_try_advisory_xact_lock` for the
 * batch's transaction (the others skip the round); on SQLite the database's write lock. Either
 * way the head row is advanced with a compare-and-set, so two sealers can never both extend it.
 */

/** Arbitrary, fixed: the advisory-lock key of the audit sealer. */
const SEALER_LOCK = 0x6761_7465_6175_64n; // "gateaud"
const MAX_REJECTED = 10_000;

export const RECORD_COLUMNS = ['id', 'at', 'type', 'outcome', 'user_id', 'actor_id', 'client_id', 'ip', 'user_agent', 'request_id', 'detail', 'mac'] as const;

export interface AuditSealerOptions {
  /** How often the sealer runs. */
  intervalMs: number;
  /** Only records at least this old are sealed: writers on other instances have committed theirs. */
  settleMs: number;
  /** A checkpoint after this many newly sealed records … */
  checkpointEvery: number;
  /** … or after this long with any newly sealed record. */
  checkpointIntervalMs: number;
  /** Each new checkpoint is also appended here as a JSON line (a file outside the database). */
  checkpointFile?: string | undefined;
  batchSize?: number;
}

export interface AuditSealer {
  start(): void;
  /** Stops the timer, seals what is left (no settle delay) and checkpoints it. */
  stop(): Promise<void>;
  /** Seals every settled record and checkpoints when due; returns how many this call sealed (0 when another sealer holds the lock). */
  seal(options?: { settleMs?: number }): Promise<number>;
  /** Signs a checkpoint of the head when one is due (or `force`); returns it when one was written. */
  checkpoint(options?: { force?: boolean }): Promise<Checkpoint | undefined>;
}

export function createAuditSealer(deps: {
  db: Kysely<DatabaseSchema>;
  dialect: DialectName;
  macKey: Buffer;
  keys: AuditKeyRing;
  options: AuditSealerOptions;
  now?: () => number;
  onError?: (error: unknown, what: string) => void;
  /** A record the sealer refuses (its MAC fails: inserted or edited in the database). */
  onRejected?: (id: string) => void;
}): AuditSealer {
  const { db, dialect, macKey, keys, options } = deps;
  const now = deps.now ?? Date.now;
  const batchSize = options.batchSize ?? 500;
  const rejected = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  async function sealBatch(cutoff: number): Promise<{ sealed: number; more: boolean }> {
    return db.transaction().execute(async (trx) => {
      if (dialect === 'postgres') {
        const lock = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${SEALER_LOCK.toString()}::bigint) as locked`.execute(trx);
        if (!lock.rows[0]?.locked) return { sealed: 0, more: false };
      }
      const head = await trx.selectFrom('audit_chain').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
      // The partial index audit_events_unsealed serves this: only the unsealed tail is read.
      const rows = await trx.selectFrom('audit_events').select(RECORD_COLUMNS).where('seq', 'is', null).where('at', '<=', cutoff)
        .orderBy('at', 'asc').orderBy('id', 'asc').limit(batchSize + rejected.size).execute();
      let seq = Number(head.seq);
      let hash = head.hash;
      const assigned: { id: string; seq: number; hash: string }[] = [];
      for (const row of rows) {
        const record: AuditRecordColumns = { ...row, at: Number(row.at) };
        if (!macValid(macKey, record)) {
          if (!rejected.has(row.id)) {
            if (rejected.size < MAX_REJECTED) rejected.add(row.id);
            deps.onRejected?.(row.id);
          }
          continue;
        }
        if (assigned.length === batchSize) break;
        seq += 1;
        hash = chainHash(hash, seq, record);
        assigned.push({ id: row.id, seq, hash });
      }
      if (assigned.length === 0) return { sealed: 0, more: false };
      await writePositions(trx, assigned);
      const moved = await trx.updateTable('audit_chain').set({ seq, hash, updated_at: now() }).where('id', '=', 1).where('seq', '=', Number(head.seq)).executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) throw new SealConflictError();
      return { sealed: assigned.length, more: assigned.length === batchSize };
    });
  }

  async function seal(sealOptions: { settleMs?: number } = {}): Promise<number> {
    let total = 0;
    for (;;) {
      let result;
      try {
        result = await sealBatch(now() - (sealOptions.settleMs ?? options.settleMs));
      } catch (error) {
        // Another sealer moved the head first (or SQLite was busy): its work stands; try next round.
        if (error instanceof SealConflictError || isBusy(error)) return total;
        throw error;
      }
      total += result.sealed;
      if (!result.more) return total;
    }
  }

  async function checkpoint(checkpointOptions: { force?: boolean } = {}): Promise<Checkpoint | undefined> {
    const head = await db.selectFrom('audit_chain').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
    const last = await db.selectFrom('audit_checkpoints').select(['seq', 'at']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const headSeq = Number(head.seq);
    const lastSeq = last ? Number(last.seq) : 0;
    if (headSeq === 0 || headSeq <= lastSeq) return undefined;
    const at = now();
    const due = checkpointOptions.force === true || headSeq - lastSeq >= options.checkpointEvery || at - (last ? Number(last.at) : 0) >= options.checkpointIntervalMs;
    if (!due) return undefined;
    const signed = await keys.sign(checkpointPayload({ seq: headSeq, hash: head.hash, at }));
    const made: Checkpoint = { seq: headSeq, hash: head.hash, at, kid: signed.kid, signature: signed.signature };
    const inserted = await db.insertInto('audit_checkpoints').values(made).onConflict((conflict) => conflict.column('seq').doNothing()).returning('seq').executeTakeFirst();
    if (!inserted) return undefined;
    if (options.checkpointFile) await appendFile(options.checkpointFile, checkpointLine(made), { mode: 0o600 });
    return made;
  }

  async function round(settleMs?: number, force = false): Promise<void> {
    await seal(settleMs === undefined ? {} : { settleMs });
    await checkpoint({ force });
  }

  // One round at a time in this process (the timer, shutdown and explicit calls queue up).
  let queue: Promise<void> = Promise.resolve();
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const next = queue.then(work);
    queue = next.then(() => {}, () => {});
    return next;
  }
  let ticking = false;

  return {
    start: () => {
      timer = setInterval(() => {
        if (ticking) return;
        ticking = true;
        serial(() => round()).catch((error: unknown) => deps.onError?.(error, 'sealing the audit log')).finally(() => {
          ticking = false;
        });
      }, options.intervalMs);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      await serial(() => round(0, true)).catch((error: unknown) => deps.onError?.(error, 'sealing the audit log at shutdown'));
    },
    seal: (sealOptions) => serial(async () => {
      const sealed = await seal(sealOptions);
      await checkpoint();
      return sealed;
    }),
    checkpoint: (checkpointOptions) => serial(() => checkpoint(checkpointOptions)),
  };
}

class SealConflictError extends Error {
  override name = 'SealConflictError';
}

function isBusy(error: unknown): boolean {
  return error instanceof Error && /SQLITE_BUSY|database is locked/i.test(`${(error as { code?: string }).code ?? ''} ${error.message}`);
}

/** One statement per batch: `WITH v(id, seq, hash) AS (VALUES …) UPDATE … FROM v` (PostgreSQL and SQLite ≥ 3.33). */
async function writePositions(trx: Transaction<DatabaseSchema>, assigned: readonly { id: string; seq: number; hash: string }[]): Promise<void> {
  const values = sql.join(assigned.map((row) => sql`(${row.id}, cast(${row.seq} as bigint), ${row.hash})`));
  const result = await sql`with v(id, seq, hash) as (values ${values})
    update audit_events set seq = v.seq, chain_hash = v.hash from v where audit_events.id = v.id and audit_events.seq is null`.execute(trx);
  if (Number(result.numAffectedRows ?? 0n) !== assigned.length) throw new SealConflictError();
}
