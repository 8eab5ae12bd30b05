/**
 * `gatehouse audit verify` (a real CLI process) against what the server recorded, on SQLite and
 * PostgreSQL: intact after sign-up and sign-in (each event with its request id, IP and user
 * agent), then a single byte changed in any audit row makes it fail naming the row, and a
 * checkpoint file with a forged signature is refused. docs/audit.md.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, TEST_MASTER_KEY } from '../support/app.ts';
import { registerAndSignIn, signIn } from '../support/auth.ts';
import { runCli } from '../support/spawn-server.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';

const postgres = await probePostgres();
const COLUMNS = ['type', 'user_id', 'ip', 'user_agent', 'request_id', 'detail', 'mac', 'chain_hash', 'id', 'outcome'] as const;

function cliSuite(name: string, skip: string | false, database: () => Promise<{ url: string; drop: () => Promise<void> }>): void {
  it(`on ${name}: intact, then any single changed byte in any row fails verify`, { skip }, async () => {
    const { url, drop } = await database();
    const dir = mkdtempSync(join(tmpdir(), 'gh-audit-cli-'));
    const env = { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, GATEHOUSE_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl') };
    const cli = (...args: string[]) => runCli(['audit', ...args], { env, cwd: dir, timeoutMs: 120_000 });
    try {
      const t = await createTestApp({ env });
      await registerAndSignIn(t, 'alice@example.com', undefined, { 'user-agent': 'AuditTest/1' });
      await signIn(t, 'alice@example.com', undefined, { 'user-agent': 'AuditTest/1' });
      await t.close(); // shutdown seals what is left and appends a checkpoint to the file
      const check = openDatabaseOnce(url);
      const rows = await (await check).db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
      assert.ok(rows.filter((row) => row.type !== 'signing-key-rotated').length >= 4, 'sign-up, email verified, two sign-ins');
      for (const row of rows) {
        assert.ok(row.seq !== null && row.chain_hash !== null, 'sealed at shutdown');
        if (row.type === 'signing-key-rotated') continue; // recorded at start-up, in no request
        assert.match(row.request_id ?? '', /-/, 'carries the request id');
        assert.equal(row.user_agent, 'AuditTest/1');
        assert.ok(row.ip);
      }
      assert.match(readFileSync(join(dir, 'checkpoints.jsonl'), 'utf8'), /"seq":\d+/);

      let result = await cli('verify', '--from-checkpoint', join(dir, 'checkpoints.jsonl'));
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /OK: the audit log is intact/);

      const db = (await check).db;
      for (const [index, row] of rows.entries()) {
        const column = COLUMNS[index % COLUMNS.length]!;
        const value = String(row[column]);
        const changed = value.slice(0, -1) + (value.endsWith('a') ? 'b' : 'a');
        await db.updateTable('audit_events').set({ [column]: changed }).where('seq', '=', row.seq).execute();
        result = await cli('verify');
        assert.equal(result.code, 1, `one byte of ${column} in row ${row.seq}: ${result.stdout}`);
        assert.match(result.stdout, new RegExp(`at seq ${row.seq}:`));
        await db.updateTable('audit_events').set({ [column]: row[column] } as never).where('seq', '=', row.seq).execute();
      }
      result = await cli('verify');
      assert.equal(result.code, 0, result.stdout);

      // A forged signature in the checkpoint file: the whole file is refused.
      const lines = readFileSync(join(dir, 'checkpoints.jsonl'), 'utf8').trim().split('\n');
      const last = JSON.parse(lines.at(-1)!) as { signature: string };
      last.signature = `${last.signature.startsWith('A') ? 'B' : 'A'}${last.signature.slice(1)}`;
      writeFileSync(join(dir, 'forged.jsonl'), `${[...lines.slice(0, -1), JSON.stringify(last)].join('\n')}\n`);
      result = await cli('verify', '--from-checkpoint', join(dir, 'forged.jsonl'));
      assert.equal(result.code, 1);
      assert.match(result.stderr, /checkpoint file refused/);

      result = await cli('checkpoint', 'export', join(dir, 'export.jsonl'));
      assert.equal(result.code, 0, result.stderr);
      result = await cli('prune', '--before', new Date(Date.now() + 60_000).toISOString());
      assert.equal(result.code, 0, result.stderr);
      result = await cli('verify', '--from-checkpoint', join(dir, 'export.jsonl'));
      assert.equal(result.code, 0, result.stdout + result.stderr);
      await (await check).close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await drop();
    }
  });
}

async function openDatabaseOnce(url: string) {
  const { openDatabase } = await import('../../src/storage/sql/database.ts');
  return openDatabase({ url, poolSize: 2 });
}

describe('gatehouse audit verify', () => {
  cliSuite('SQLite', false, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-audit-db-'));
    return { url: `sqlite:${join(dir, 'g.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  });
  cliSuite('PostgreSQL', skipUnless(postgres), async () => {
    const created = await createTestDatabase();
    return { url: created.url, drop: created.drop };
  });
});
