import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The canonical encoding of an audit record and the two digests over it (docs/audit.md):
 *
 * - `recordMAC`: HMAC-SHA256 under a key derived from the master key, written with the row by
 *   the instance that records it. A row inserted or edited by anyone without the master key
 *   fails it, sealed or not yet sealed.
 * - `chainHash`: SHA-256 over the previous hash, the chain position and the record (MAC
 *   included), assigned by the sealer in chain order.
 *
 * The encoding is a JSON array of the stored columns in a fixed order: JSON strings escape every
 * quote and control character, so no two different records encode alike. Never change it — old
 * chains must keep verifying; add a new version tag instead.
 */

export const GENESIS_HASH = '0'.repeat(64);
const RECORD_VERSION = 'gatehouse-audit-record-v1';
const CHAIN_VERSION = 'gatehouse-audit-chain-v1';

/** The stored columns an audit row is made of (as read back from either dialect). */
export interface AuditRecordColumns {
  id: string;
  at: number;
  type: string;
  outcome: string;
  user_id: string | null;
  actor_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  detail: string;
  mac: string | null;
}

export function canonicalRecord(row: Omit<AuditRecordColumns, 'mac'>): string {
  return JSON.stringify([RECORD_VERSION, row.id, Number(row.at), row.type, row.outcome, row.user_id, row.actor_id, row.client_id, row.ip, row.user_agent, row.request_id, row.detail]);
}

export function recordMAC(key: Buffer, row: Omit<AuditRecordColumns, 'mac'>): string {
  return createHmac('sha256', key).update(canonicalRecord(row)).digest('base64url');
}

/** Constant-time check of a row's MAC; a missing MAC fails. */
export function macValid(key: Buffer, row: AuditRecordColumns): boolean {
  if (row.mac === null) return false;
  const expected = Buffer.from(recordMAC(key, row), 'utf8');
  const actual = Buffer.from(row.mac, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The hash at position `seq` (1, 2, …) given the hash at `seq - 1` (GENESIS_HASH before the first). */
export function chainHash(previous: string, seq: number, row: AuditRecordColumns): string {
  return createHash('sha256').update(JSON.stringify([CHAIN_VERSION, previous, seq, row.mac, canonicalRecord(row)])).digest('hex');
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(checkpoint: { seq: number; hash: string; at: number }): Buffer {
  return Buffer.from(JSON.stringify(['gatehouse-audit-checkpoint-v1', checkpoint.seq, checkpoint.hash, checkpoint.at]), 'utf8');
}
