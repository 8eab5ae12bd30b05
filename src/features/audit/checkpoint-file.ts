import { readFile, writeFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { verifyAuditSignature } from '../../keys/audit-keys.ts';
import { checkpointPayload } from './chain.ts';

/**
 * Signed checkpoints as JSON lines, for keeping outside the database (docs/audit.md): one object
 * per line, `{"seq","hash","at","kid","signature"}`, oldest first.
 */
export interface Checkpoint {
  seq: number;
  hash: string;
  at: number;
  kid: string;
  signature: string;
}

/** A checkpoint file the verifier will not trust: a line that does not parse or a signature that fails. */
export class CheckpointRefusedError extends Error {
  override name = 'CheckpointRefusedError';
  readonly code = 'ERR_AUDIT_CHECKPOINT_REFUSED';
}

export function checkpointLine(checkpoint: Checkpoint): string {
  return `${JSON.stringify({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, kid: checkpoint.kid, signature: checkpoint.signature })}\n`;
}

export async function writeCheckpointFile(path: string, checkpoints: readonly Checkpoint[]): Promise<void> {
  await writeFile(path, checkpoints.map(checkpointLine).join(''), { mode: 0o600 });
}

export function parseCheckpoints(text: string): Checkpoint[] {
  const checkpoints: Checkpoint[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CheckpointRefusedError(`line ${index + 1} is not JSON`);
    }
    const item = value as Partial<Checkpoint> | null;
    if (!item || !Number.isSafeInteger(item.seq) || (item.seq ?? 0) < 1 || typeof item.hash !== 'string' || !/^[0-9a-f]{64}$/.test(item.hash)
      || !Number.isSafeInteger(item.at) || typeof item.kid !== 'string' || typeof item.signature !== 'string') {
      throw new CheckpointRefusedError(`line ${index + 1} is not a checkpoint`);
    }
    checkpoints.push({ seq: item.seq!, hash: item.hash, at: item.at!, kid: item.kid, signature: item.signature });
  });
  return checkpoints;
}

export async function readCheckpointFile(path: string): Promise<Checkpoint[]> {
  return parseCheckpoints(await readFile(path, 'utf8'));
}

/** True when `checkpoint` is signed by one of `keys` (by kid). */
export function checkpointSigned(checkpoint: Checkpoint, keys: ReadonlyMap<string, { publicKey: KeyObject }>): boolean {
  const key = keys.get(checkpoint.kid);
  return key !== undefined && verifyAuditSignature(key.publicKey, checkpointPayload(checkpoint), checkpoint.signature);
}

/** Every line must verify: one forged line and the whole file is refused. */
export function requireSigned(checkpoints: readonly Checkpoint[], keys: ReadonlyMap<string, { publicKey: KeyObject }>): void {
  for (const checkpoint of checkpoints) {
    if (!keys.has(checkpoint.kid)) throw new CheckpointRefusedError(`checkpoint at seq ${checkpoint.seq} is signed by ${checkpoint.kid}, which is not a trusted audit key`);
    if (!checkpointSigned(checkpoint, keys)) throw new CheckpointRefusedError(`checkpoint at seq ${checkpoint.seq}: the signature does not verify`);
  }
}
