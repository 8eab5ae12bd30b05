/**
 * The tamper-evident audit chain (docs/audit.md) on SQLite and PostgreSQL: rows edited, deleted,
 * inserted and swapped directly in the database are caught by verify; two instances writing and
 * sealing at once produce one valid chain; prune keeps it verifiable; forged checkpoints are refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { createAuditLog, type AuditLog } from '../../src/features/audit/audit-log.ts';
import { createAuditSealer, type AuditSealer } from '../../src/features/audit/sealer.ts';
import { verifyAuditChain, type AuditVerifyReport } from '../../src/features/audit/verify.ts';
import { pruneAuditLog, AuditPruneRefusedError } from '../../src/features/audit/prune.ts';
import { CheckpointRefusedError, parseCheckpoints, checkpointLine, type Checkpoint } from '../../src/features/audit/checkpoint-file.ts';
import { checkpointPayload } from '../../src/features/audit/chain.ts';
import { createAuditKeyRing, type AuditKeyRing } from '../../src/keys/audit-keys.ts';
import { seal } from '../../src/crypto/seal.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';

const postgres = await probePostgres();
const T0 = 1_800_000_000_000;

interface Instance { database: Database; audit: AuditLog; sealer: AuditSealer; keys: AuditKeyRing }
interface Setup extends Instance {
  clock: { now: () => number; value: number };
  macKey: Buffer;
  verify(external?: Checkpoint[]): Promise<AuditVerifyReport>;
  instance(): Instance;
  close(): Promise<void>;
}

type Opener = () => Promise<{ url: string; cleanup: () => Promise<void> }>;

function chainSuite(name: string, skip: string | false, opener: Opener): void {
  describe(`audit chain on ${name}`, { skip }, () => {
    async function setup(options: { settleMs?: number; checkpointEvery?: number } = {}): Promise<Setup> {
      const { url, cleanup } = await opener();
      const clock = { value: T0, now: () => clock.value };
      const macKey = randomBytes(32);
      const sealKey = randomBytes(32);
      const opened: Database[] = [];
      const instance = (): Instance => {
        const database = openDatabase({ url, poolSize: 4 });
        opened.push(database);
        const keys = createAuditKeyRing({ db: database.db, sealKey, now: clock.now });
        const sealer = createAuditSealer({
          db: database.db, dialect: database.dialect, macKey, keys, now: clock.now,
          options: { intervalMs: 60_000, settleMs: options.settleMs ?? 0, checkpointEvery: options.checkpointEvery ?? 5, checkpointIntervalMs: 3_600_000, batchSize: 7 },
        });
        return { database, keys, sealer, audit: createAuditLog(database.db, { now: clock.now, macKey }) };
      };
      const first = instance();
      await migrateToLatest(first.database);
      return {
        ...first, clock, macKey, instance,
        verify: async (external) => verifyAuditChain({ db: first.database.db, macKey, keys: await first.keys.trusted(), ...(external ? { external } : {}), pageSize: 4 }),
        close: async () => {
          for (const database of opened) await database.close();
          await cleanup();
        },
      };
    }

    async function recordSome(t: Setup, count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        await t.audit.record({ type: 'sign-in', outcome: i % 3 === 0 ? 'failure' : 'success', userId: `user-${i}`, actorId: 'admin-1', clientId: 'app', ip: '192.0.2.7', userAgent: 'UA/1', detail: { n: i, method: 'password' } });
        t.clock.value += 10;
      }
    }

    const rowAt = async (t: Setup, seq: number) => t.database.db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();

    it('seals records in order into a chain that verifies, with checkpoints', async () => {
      const t = await setup();
      try {
        await recordSome(t, 12);
        assert.equal(await t.sealer.seal(), 12);
        await t.sealer.checkpoint();
        const report = await t.verify();
        assert.deepEqual(report.problems, []);
        assert.equal(report.checked, 12);
        assert.equal(report.unsealed, 0);
        assert.ok(report.checkpointsMatched >= 1);
        const rows = await t.database.db.selectFrom('audit_events').select(['seq', 'at']).orderBy('seq').execute();
        assert.deepEqual(rows.map((row) => Number(row.seq)), Array.from({ length: 12 }, (_, i) => i + 1));
        const [event] = await t.audit.query({ limit: 1 });
        assert.deepEqual([event?.actorId, event?.clientId, event?.ip, event?.userAgent], ['admin-1', 'app', '192.0.2.7', 'UA/1']);
      } finally {
        await t.close();
      }
    });

    it('verify catches a single byte changed in any column of any sealed row', async () => {
      const t = await setup();
      try {
        await recordSome(t, 6);
        await t.sealer.seal();
        assert.ok((await t.verify()).ok);
        const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'a' ? 'b' : 'a') + text.slice(at + 1);
        for (const seq of [1, 3, 6]) {
          const original = await rowAt(t, seq);
          const changes: Record<string, unknown> = {
            id: flip(original.id, 31), at: Number(original.at) + 1, type: flip(original.type, 0), outcome: flip(original.outcome, 2),
            user_id: flip(original.user_id!, 0), actor_id: flip(original.actor_id!, 1), client_id: flip(original.client_id!, 0), ip: flip(original.ip!, 0),
            user_agent: flip(original.user_agent!, 0), request_id: 'x', detail: flip(original.detail, 3), mac: flip(original.mac!, 5),
            chain_hash: flip(original.chain_hash!, 10), seq: 999,
          };
          for (const [column, value] of Object.entries(changes)) {
            await t.database.db.updateTable('audit_events').set({ [column]: value }).where('seq', '=', seq).execute();
            const report = await t.verify();
            assert.equal(report.ok, false, `a change to ${column} at seq ${seq} is caught`);
            assert.equal(report.problems[0]?.seq, seq, `and located (${column}): ${report.problems[0]?.message}`);
            const where = column === 'seq' ? 999 : seq;
            await t.database.db.updateTable('audit_events').set({ [column]: (original as Record<string, unknown>)[column] } as never).where('seq', '=', where).execute();
            assert.ok((await t.verify()).ok, `restoring ${column} verifies again`);
          }
        }
      } finally {
        await t.close();
      }
    });

    it('verify reports deleted, inserted and reordered records', async () => {
      const t = await setup();
      try {
        await recordSome(t, 8);
        await t.sealer.seal();
        const db = t.database.db;
        const third = await rowAt(t, 3);
        // Deleted in the middle.
        await db.deleteFrom('audit_events').where('seq', '=', 3).execute();
        let report = await t.verify();
        assert.equal(report.problems[0]?.kind, 'deleted');
        assert.equal(report.problems[0]?.seq, 3);
        await db.insertInto('audit_events').values(third).execute();
        assert.ok((await t.verify()).ok);

        // Swapped: rows 4 and 5 exchange positions.
        await db.updateTable('audit_events').set({ seq: -5 }).where('seq', '=', 5).execute();
        await db.updateTable('audit_events').set({ seq: 5 }).where('seq', '=', 4).execute();
        await db.updateTable('audit_events').set({ seq: 4 }).where('seq', '=', -5).execute();
        report = await t.verify();
        assert.equal(report.problems[0]?.kind, 'reordered', report.problems[0]?.message);
        assert.equal(report.problems[0]?.seq, 4);
        await db.updateTable('audit_events').set({ seq: -5 }).where('seq', '=', 5).execute();
        await db.updateTable('audit_events').set({ seq: 5 }).where('seq', '=', 4).execute();
        await db.updateTable('audit_events').set({ seq: 4 }).where('seq', '=', -5).execute();
        assert.ok((await t.verify()).ok);

        // Inserted into the sealed chain: later rows renumbered to make room at seq 6.
        for (let seq = 8; seq >= 6; seq--) await db.updateTable('audit_events').set({ seq: seq + 1 }).where('seq', '=', seq).execute();
        await db.insertInto('audit_events').values({ ...third, id: 'f'.repeat(32), seq: 6, detail: '{"n":"forged"}' }).execute();
        report = await t.verify();
        assert.equal(report.problems[0]?.kind, 'inserted', report.problems[0]?.message);
        assert.equal(report.problems[0]?.seq, 6);
        await db.deleteFrom('audit_events').where('id', '=', 'f'.repeat(32)).execute();
        for (let seq = 7; seq <= 9; seq++) await db.updateTable('audit_events').set({ seq: seq - 1 }).where('seq', '=', seq).execute();
        assert.ok((await t.verify()).ok);

        // Inserted into the unsealed tail (no MAC), and the sealer refuses to seal it.
        await db.insertInto('audit_events').values({ id: 'e'.repeat(32), at: T0, type: 'sign-in', outcome: 'success', user_id: 'mallory', ip: null, user_agent: null, detail: '{}' }).execute();
        report = await t.verify();
        assert.deepEqual(report.problems.map((problem) => [problem.kind, problem.id]), [['inserted', 'e'.repeat(32)]]);
        assert.equal(await t.sealer.seal(), 0);
        assert.equal(report.unsealed, 1);

        // Tail deleted: the head says more was sealed.
        await db.deleteFrom('audit_events').where('id', '=', 'e'.repeat(32)).execute();
        await db.deleteFrom('audit_events').where('seq', '=', 8).execute();
        report = await t.verify();
        assert.equal(report.problems[0]?.kind, 'deleted');
        assert.equal(report.problems[0]?.seq, 8);
      } finally {
        await t.close();
      }
    });

    it('two instances writing and sealing at once produce one valid chain', async () => {
      const t = await setup();
      try {
        const a = t.instance();
        const b = t.instance();
        const write = async (instance: Instance, tag: string) => {
          for (let i = 0; i < 60; i++) {
            await instance.audit.record({ type: 'sign-in', outcome: 'success', userId: `${tag}-${i}`, detail: { n: i } });
            if (i % 5 === 0) await instance.sealer.seal();
          }
        };
        const sealLoop = async (instance: Instance) => {
          for (let i = 0; i < 20; i++) await instance.sealer.seal();
        };
        await Promise.all([write(a, 'a'), write(b, 'b'), sealLoop(a), sealLoop(b)]);
        await a.sealer.seal();
        await b.sealer.seal();
        const report = await t.verify();
        assert.deepEqual(report.problems, []);
        assert.equal(report.checked, 120);
        assert.equal(report.unsealed, 0);
        const seqs = (await t.database.db.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((row) => Number(row.seq));
        assert.deepEqual(seqs, Array.from({ length: 120 }, (_, i) => i + 1));
      } finally {
        await t.close();
      }
    });

    it('seals only settled records; one that commits late still joins the chain after the others', async () => {
      const t = await setup({ settleMs: 1000 });
      try {
        await recordSome(t, 3);
        assert.equal(await t.sealer.seal(), 0, 'nothing older than the settle delay yet');
        t.clock.value += 1000;
        assert.equal(await t.sealer.seal(), 3);
        // A writer on another instance took its time at T0 - 5 and commits only now.
        const late = createAuditLog(t.database.db, { now: () => T0 - 5, macKey: t.macKey });
        await late.record({ type: 'sign-out', outcome: 'success', userId: 'late' });
        assert.equal((await t.verify()).unsealed, 1);
        assert.equal(await t.sealer.seal(), 1);
        const report = await t.verify();
        assert.deepEqual(report.problems, []);
        assert.equal(report.checked, 4);
        assert.equal((await rowAt(t, 4)).user_id, 'late');
      } finally {
        await t.close();
      }
    });

    it('prune removes old records and the rest still verifies from the signed checkpoint at the cut', async () => {
      const t = await setup();
      try {
        await recordSome(t, 10);
        await t.sealer.seal();
        const exported = (await t.database.db.selectFrom('audit_checkpoints').selectAll().execute()).map((row) => ({ ...row, seq: Number(row.seq), at: Number(row.at) }));
        const result = await pruneAuditLog({ db: t.database.db, macKey: t.macKey, keys: t.keys, before: T0 + 45, now: t.clock.now });
        assert.deepEqual(result, { deleted: 5, throughSeq: 5 });
        const cut = (await t.database.db.selectFrom('audit_checkpoints').selectAll().where('seq', '=', 5).execute()).map((row) => ({ ...row, seq: Number(row.seq), at: Number(row.at) }));
        assert.equal(cut.length, 1, 'prune signed a checkpoint at the cut');
        let report = await t.verify(exported);
        assert.deepEqual(report.problems, []);
        assert.equal(report.fromSeq, 6);
        assert.equal(report.checked, 5);
        // Still tamper-evident after the prune.
        await t.database.db.updateTable('audit_events').set({ ip: '192.0.2.8' }).where('seq', '=', 7).execute();
        report = await t.verify();
        assert.equal(report.problems[0]?.seq, 7);
        await assert.rejects(pruneAuditLog({ db: t.database.db, macKey: t.macKey, keys: t.keys, before: T0 + 1000, now: t.clock.now }), AuditPruneRefusedError);
        await t.database.db.updateTable('audit_events').set({ ip: '192.0.2.7' }).where('seq', '=', 7).execute();
        // Without the checkpoint that vouches for the cut, the retained chain is not trusted.
        await t.database.db.deleteFrom('audit_checkpoints').where('seq', '=', 5).execute();
        report = await t.verify();
        assert.equal(report.ok, false);
        assert.match(report.problems[0]?.message ?? '', /no signed checkpoint/);
        assert.ok((await t.verify(cut)).ok, 'the exported checkpoint vouches for it');
      } finally {
        await t.close();
      }
    });

    it('an exported checkpoint catches a tail deleted together with the head and the stored checkpoints', async () => {
      const t = await setup();
      try {
        await recordSome(t, 10);
        await t.sealer.seal();
        const exported = parseCheckpoints((await t.database.db.selectFrom('audit_checkpoints').selectAll().execute()).map((row) => checkpointLine({ ...row, seq: Number(row.seq), at: Number(row.at) })).join(''));
        assert.ok(exported.some((checkpoint) => checkpoint.seq === 10));
        const ninth = await rowAt(t, 9);
        await t.database.db.deleteFrom('audit_events').where('seq', '>=', 10).execute();
        await t.database.db.deleteFrom('audit_checkpoints').execute();
        await t.database.db.updateTable('audit_chain').set({ seq: 9, hash: ninth.chain_hash! }).execute();
        assert.ok((await t.verify()).ok, 'inside the database alone the truncation is invisible');
        const report = await t.verify(exported);
        assert.equal(report.problems[0]?.kind, 'deleted');
        assert.equal(report.problems[0]?.seq, 10);
      } finally {
        await t.close();
      }
    });

    it('refuses a checkpoint whose signature is forged or made with another key', async () => {
      const t = await setup();
      try {
        await recordSome(t, 5);
        await t.sealer.seal();
        const [good] = (await t.database.db.selectFrom('audit_checkpoints').selectAll().execute()).map((row) => ({ ...row, seq: Number(row.seq), at: Number(row.at) }));
        assert.ok(good);
        assert.ok((await t.verify([good])).ok);
        const forged = { ...good, signature: Buffer.from(Buffer.from(good.signature, 'base64url').map((byte, i) => (i === 0 ? byte ^ 1 : byte))).toString('base64url') };
        await assert.rejects(t.verify([forged]), CheckpointRefusedError);
        await assert.rejects(t.verify([{ ...good, hash: 'a'.repeat(64) }]), CheckpointRefusedError);
        // Another Ed25519 key, under the same kid and under its own.
        const other = generateKeyPairSync('ed25519');
        const otherSignature = sign(null, checkpointPayload(good), other.privateKey).toString('base64url');
        await assert.rejects(t.verify([{ ...good, signature: otherSignature }]), CheckpointRefusedError);
        await assert.rejects(t.verify([{ ...good, kid: 'other', signature: otherSignature }]), CheckpointRefusedError);
        // A key planted in audit_keys without the master key is never trusted.
        const publicJwk = other.publicKey.export({ format: 'jwk' });
        await t.database.db.insertInto('audit_keys').values({ kid: 'planted', public_jwk: JSON.stringify(publicJwk), private_jwk_encrypted: seal(randomBytes(32), JSON.stringify(other.privateKey.export({ format: 'jwk' })), 'planted'), created_at: T0, retired_at: null }).execute();
        await assert.rejects(t.verify([{ ...good, kid: 'planted', signature: otherSignature }]), CheckpointRefusedError);
        // A forged checkpoint stored in the database is a finding.
        await t.database.db.updateTable('audit_checkpoints').set({ signature: forged.signature }).where('seq', '=', good.seq).execute();
        const report = await t.verify();
        assert.equal(report.problems[0]?.kind, 'checkpoint-invalid');
      } finally {
        await t.close();
      }
    });
  });
}

chainSuite('SQLite', false, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  return { url: `sqlite:${join(dir, 'g.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

chainSuite('PostgreSQL', skipUnless(postgres), async () => {
  const created = await createTestDatabase();
  return { url: created.url, cleanup: created.drop };
});

