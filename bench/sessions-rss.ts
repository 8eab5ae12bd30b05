/**
 * Resident memory of an embedded Gatehouse with 100,000 active sessions. The sessions are
 * written into the server's SQLite database directly (grey-box: 100,000 argon2id sign-ins would
 * take half an hour and measure hashing, not sessions), each with its own token, for the bench
 * user; then every one of them is validated once over HTTP (`GET /api/auth/session`), so each is
 * in the server's session cache as in a busy deployment. RSS is read from /proc before and after.
 *
 *   node bench/sessions-rss.ts [--sessions 100000]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { hashSecret, newId } from '../src/crypto/random.ts';
import { startGatehouse } from './lib/gatehouse.ts';
import { runLoad } from './lib/load.ts';
import { rssMiB } from './lib/proc.ts';
import { EMAIL } from './workloads.ts';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '100000' }, port: { type: 'string', default: '4133' } } });
const count = Number(values.sessions);
const dataRoot = mkdtempSync(path.join(tmpdir(), 'gatehouse-rss-'));
const port = Number(values.port);
const gatehouse = await startGatehouse({ port, dataRoot, cpus: '0' });
try {
  const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));
  await settle();
  const idle = rssMiB(gatehouse.pid);

  const db = new DatabaseSync(path.join(dataRoot, `gatehouse-${port}`, 'gatehouse.db'), { timeout: 5000 });
  const user = db.prepare('select id from users where email = ?').get(EMAIL) as { id: string };
  const insert = db.prepare('insert into sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, auth_methods, auth_time) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const cookies: string[] = [];
  const now = Date.now();
  db.exec('begin');
  for (let i = 0; i < count; i++) {
    const token = randomBytes(32).toString('base64url');
    insert.run(newId(now), hashSecret(token), user.id, now, now, now + 12 * 3_600_000, '127.0.0.1', 'bench/sessions-rss', '["pwd"]', now);
    cookies.push(`__Host-gatehouse=${token}`);
  }
  db.exec('commit');
  db.close();
  const afterInsert = rssMiB(gatehouse.pid);

  // Every cookie exactly once.
  const result = await runLoad({ base: gatehouse.base, spec: { method: 'GET', path: '/api/auth/session', headers: { cookie: '{{POOL}}' }, pool: { mode: 'once', values: cookies }, expectBody: '"session"' }, connections: 32, durationMs: 600_000 });
  if (result.failures + result.errors > 0 || result.requests !== count) throw new Error(`session checks: ${result.requests} answered, ${result.failures + result.errors} wrong (${result.firstFailure ?? ''})`);
  await settle();
  const active = rssMiB(gatehouse.pid);
  console.log(`embedded Gatehouse, RSS (MiB): idle after start ${idle.toFixed(0)}; after ${count} session rows were written ${afterInsert.toFixed(0)}; after each was validated once (all in the session cache) ${active.toFixed(0)}`);
  console.log(`≈ ${(((active - idle) * 1024 * 1024) / count).toFixed(0)} bytes per active session`);
} finally {
  await gatehouse.stop();
  rmSync(dataRoot, { recursive: true, force: true });
}
