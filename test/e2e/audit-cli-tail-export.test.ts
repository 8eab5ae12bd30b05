/**
 * Issue 17, CLI parity: `gatehouse audit tail|export` (real CLI processes) read the same events,
 * with the same filters, as GET /api/admin/audit and its export, here an in-process app on the
 * same SQLite file: --json lines equal the API's items, the CSV file equals the API's CSV
 * (formula cells neutralised), --follow prints a new event once and stops on SIGTERM with exit 0,
 * and bad input exits 2 (an unknown user 1).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { AUDIT_EVENT_TYPES } from '../../src/features/audit/audit-log.ts';
import { createTestApp, TEST_MASTER_KEY, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, signIn } from '../support/auth.ts';
import { childEnv, CLI_ENTRY, runCli } from '../support/spawn-server.ts';
import { call } from '../admin/support.ts';

describe('gatehouse audit tail|export', () => {
  let dir: string;
  let env: Record<string, string>;
  let t: TestApp;
  let admin: string;
  let aliceId: string;
  let since: number;
  const cli = (...args: string[]) => runCli(['audit', ...args], { env, cwd: dir });
  const api = async (url: string): Promise<string> => {
    const response = await call(t, 'GET', url, { cookie: admin });
    assert.equal(response.statusCode, 200, response.body);
    return response.body;
  };
  const items = async (query: string): Promise<unknown[]> => (JSON.parse(await api(`/api/admin/audit?${/limit=/.test(query) ? query : `limit=500&${query}`}`)) as { events: unknown[] }).events;
  const ndjson = (text: string): unknown[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-audit-read-'));
    env = { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'g.db')}`, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY };
    t = await createTestApp({ env });
    admin = await registerAndSignIn(t, 'admin@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    await users.setRoles((await users.findByEmail('admin@example.com'))!.id, ['admin'], Date.now());
    since = Date.now();
    await registerAndSignIn(t, 'alice@example.com', PASSWORD, { 'user-agent': 'AliceBrowser/1' });
    // A failure whose user agent is a spreadsheet formula (CSV injection).
    const failed = await postJSON(t, '/api/auth/sign-in', { email: 'alice@example.com', password: 'wrong password here' }, { 'user-agent': '=HYPERLINK("http://evil.example","x")' });
    assert.equal(failed.statusCode, 401, failed.body);
    await signIn(t, 'alice@example.com', PASSWORD, { 'user-agent': 'AliceBrowser/1' });
    const created = await call(t, 'POST', '/api/admin/users', { cookie: admin }, { email: 'bob@example.com' });
    assert.equal(created.statusCode, 201, created.body);
    aliceId = (await users.findByEmail('alice@example.com'))!.id;
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tail --json: the API items for the same filter, oldest first; text lines; --user by email', async () => {
    const [all, alice, text] = await Promise.all([
      cli('tail', '--json', '--limit', '1000'),
      cli('tail', '--json', '--user', 'alice@example.com', '--outcome', 'failure'),
      cli('tail', '--type', 'sign-in', '--limit', '2', '--since', new Date(since).toISOString()),
    ]);
    for (const result of [all, alice, text]) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(ndjson(all.stdout), (await items('')).toReversed());
    const failures = await items(`user_id=${aliceId}&outcome=failure`);
    assert.equal(failures.length, 1);
    assert.deepEqual(ndjson(alice.stdout), failures);

    const signIns = (await items(`type=sign-in&from=${since}&limit=2`)).toReversed() as { at: number; user_id: string; outcome: string; request_id: string }[];
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, text.stdout);
    for (const [index, event] of signIns.entries()) {
      // The actor column: a successful sign-in is the user's own act, a failed one nobody's (docs/audit.md).
      assert.equal(lines[index], [new Date(event.at).toISOString(), 'sign-in', event.outcome, event.user_id, event.outcome === 'success' ? event.user_id : '-', '127.0.0.1', event.request_id].join('\t'));
    }
  });

  it('export: CSV file and NDJSON stdout identical to the API export for the same filter', async () => {
    const out = join(dir, 'alice.csv');
    const [csv, lines] = await Promise.all([
      cli('export', '--format', 'csv', '--user', aliceId, '--since', String(since), '--out', out),
      cli('export', '--type', 'user-created'),
    ]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(lines.code, 0, lines.stderr);
    const file = readFileSync(out, 'utf8');
    assert.equal(file, await api(`/api/admin/audit/export?format=csv&user_id=${aliceId}&from=${since}`));
    assert.match(file, /"'=HYPERLINK\(""http:\/\/evil\.example"",""x""\)"/, 'the formula cell is neutralised as by the API');
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), [], 'no temp file left');
    assert.equal(lines.stdout, await api('/api/admin/audit/export?format=ndjson&type=user-created'));
    assert.equal(ndjson(lines.stdout).length, 1, 'bob, created through the API');
  });

  it('tail --follow prints a new event once, then SIGTERM stops it with exit 0', async () => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI_ENTRY, 'audit', 'tail', '--follow', '--json', '--type', 'sign-in', '--limit', '1'], { cwd: dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const linesWithin = async (count: number): Promise<unknown[]> => {
      // A bounded wait (a ceiling, not a speed expectation).
      for (let waited = 0; ndjson(stdout).length < count && waited < 90_000 && child.exitCode === null; waited += 100) await sleep(100);
      return ndjson(stdout);
    };
    try {
      assert.equal((await linesWithin(1)).length, 1, stderr);
      await signIn(t, 'alice@example.com');
      const seen = await linesWithin(2);
      assert.equal(seen.length, 2, stderr);
      assert.deepEqual(seen[1], (await items('type=sign-in&limit=1'))[0]);
      await sleep(1500); // one more poll: the event is not printed again
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.equal(ndjson(stdout).length, 2, stdout);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('bad input exits 2 with one line; an unknown user exits 1', async () => {
    const cases: [string[], number, RegExp][] = [
      [['export', '--format', 'xml'], 2, /--format must be ndjson or csv/],
      [['tail', '--outcome', 'maybe'], 2, /--outcome must be success or failure/],
      [['tail', '--type', 'no-such-event'], 2, /unknown event type/],
      [['export', '--since', 'yesterday'], 2, /--since: not a date/],
      [['tail', '--limit', '1001'], 2, /--limit must be 1 to 1000/],
      [['tail', '--user', 'nobody@example.com'], 1, /no user with email/],
      [['tail', '--user', 'f'.repeat(32)], 1, /no user with id/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [index, [args, code, message]] of cases.entries()) {
      const result = results[index]!;
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
      assert.equal(result.stdout, '');
    }
  });

  it('docs/audit.md lists every event type that --type accepts', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'audit.md'), 'utf8');
    const listed = docs.slice(docs.indexOf('Event types:')).split('\n\n')[0]!;
    assert.deepEqual([...listed.matchAll(/`([a-z-]+)`/g)].map((match) => match[1]), [...AUDIT_EVENT_TYPES]);
  });
});
