/**
 * An auditor's verification (docs/audit.md, "Verify with only the public key"): `gatehouse audit
 * key export --out FILE` writes the public keys and never a private one, and `gatehouse audit
 * verify --trust-key FILE`, run without the master key, passes on the intact log, catches a
 * changed sealed record, and refuses a checkpoint signed by any other key — in a checkpoint file,
 * or stored next to a key planted in the database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { createTestApp, TEST_MASTER_KEY } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { runCli } from '../support/spawn-server.ts';
import { openDatabase } from '../../src/storage/sql/database.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { open } from '../../src/crypto/seal.ts';
import { checkpointPayload } from '../../src/features/audit/chain.ts';
import { checkpointLine } from '../../src/features/audit/checkpoint-file.ts';
import { AUDIT_KEYS_PURPOSE } from '../../src/features/audit/wiring.ts';

describe('gatehouse audit verify --trust-key', () => {
  it('verifies with only the exported public key and refuses checkpoints signed by any other key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-audit-trust-'));
    const url = `sqlite:${join(dir, 'g.db')}`;
    const operator = { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, GATEHOUSE_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl') };
    // The auditor has the database and the pinned key, but no master key (a development config needs none to load).
    const auditor = { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_DATA_DIR: join(dir, 'auditor-data') };
    const cli = (env: Record<string, string>, ...args: string[]) => runCli(['audit', ...args], { env, cwd: dir, timeoutMs: 120_000 });
    const database = await openDatabase({ url, poolSize: 1 });
    try {
      const t = await createTestApp({ env: operator });
      await registerAndSignIn(t, 'alice@example.com');
      await t.close(); // seals and signs a checkpoint

      let result = await cli(operator, 'key', 'export', '--out', join(dir, 'audit-key.json'));
      assert.equal(result.code, 0, result.stderr);
      const exported = readFileSync(join(dir, 'audit-key.json'), 'utf8');
      const set = JSON.parse(exported) as { keys: JWK[] };
      assert.ok(set.keys.length >= 1);
      for (const jwk of set.keys) assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      // The private half, as stored (sealed) in the database, appears nowhere in the export.
      const sealKey = resolveMasterKey({ env: 'development', masterKey: TEST_MASTER_KEY, dataDir: dir }).derive(AUDIT_KEYS_PURPOSE);
      for (const row of await database.db.selectFrom('audit_keys').selectAll().execute()) {
        const privateJwk = JSON.parse(open(sealKey, row.private_jwk_encrypted, row.kid)) as JWK;
        assert.ok(privateJwk.d && !exported.includes(privateJwk.d), 'no private key in the export');
      }
      result = await cli(operator, 'key', 'export');
      assert.deepEqual(JSON.parse(result.stdout), set, 'stdout and --out agree');

      result = await cli(auditor, 'verify', '--trust-key', join(dir, 'audit-key.json'));
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /record MACs not checked \(no master key\): signed through seq [1-9]/);
      assert.match(result.stdout, /OK: the audit log is intact/);
      result = await cli(auditor, 'verify', '--trust-key', join(dir, 'audit-key.json'), '--from-checkpoint', join(dir, 'checkpoints.jsonl'), '--json');
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const report = JSON.parse(result.stdout) as { macsChecked: boolean; signedThroughSeq: number; throughSeq: number };
      assert.equal(report.macsChecked, false);
      assert.equal(report.signedThroughSeq, report.throughSeq, 'the shutdown checkpoint covers the whole chain');

      // A changed byte in a sealed record breaks the chain even without its MAC.
      const row = await database.db.selectFrom('audit_events').selectAll().where('seq', '=', 1).executeTakeFirstOrThrow();
      await database.db.updateTable('audit_events').set({ type: `${row.type}x` }).where('seq', '=', 1).execute();
      result = await cli(auditor, 'verify', '--trust-key', join(dir, 'audit-key.json'));
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /ALTERED at seq 1:/);
      await database.db.updateTable('audit_events').set({ type: row.type }).where('seq', '=', 1).execute();

      // Another key signs a checkpoint of the true head: refused in a file …
      const head = await database.db.selectFrom('audit_chain').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
      const other = generateKeyPairSync('ed25519');
      const otherJwk = other.publicKey.export({ format: 'jwk' }) as JWK;
      const otherKid = await calculateJwkThumbprint(otherJwk, 'sha256');
      const forged = { seq: Number(head.seq), hash: head.hash, at: Date.now(), kid: otherKid };
      const signature = sign(null, checkpointPayload(forged), other.privateKey).toString('base64url');
      writeFileSync(join(dir, 'other.jsonl'), checkpointLine({ ...forged, signature }));
      result = await cli(auditor, 'verify', '--trust-key', join(dir, 'audit-key.json'), '--from-checkpoint', join(dir, 'other.jsonl'));
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /checkpoint file refused: .*not a trusted audit key/);

      // … and stored in the database beside the planted key that signed it.
      await database.db.insertInto('audit_keys').values({ kid: otherKid, public_jwk: JSON.stringify({ ...otherJwk, kid: otherKid, alg: 'EdDSA', use: 'sig' }), private_jwk_encrypted: 'planted', created_at: Date.now(), retired_at: null }).execute();
      await database.db.insertInto('audit_checkpoints').values({ ...forged, seq: forged.seq + 1, signature: sign(null, checkpointPayload({ ...forged, seq: forged.seq + 1 }), other.privateKey).toString('base64url') }).execute();
      result = await cli(auditor, 'verify', '--trust-key', join(dir, 'audit-key.json'));
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, new RegExp(`CHECKPOINT-INVALID at seq ${forged.seq + 1}:`));

      // A trust file holding a private key is refused rather than used.
      writeFileSync(join(dir, 'private.json'), JSON.stringify({ keys: [other.privateKey.export({ format: 'jwk' })] }));
      result = await cli(auditor, 'verify', '--trust-key', join(dir, 'private.json'));
      assert.equal(result.code, 1);
      assert.match(result.stderr, /holds a private key/);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
