/** `gatehouse users create|import` as an operator runs them (black-box, real processes). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { runCli, spawnServer, type SpawnedServer } from '../support/spawn-server.ts';

describe('gatehouse users', () => {
  let dir: string;
  let server: SpawnedServer | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-users-'));
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(email: string, password: string): Promise<number> {
    const response = await fetch(`${server!.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    return response.status;
  }

  it('create: a password from stdin, roles, verified; the password never printed', async () => {
    const result = await runCli(['users', 'create', '--email', 'Admin@Example.com', '--admin', '--role', 'support', '--password-stdin'], { cwd: dir, input: 'operator chosen passphrase\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /created user \w+ <admin@example\.com> roles: support, admin/);
    assert.ok(!result.stdout.includes('operator chosen passphrase'));
  });

  it('create: a generated password is printed once; duplicates are refused', async () => {
    const result = await runCli(['users', 'create', '--email', 'gen@example.com'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /password \(shown once\): \S{20,}/);
    const again = await runCli(['users', 'create', '--email', 'gen@example.com'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  it('create: a weak password from stdin is refused with the reason', async () => {
    const result = await runCli(['users', 'create', '--email', 'weak@example.com', '--password-stdin'], { cwd: dir, input: 'password1234\n' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /common|guess/i);
  });

  it('create: SEC-PWD-06 context — a password built on the user\'s own email or name is refused', async () => {
    const byEmail = await runCli(['users', 'create', '--email', 'rosalind.featherstone@example.com', '--password-stdin'], { cwd: dir, input: 'rosalind.featherstone@example.com\n' });
    assert.equal(byEmail.code, 2, byEmail.stderr);
    assert.match(byEmail.stderr, /email address, your name/);
    const byName = await runCli(['users', 'create', '--email', 'op@example.com', '--name', 'Bartholomew Quennell', '--password-stdin'], { cwd: dir, input: 'BartholomewQuennell\n' });
    assert.equal(byName.code, 2, byName.stderr);
    assert.match(byName.stderr, /email address, your name/);
  });

  it('import: reports bad lines by number and imports nothing', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, [
      JSON.stringify({ email: 'ok1@example.com', hash: pbkdf2('pbkdf2 passphrase one'), verified: true }),
      '{not json',
      JSON.stringify({ email: 'nohash@example.com' }),
      JSON.stringify({ email: 'weird@example.com', hash: 'md5$abc' }),
      JSON.stringify({ email: 'ok1@example.com', hash: pbkdf2('dup') }),
      JSON.stringify({ email: 'roles@example.com', hash: pbkdf2('x'), roles: ['Admin!'] }),
    ].join('\n'));
    const result = await runCli(['users', 'import', file], { cwd: dir });
    assert.equal(result.code, 1);
    for (const line of [2, 3, 4, 5, 6]) assert.match(result.stderr, new RegExp(`line ${line}:`));
    assert.doesNotMatch(result.stderr, /line 1:/);
    assert.match(result.stderr, /nothing imported/);
  });

  it('import: scrypt, PBKDF2 and bcrypt-free files import; users sign in and are upgraded to argon2id', async () => {
    const file = join(dir, 'good.jsonl');
    writeFileSync(file, [
      JSON.stringify({ email: 'scrypt@example.com', hash: scrypt('scrypt user passphrase'), verified: true, roles: ['member'] }),
      JSON.stringify({ email: 'pbkdf2@example.com', hash: pbkdf2('pbkdf2 user passphrase'), verified: false, name: 'P. B.' }),
      JSON.stringify({ email: 'django@example.com', hash: django('django user passphrase') }),
    ].join('\n') + '\n');
    const result = await runCli(['users', 'import', file], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /imported 3 user/);
    server = await spawnServer({ cwd: dir });
    assert.equal(await signIn('scrypt@example.com', 'scrypt user passphrase'), 200);
    assert.equal(await signIn('pbkdf2@example.com', 'pbkdf2 user passphrase'), 200);
    assert.equal(await signIn('django@example.com', 'django user passphrase'), 200);
    assert.equal(await signIn('django@example.com', 'wrong passphrase'), 401);
    assert.equal(await signIn('admin@example.com', 'operator chosen passphrase'), 200, 'the CLI-created user signs in');
    const rerun = await runCli(['users', 'import', file], { cwd: dir });
    assert.equal(rerun.code, 0);
    assert.match(rerun.stdout, /skipped 3 already registered/);
  });
});

function scrypt(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N: 1 << 14, r: 8, p: 1 });
  return `$scrypt$ln=14,r=8,p=1$${salt.toString('base64').replace(/=+$/, '')}$${hash.toString('base64').replace(/=+$/, '')}`;
}

function ab64(buffer: Buffer): string {
  return buffer.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');
}

function pbkdf2(password: string): string {
  const salt = randomBytes(16);
  return `$pbkdf2-sha256$29000$${ab64(salt)}$${ab64(pbkdf2Sync(password, salt, 29000, 32, 'sha256'))}`;
}

function django(password: string): string {
  const salt = 'DjangoSaltValue1';
  return `pbkdf2_sha256$100000$${salt}$${pbkdf2Sync(password, salt, 100000, 32, 'sha256').toString('base64')}`;
}
