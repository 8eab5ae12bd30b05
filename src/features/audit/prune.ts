import type { Kysely } from 'kysely';
import type { AuditKeyRing } from '../../keys/audit-keys.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import { checkpointPayload } from './chain.ts';
import { verifyAuditChain } from './verify.ts';

/** Retention refused: the chain does not verify, so pruning would hide the evidence. */
export class AuditPruneRefusedError extends Error {
  override name = 'AuditPruneRefusedError';
  readonly code = 'ERR_AUDIT_PRUNE_REFUSED';
}

export interface PruneResult {
  deleted: number;
  /** The retained chain now starts after this position, vouched for by a signed checkpoint. */
  throughSeq: number;
}

/**
 * Retention (docs/audit.md): deletes the sealed records before `before`, in chain order — the
 * longest prefix of the chain whose records are all older — after verifying the chain, and
 * signs a checkpoint at the cut so the retained chain still verifies from it. Unsealed records
 * are never pruned.
 */
export async function pruneAuditLog(deps: { db: Kysely<DatabaseSchema>; macKey: Buffer; keys: AuditKeyRing; before: number; now?: () => number }): Promise<PruneResult> {
  const { db, keys, before } = deps;
  const now = deps.now ?? Date.now;
  const report = await verifyAuditChain({ db, macKey: deps.macKey, keys: await keys.trusted() });
  if (!report.ok) throw new AuditPruneRefusedError(`the audit chain does not verify (${report.problems[0]?.message ?? 'unknown'}); nothing was pruned`);
  const chain = await db.selectFrom('audit_chain').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  const pruned = Number(chain.pruned_through_seq);
  // The first retained record is the first (in chain order) that is not older than `before`.
  const keep = await db.selectFrom('audit_events').select('seq').where('seq', '>', pruned).where('at', '>=', before).orderBy('seq', 'asc').limit(1).executeTakeFirst();
  const cut = keep?.seq === undefined || keep.seq === null ? Number(chain.seq) : Number(keep.seq) - 1;
  if (cut <= pruned) return { deleted: 0, throughSeq: pruned };
  const last = await db.selectFrom('audit_events').select('chain_hash').where('seq', '=', cut).executeTakeFirstOrThrow();
  const hash = last.chain_hash!;
  const at = now();
  const signed = await keys.sign(checkpointPayload({ seq: cut, hash, at }));
  return db.transaction().execute(async (trx) => {
    await trx.insertInto('audit_checkpoints').values({ seq: cut, hash, at, kid: signed.kid, signature: signed.signature }).onConflict((conflict) => conflict.column('seq').doNothing()).execute();
    const deleted = await trx.deleteFrom('audit_events').where('seq', '<=', cut).where('seq', '>', pruned).executeTakeFirst();
    const moved = await trx.updateTable('audit_chain').set({ pruned_through_seq: cut, pruned_hash: hash, updated_at: at }).where('id', '=', 1).where('pruned_through_seq', '=', pruned).executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) throw new AuditPruneRefusedError('another prune ran at the same time; run it again');
    return { deleted: Number(deleted.numDeletedRows), throughSeq: cut };
  });
}
