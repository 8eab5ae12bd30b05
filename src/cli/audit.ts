import { readFile, writeFile } from 'node:fs/promises';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { auditPublicJwkSet, createAuditKeyRing, parseTrustedAuditKeys } from '../keys/audit-keys.ts';
import { openStorage } from '../storage/open.ts';
import { CheckpointRefusedError, readCheckpointFile, writeCheckpointFile } from '../features/audit/checkpoint-file.ts';
import { pruneAuditLog, AuditPruneRefusedError } from '../features/audit/prune.ts';
import { verifyAuditChain, type AuditVerifyReport } from '../features/audit/verify.ts';
import { AUDIT_KEYS_PURPOSE, AUDIT_MAC_PURPOSE, createConfiguredSealer } from '../features/audit/wiring.ts';
import { CliError, loadCliConfig, parseSubcommand } from './command.ts';
import { AUDIT_READ_OPTIONS, runAuditRead } from './audit-read.ts';

const HELP = `Usage: gatehouse audit <tail|export|verify|seal|checkpoint|prune|key> [options]

  audit tail [FILTERS] [--limit N] [--follow] [--json]
      The newest matching events (default 50, at most 1000), oldest first, one line each:
      time, type, outcome, user, actor, ip, request id. --json: one JSON object per line, the
      items of GET /api/admin/audit. --follow: keeps polling every second and prints each new
      event once, until SIGINT/SIGTERM (exit 0).
  audit export [--format ndjson|csv] [FILTERS] [--out FILE]
      Every matching event, streamed exactly as GET /api/admin/audit/export (default ndjson;
      CSV with the API's columns and formula-cell protection), to stdout or FILE (written to a
      temp file, then renamed).
      FILTERS: --user ID|EMAIL, --type TYPE, --outcome success|failure, --actor ID (a user id,
      client:<client_id> or cli), --client CLIENT_ID, --since DATE (inclusive), --until DATE
      (exclusive); DATE is ISO 8601 or ms since the epoch. Bad input exits 2, an unknown user 1.

  audit verify [--from-checkpoint FILE] [--trust-key FILE] [--json]
      Walks the audit chain and reports the first altered, deleted, inserted or reordered
      record, every unsealed record whose MAC fails, and checkpoints that do not match.
      With FILE (JSON lines from "audit checkpoint export" or auditCheckpointFile), every
      checkpoint in it must be signed by a trusted audit key (else verification is refused)
      and the chain must match each one. Exit 0 intact, 1 a finding or a refused file.
      With --trust-key FILE (from "audit key export"), checkpoints must be signed by a key in
      FILE and no other (keys in the database are ignored), and the master key is not used:
      record MACs are not checked, so only the chain up to the newest signed checkpoint is
      proven (docs/audit.md).
  audit seal
      Seals every pending record now (no settle delay) and signs a checkpoint of the head.
  audit checkpoint export FILE
      Seals, signs a checkpoint of the head, and writes every stored checkpoint to FILE.
  audit prune --before DATE
      Verifies the chain, then deletes the sealed records older than DATE (ISO 8601), keeping
      the rest verifiable from a checkpoint signed at the cut.
  audit key rotate | audit key export [--out FILE]
      A new checkpoint signing key (old ones keep verifying) | the public keys as a JWK Set
      (never a private key), to stdout or FILE, for "audit verify --trust-key".

Options: --config FILE, --help
`;

export async function runAudit(argv: string[]): Promise<number> {
  const parsed = parseSubcommand(argv, HELP, { ...AUDIT_READ_OPTIONS, json: { type: 'boolean' }, 'from-checkpoint': { type: 'string' }, before: { type: 'string' }, 'trust-key': { type: 'string' }, out: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { sub, values, positionals } = parsed;
  if (!['tail', 'export', 'verify', 'seal', 'checkpoint', 'prune', 'key'].includes(sub)) throw new CliError(`unknown subcommand "${sub}"\n\n${HELP}`, 2);
  const reading = sub === 'tail' || sub === 'export';
  const readFlag = Object.keys(AUDIT_READ_OPTIONS).find((name) => (values as Record<string, unknown>)[name] !== undefined);
  if (!reading && readFlag) throw new CliError(`--${readFlag} is an option of audit tail|export`, 2);
  if (reading) {
    if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]!}"`, 2);
    const config = loadCliConfig(values.config);
    if (!config) return 2;
    return runAuditRead(config, sub, values);
  }
  if (sub === 'checkpoint' && (positionals[0] !== 'export' || !positionals[1])) throw new CliError('usage: gatehouse audit checkpoint export FILE', 2);
  if (sub === 'key' && !['rotate', 'export'].includes(positionals[0] ?? '')) throw new CliError('usage: gatehouse audit key rotate|export', 2);
  let before: number | undefined;
  if (sub === 'prune') {
    before = values.before === undefined ? Number.NaN : Date.parse(values.before);
    if (!Number.isFinite(before)) throw new CliError('audit prune needs --before DATE (ISO 8601, e.g. 2025-01-01)', 2);
  }
  const config = loadCliConfig(values.config);
  if (!config) return 2;
  const external = values['from-checkpoint'] === undefined ? undefined : await readCheckpointFile(values['from-checkpoint']).catch((error: unknown) => {
    throw new CliError(`cannot use the checkpoint file: ${error instanceof Error ? error.message : String(error)}`, 1);
  });
  const pinned = values['trust-key'] === undefined ? undefined : await readFile(values['trust-key'], 'utf8').then(parseTrustedAuditKeys).catch((error: unknown) => {
    throw new CliError(`cannot use the trust key file: ${error instanceof Error ? error.message : String(error)}`, 1);
  });
  if (pinned && sub !== 'verify') throw new CliError('--trust-key is an option of audit verify', 2);
  const storage = await openStorage(config);
  try {
    const { database } = storage;
    if (sub === 'verify' && pinned) {
      // An auditor's check: trust only the pinned public keys, never the master key or the database's keys.
      return await runVerify(() => verifyAuditChain({ db: database.db, keys: pinned, ...(external ? { external } : {}) }), values.json === true);
    }
    const masterKey = resolveMasterKey(config);
    const macKey = masterKey.derive(AUDIT_MAC_PURPOSE);
    const keys = createAuditKeyRing({ db: database.db, sealKey: masterKey.derive(AUDIT_KEYS_PURPOSE) });
    const sealer = createConfiguredSealer({ database, masterKey, config });
    if (sub === 'verify') {
      return await runVerify(async () => verifyAuditChain({ db: database.db, macKey, keys: await keys.trusted(), ...(external ? { external } : {}) }), values.json === true);
    }
    if (sub === 'seal' || sub === 'checkpoint') {
      const sealed = await sealer.seal({ settleMs: 0 });
      const made = await sealer.checkpoint({ force: true });
      if (sub === 'seal') {
        process.stdout.write(`sealed ${sealed} records${made ? `; checkpoint at seq ${made.seq}` : ''}\n`);
        return 0;
      }
      const checkpoints = (await database.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'asc').execute()).map((row) => ({ ...row, seq: Number(row.seq), at: Number(row.at) }));
      await writeCheckpointFile(positionals[1]!, checkpoints);
      process.stdout.write(`wrote ${checkpoints.length} checkpoints to ${positionals[1]!}\n`);
      return 0;
    }
    if (sub === 'prune') {
      await sealer.seal({ settleMs: 0 });
      try {
        const result = await pruneAuditLog({ db: database.db, macKey, keys, before: before! });
        process.stdout.write(`pruned ${result.deleted} records; the chain now starts after seq ${result.throughSeq}\n`);
        return 0;
      } catch (error) {
        if (error instanceof AuditPruneRefusedError) throw new CliError(error.message, 1);
        throw error;
      }
    }
    if (positionals[0] === 'rotate') {
      const key = await keys.rotate();
      process.stdout.write(`created audit key ${key.kid}\n`);
      return 0;
    }
    await keys.current();
    const text = `${JSON.stringify(auditPublicJwkSet((await keys.trusted()).values()), null, 2)}\n`;
    if (values.out === undefined) process.stdout.write(text);
    else {
      await writeFile(values.out, text, { mode: 0o644 });
      process.stderr.write(`wrote the audit public keys to ${values.out}\n`);
    }
    return 0;
  } finally {
    await storage.close();
  }
}

async function runVerify(verify: () => Promise<AuditVerifyReport>, json: boolean): Promise<number> {
  let report: AuditVerifyReport;
  try {
    report = await verify();
  } catch (error) {
    if (error instanceof CheckpointRefusedError) throw new CliError(`checkpoint file refused: ${error.message}`, 1);
    throw error;
  }
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`chain seq ${report.fromSeq}…${report.throughSeq}: ${report.checked} records checked, ${report.checkpointsMatched} signed checkpoints matched${report.externalThroughSeq === null ? '' : `, external checkpoints through seq ${report.externalThroughSeq}`}; ${report.unsealed} not yet sealed\n`);
    if (!report.macsChecked) process.stdout.write(`record MACs not checked (no master key): signed through seq ${report.signedThroughSeq}; records after it are not proven\n`);
    for (const problem of report.problems) process.stdout.write(`${problem.kind.toUpperCase()}${problem.seq === undefined ? '' : ` at seq ${problem.seq}`}: ${problem.message}\n`);
    process.stdout.write(report.ok ? 'OK: the audit log is intact\n' : 'FAILED: the audit log was tampered with\n');
  }
  return report.ok ? 0 : 1;
}
