import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import { chainHash, macValid, type AuditRecordColumns } from './chain.ts';
import { checkpointSigned, requireSigned, type Checkpoint } from './checkpoint-file.ts';
import { RECORD_COLUMNS } from './sealer.ts';

/**
 * Walks the sealed chain in order and reports the first record that was altered, deleted,
 * inserted or reordered (docs/audit.md), then checks the unsealed tail's MACs and every signed
 * checkpoint. Read-only.
 */

export type AuditProblemKind = 'altered' | 'deleted' | 'inserted' | 'reordered' | 'checkpoint-invalid';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The chain position where it shows. */
  seq?: number;
  /** The record's id, when there is a record to name. */
  id?: string;
  message: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  /** The retained chain: positions `fromSeq` … `throughSeq` (fromSeq − 1 records were pruned). */
  fromSeq: number;
  throughSeq: number;
  checked: number;
  /** Records not sealed yet (recorded within the settle delay, or on a stopped sealer). */
  unsealed: number;
  checkpointsMatched: number;
  /**
   * The newest position a matched signed checkpoint covers (0: none). Without the MAC key this is
   * all that is proven: anyone with database write access can rebuild the chain after it.
   */
  signedThroughSeq: number;
  /** Whether each record's MAC was checked (false when verifying with only a pinned public key). */
  macsChecked: boolean;
  /** The newest checkpoint from the external file that the chain was found to match. */
  externalThroughSeq: number | null;
  problems: AuditProblem[];
}

type Row = AuditRecordColumns & { seq: number; chain_hash: string | null };

export async function verifyAuditChain(deps: {
  db: Kysely<DatabaseSchema>;
  /** The per-record MAC key (needs the master key). Without it only the hash chain and the checkpoint signatures are checked. */
  macKey?: Buffer;
  keys: ReadonlyMap<string, { publicKey: KeyObject }>;
  /** Checkpoints kept outside the database; every one must be signed by a trusted key, or verification is refused. */
  external?: readonly Checkpoint[];
  pageSize?: number;
}): Promise<AuditVerifyReport> {
  const { db, macKey, keys } = deps;
  const pageSize = deps.pageSize ?? 1000;
  const external = deps.external ?? [];
  requireSigned(external, keys);
  const problems: AuditProblem[] = [];
  const chain = await db.selectFrom('audit_chain').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  const pruned = Number(chain.pruned_through_seq);
  const legacyThrough = Number(chain.legacy_through_seq);

  // Signed checkpoints by position: those in the database (a bad signature there is itself a finding) and the external ones.
  const stored = (await db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'asc').execute()).map((row) => ({ ...row, seq: Number(row.seq), at: Number(row.at) }));
  const expectations = new Map<number, { hash: string; external: boolean }[]>();
  const expect = (checkpoint: Checkpoint, isExternal: boolean) => {
    const list = expectations.get(checkpoint.seq) ?? [];
    list.push({ hash: checkpoint.hash, external: isExternal });
    expectations.set(checkpoint.seq, list);
  };
  for (const checkpoint of stored) {
    if (checkpointSigned(checkpoint, keys)) expect(checkpoint, false);
    else if (checkpoint.seq >= pruned) problems.push({ kind: 'checkpoint-invalid', seq: checkpoint.seq, message: `the stored checkpoint at seq ${checkpoint.seq} is not signed by a trusted audit key` });
  }
  for (const checkpoint of external) expect(checkpoint, true);

  // After a prune the chain starts from a hash that a signed checkpoint must vouch for.
  if (pruned > 0) {
    const anchors = expectations.get(pruned) ?? [];
    if (anchors.length === 0) problems.push({ kind: 'altered', seq: pruned, message: `the chain starts after seq ${pruned} (pruned), but no signed checkpoint vouches for the hash it starts from` });
    else if (anchors.some((anchor) => anchor.hash !== chain.pruned_hash)) problems.push({ kind: 'altered', seq: pruned, message: `the retained chain does not start from the signed checkpoint at seq ${pruned}` });
  }

  // Without the MAC key a row can only be checked for carrying a MAC at all; its hash must still fit the chain.
  const intact = (row: Row): boolean => (row.mac === null ? row.seq <= legacyThrough : macKey === undefined || macValid(macKey, row));
  let previous = chain.pruned_hash;
  let expected = pruned + 1;
  let checked = 0;
  let matched = 0;
  let externalThrough: number | null = null;
  const pruneAnchors = expectations.get(pruned) ?? [];
  let signedThrough = pruned > 0 && pruneAnchors.length > 0 && pruneAnchors.every((anchor) => anchor.hash === chain.pruned_hash) ? pruned : 0;
  let page: Row[] = [];
  let index = 0;
  let exhausted = false;
  const load = async (): Promise<void> => {
    const last = page.at(-1);
    const after = last ? last.seq : pruned;
    page = (await db.selectFrom('audit_events').select([...RECORD_COLUMNS, 'seq', 'chain_hash']).where('seq', 'is not', null).where('seq', '>', after)
      .orderBy('seq', 'asc').limit(pageSize).execute()).map((row) => ({ ...row, at: Number(row.at), seq: Number(row.seq) }));
    index = 0;
    if (page.length === 0) exhausted = true;
  };
  const peek = async (offset = 0): Promise<Row | undefined> => {
    if (index + offset >= page.length && !exhausted) {
      // Keep the unread rows and append the next page (lookahead across a page boundary).
      const rest = page.slice(index);
      const last = page.at(-1);
      const more = last ? (await db.selectFrom('audit_events').select([...RECORD_COLUMNS, 'seq', 'chain_hash']).where('seq', '>', last.seq)
        .orderBy('seq', 'asc').limit(pageSize).execute()).map((row) => ({ ...row, at: Number(row.at), seq: Number(row.seq) })) : [];
      if (more.length === 0) exhausted = true;
      page = [...rest, ...more];
      index = 0;
    }
    return page[index + offset];
  };

  await load();
  let broken = false;
  for (let row = await peek(); row; row = await peek()) {
    if (row.seq !== expected) {
      problems.push({ kind: 'deleted', seq: expected, message: row.seq > expected ? `records at seq ${expected}…${row.seq - 1} are missing` : `unexpected position ${row.seq}` });
      broken = true;
      break;
    }
    const computed = chainHash(previous, expected, row);
    if (!intact(row) || computed !== row.chain_hash) {
      problems.push(classify(row, await peek(1), { previous, seq: expected, headSeq: Number(chain.seq), intact }));
      broken = true;
      break;
    }
    for (const checkpoint of expectations.get(expected) ?? []) {
      if (checkpoint.hash !== computed) {
        problems.push({ kind: 'altered', seq: expected, message: `the chain up to seq ${expected} differs from the signed checkpoint there: records up to it were rewritten` });
        broken = true;
      } else {
        matched += 1;
        signedThrough = expected;
        if (checkpoint.external) externalThrough = expected;
      }
    }
    if (broken) break;
    previous = computed;
    checked += 1;
    expected += 1;
    index += 1;
  }
  const throughSeq = expected - 1;
  if (!broken) {
    const newestSigned = Math.max(0, ...expectations.keys());
    if (Number(chain.seq) > throughSeq || newestSigned > throughSeq) {
      problems.push({ kind: 'deleted', seq: throughSeq + 1, message: `the chain ends at seq ${throughSeq}, but ${Number(chain.seq) > throughSeq ? 'the head' : 'a signed checkpoint'} is at seq ${Math.max(Number(chain.seq), newestSigned)}: the last records were deleted` });
    } else if (Number(chain.seq) === throughSeq && chain.hash !== previous) {
      problems.push({ kind: 'altered', seq: throughSeq, message: 'the stored chain head does not match the last record' });
    }
  }

  // The unsealed tail: no position yet, but each row must carry its writer's MAC.
  let unsealed = 0;
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('audit_events').select(RECORD_COLUMNS).where('seq', 'is', null).where('id', '>', after).orderBy('id', 'asc').limit(pageSize).execute();
    for (const row of rows) {
      unsealed += 1;
      if (row.mac === null || macKey !== undefined && !macValid(macKey, { ...row, at: Number(row.at) })) problems.push({ kind: row.mac === null ? 'inserted' : 'altered', id: row.id, message: `the unsealed record ${row.id} fails its MAC (${row.mac === null ? 'inserted without one' : 'altered'})` });
    }
    if (rows.length < pageSize) break;
    after = rows.at(-1)!.id;
  }

  return { ok: problems.length === 0, fromSeq: pruned + 1, throughSeq, checked, unsealed, checkpointsMatched: matched, signedThroughSeq: signedThrough, macsChecked: macKey !== undefined, externalThroughSeq: externalThrough, problems };
}

/** Why the record at `seq` does not fit: a swap with its successor, an extra record, or a change. */
function classify(row: Row, next: Row | undefined, at: { previous: string; seq: number; headSeq: number; intact: (row: Row) => boolean }): AuditProblem {
  const { previous, seq, intact } = at;
  if (seq > at.headSeq || row.mac === null && !intact(row)) {
    return { kind: 'inserted', seq, id: row.id, message: `the record at seq ${seq} (${row.id}) was never sealed by Gatehouse: it was inserted` };
  }
  const nextFitsHere = next !== undefined && next.seq === seq + 1 && intact(next) && chainHash(previous, seq, next) === next.chain_hash;
  if (nextFitsHere) {
    if (intact(row) && chainHash(next.chain_hash!, seq + 1, row) === row.chain_hash) {
      return { kind: 'reordered', seq, id: row.id, message: `the records at seq ${seq} and ${seq + 1} were swapped` };
    }
    return { kind: 'inserted', seq, id: row.id, message: `the record at seq ${seq} (${row.id}) does not belong to the chain: it was inserted` };
  }
  if (!intact(row)) return { kind: 'altered', seq, id: row.id, message: `the record at seq ${seq} (${row.id}) was altered: its MAC fails` };
  return { kind: 'altered', seq, id: row.id, message: `the record at seq ${seq} (${row.id}) does not match its chain hash: altered, or records before it were removed and renumbered` };
}
