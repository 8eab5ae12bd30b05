/** `gatehouse roles list|create|update|delete` (black-box, real processes, scratch SQLite). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/spawn-server.ts';

describe('gatehouse roles', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-roles-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function json(args: string[]): Promise<Record<string, unknown>> {
    const result = await runCli([...args, '--json'], { cwd: dir });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it('create, list, update, delete with --json and text; users get only catalog roles; a held role cannot go', async () => {
    const created = await json(['roles', 'create', 'editor', '--description', 'Edits posts', '--permission', 'posts:write', '--permission', 'posts:read']);
    assert.deepEqual(created.permissions, ['posts:read', 'posts:write']);
    assert.equal((await runCli(['roles', 'create', 'editor'], { cwd: dir })).code, 1, 'exists');
    assert.equal((await runCli(['roles', 'create', 'Bad Name'], { cwd: dir })).code, 2, 'not a role name');
    const listed = await json(['roles', 'list']);
    assert.deepEqual((listed.roles as { name: string }[]).map((role) => role.name), ['admin', 'editor']);
    const text = await runCli(['roles', 'list'], { cwd: dir });
    assert.match(text.stdout, /^NAME\tPERMISSIONS\tDESCRIPTION\n/);
    assert.match(text.stdout, /editor\tposts:read posts:write\tEdits posts/);
    assert.deepEqual((await json(['roles', 'update', 'editor', '--permission', 'posts:read'])).permissions, ['posts:read']);
    assert.equal((await runCli(['roles', 'update', 'admin', '--no-permissions'], { cwd: dir })).code, 1, 'admin is built in');
    assert.equal((await runCli(['users', 'create', '--email', 'ghost@example.com', '--role', 'ghost'], { cwd: dir })).code === 0, true, 'users create (import path) is not the admin service');
    assert.notEqual((await runCli(['users', 'set-roles', 'ghost@example.com', '--role', 'nope'], { cwd: dir })).code, 0, 'not in the catalog');
    assert.equal((await runCli(['users', 'set-roles', 'ghost@example.com', '--role', 'editor'], { cwd: dir })).code, 0);
    const held = await runCli(['roles', 'delete', 'editor'], { cwd: dir });
    assert.equal(held.code, 1);
    assert.match(held.stderr, /hold this role/);
    assert.equal((await runCli(['users', 'set-roles', 'ghost@example.com'], { cwd: dir })).code, 0);
    assert.deepEqual(await json(['roles', 'delete', 'editor']), { deleted: 'editor' });
    assert.deepEqual(((await json(['roles', 'list'])).roles as { name: string }[]).map((role) => role.name), ['admin']);
  });

  it('no privilege escalation binds API and console callers; the CLI holds every permission (docs/admin.md)', async () => {
    assert.deepEqual((await json(['roles', 'create', 'auditors', '--permission', 'admin:audit', '--permission', 'admin:keys'])).permissions, ['admin:audit', 'admin:keys']);
    assert.deepEqual((await json(['roles', 'update', 'auditors', '--permission', 'admin:roles'])).permissions, ['admin:roles']);
    assert.deepEqual(await json(['roles', 'delete', 'auditors']), { deleted: 'auditors' });
  });
});
