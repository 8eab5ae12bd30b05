/** `gatehouse users reset-mfa EMAIL` as an operator runs it (a real process on a SQLite file): factors and recovery codes go, audited. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { runCli } from '../support/spawn-server.ts';

describe('gatehouse users reset-mfa', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-reset-mfa-'));
    env = { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`, GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function withDb<T>(work: (db: Database['db']) => Promise<T>): Promise<T> {
    const database = openDatabase({ url: env.GATEHOUSE_DATABASE_URL! });
    try {
      return await work(database.db);
    } finally {
      await database.close();
    }
  }

  it('removes every factor and recovery code of that user only, audits it with the actor; unknown users fail', async () => {
    for (const email of ['lost@example.com', 'other@example.com']) {
      const created = await runCli(['users', 'create', '--email', email], { cwd: dir, env });
      assert.equal(created.code, 0, created.stderr);
    }
    await withDb(async (db) => {
      const users = await db.selectFrom('users').select(['id', 'email']).execute();
      for (const user of users) {
        for (const kind of ['totp', 'passkey']) {
          await db.insertInto('mfa_factors').values({ id: `${user.id}-${kind}`, user_id: user.id, kind, name: kind, secret_sealed: null, credential_id: kind === 'passkey' ? `cred-${user.id}` : null, public_key: null, sign_count: 0, transports: null, device_type: null, created_at: 1, last_used_at: null }).execute();
        }
        await db.insertInto('mfa_recovery_codes').values({ user_id: user.id, code_hash: `hash-${user.id}`, created_at: 1, used_at: null }).execute();
      }
    });
    const result = await runCli(['users', 'reset-mfa', 'Lost@Example.com'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /2 factors and every recovery code removed/);
    await withDb(async (db) => {
      const lost = await db.selectFrom('users').select('id').where('email', '=', 'lost@example.com').executeTakeFirstOrThrow();
      const other = await db.selectFrom('users').select('id').where('email', '=', 'other@example.com').executeTakeFirstOrThrow();
      assert.equal((await db.selectFrom('mfa_factors').select('id').where('user_id', '=', lost.id).execute()).length, 0);
      assert.equal((await db.selectFrom('mfa_recovery_codes').select('code_hash').where('user_id', '=', lost.id).execute()).length, 0);
      assert.equal((await db.selectFrom('mfa_factors').select('id').where('user_id', '=', other.id).execute()).length, 2, 'nobody else touched');
      const events = await db.selectFrom('audit_events').select(['type', 'outcome', 'user_id', 'detail']).where('type', '=', 'mfa-removed').execute();
      assert.equal(events.length, 1);
      assert.equal(events[0]!.user_id, lost.id);
      assert.deepEqual(JSON.parse(events[0]!.detail), { reset: true, factors: 2, actor: 'cli' });
    });
    const unknown = await runCli(['users', 'reset-mfa', 'nobody@example.com'], { cwd: dir, env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no user with email nobody@example\.com/);
  });
});
