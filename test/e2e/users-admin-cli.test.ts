/** `gatehouse users list|show|update|set-roles|disable|enable|delete|sign-out` (black-box, real processes, scratch SQLite). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/spawn-server.ts';

describe('gatehouse users (admin commands)', () => {
  let dir: string;
  let bobId: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-users-admin-'));
    for (const email of ['bob@example.com', 'carol@example.com']) {
      const created = await runCli(['users', 'create', '--email', email, '--role', 'admin'], { cwd: dir });
      assert.equal(created.code, 0, created.stderr);
    }
    const listed = await json(['users', 'list', '--search', 'bob']);
    bobId = (listed.users as { id: string }[])[0]!.id;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function json(args: string[]): Promise<Record<string, unknown>> {
    const result = await runCli([...args, '--json'], { cwd: dir });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it('list: filters, sort, --json and text', async () => {
    const all = await json(['users', 'list', '--sort', 'email']);
    assert.equal(all.total, 2);
    assert.deepEqual((all.users as { email: string }[]).map((user) => user.email), ['bob@example.com', 'carol@example.com']);
    const page = await json(['users', 'list', '--sort', 'email', '--limit', '1']);
    assert.deepEqual((page.users as { email: string }[]).map((user) => user.email), ['bob@example.com']);
    const next = await json(['users', 'list', '--sort', 'email', '--limit', '1', '--cursor', String(page.next_cursor)]);
    assert.deepEqual((next.users as { email: string }[]).map((user) => user.email), ['carol@example.com']);
    const text = await runCli(['users', 'list', '--search', 'carol'], { cwd: dir });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ID\tEMAIL\tSTATUS/);
    assert.match(text.stdout, /carol@example\.com\tactive\ttrue\tadmin/);
    assert.match(text.stdout, /1 of 1/);
    assert.equal((await json(['users', 'list', '--has-mfa', 'false'])).total, 2);
    assert.equal((await json(['users', 'list', '--has-mfa', 'true'])).total, 0);
    assert.equal((await runCli(['users', 'list', '--has-mfa', 'maybe'], { cwd: dir })).code, 2);
    const bad = await runCli(['users', 'list', '--status', 'sleepy'], { cwd: dir });
    assert.equal(bad.code, 2);
  });

  it('show and update by id or email; update is audited with actor cli', async () => {
    const shown = await json(['users', 'show', 'bob@example.com']);
    assert.equal(shown.id, bobId);
    assert.deepEqual(shown.sessions, []);
    const updated = await json(['users', 'update', bobId, '--name', 'Bob Builder', '--email-verified', 'false']);
    assert.equal(updated.name, 'Bob Builder');
    assert.equal(updated.email_verified, false);
    // A new address starts unverified (a verification mail goes to it); a taken one exits 1.
    const moved = await json(['users', 'update', bobId, '--email', 'bob.new@example.com']);
    assert.equal(moved.email, 'bob.new@example.com');
    assert.equal(moved.email_verified, false);
    const taken = await runCli(['users', 'update', bobId, '--email', 'carol@example.com'], { cwd: dir });
    assert.equal(taken.code, 1, taken.stdout);
    assert.match(taken.stderr, /exists/);
    assert.equal((await json(['users', 'update', 'bob.new@example.com', '--email', 'bob@example.com'])).email, 'bob@example.com');
    const none = await runCli(['users', 'update', bobId], { cwd: dir });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs --name/);
  });

  it('set-roles replaces the roles; a malformed role is refused with exit 2', async () => {
    const set = await json(['users', 'set-roles', bobId, '--role', 'admin']);
    assert.deepEqual(set.roles, ['admin']);
    const cleared = await json(['users', 'set-roles', bobId]);
    assert.deepEqual(cleared.roles, []);
    const bad = await runCli(['users', 'set-roles', bobId, '--role', 'Not A Role'], { cwd: dir });
    assert.equal(bad.code, 2, bad.stdout);
    assert.match(bad.stderr, /not a role name/);
  });

  it('disable, enable, sign-out, delete; unknown users exit 1', async () => {
    assert.equal((await json(['users', 'disable', bobId])).status, 'disabled');
    assert.equal((await json(['users', 'enable', bobId])).status, 'active');
    assert.deepEqual(await json(['users', 'sign-out', bobId]), { revoked: 0 });
    assert.deepEqual(await json(['users', 'delete', 'bob@example.com']), { deleted: bobId });
    const gone = await runCli(['users', 'show', bobId], { cwd: dir });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such user/);
    const unknownEmail = await runCli(['users', 'disable', 'nobody@example.com'], { cwd: dir });
    assert.equal(unknownEmail.code, 1);
    const listed = await json(['users', 'list']);
    assert.deepEqual((listed.users as { email: string }[]).map((user) => user.email), ['carol@example.com']);
  });

  it('every change is in the audit log with actor cli, and the chain still verifies', async () => {
    const file = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((name) => /\.(db|sqlite3?)$/.test(name));
    assert.ok(file, 'the scratch SQLite database');
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      const rows = db.prepare("SELECT type, actor_id FROM audit_events WHERE user_id = ? ORDER BY id").all(bobId) as { type: string; actor_id: string | null }[];
      for (const type of ['profile-update', 'role-change', 'user-disabled', 'user-enabled', 'session-revoked', 'user-deleted']) {
        assert.ok(rows.some((row) => row.type === type && row.actor_id === 'cli'), `${type} by cli: ${JSON.stringify(rows)}`);
      }
    } finally {
      db.close();
    }
    const verify = await runCli(['audit', 'verify'], { cwd: dir });
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  });

  it('help names the new subcommands and keeps create/import', async () => {
    const help = await runCli(['users', '--help'], { cwd: dir });
    assert.equal(help.code, 0);
    for (const sub of ['create', 'import', 'list', 'show', 'update', 'set-roles', 'disable', 'enable', 'delete', 'sign-out']) assert.match(help.stdout, new RegExp(`users ${sub}`));
  });
});
