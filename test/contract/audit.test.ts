/**
 * The audit log against every durable backend: SQLite (memory) and PostgreSQL. A frozen clock
 * drives `at`, so time ranges and ordering are exact (SEC-ASVS-14).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { createAuditLog, type AuditLog } from '../../src/features/audit/audit-log.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';

const postgres = await probePostgres();

const T0 = 1_800_000_000_000;

class Clock {
  value = T0;
  now = (): number => this.value;
  advance(ms: number): void {
    this.value += ms;
  }
}

function auditSuite(name: string, skip: string | false, open: () => Promise<{ database: Database; cleanup: () => Promise<void> }>): void {
  describe(`audit log on ${name}`, { skip }, () => {
    async function setup(): Promise<{ database: Database; clock: Clock; audit: AuditLog; close: () => Promise<void> }> {
      const { database, cleanup } = await open();
      await migrateToLatest(database);
      const clock = new Clock();
      return {
        database,
        clock,
        audit: createAuditLog(database.db, { now: clock.now }),
        close: async () => {
          await database.close();
          await cleanup();
        },
      };
    }

    it('records an event and reads it back with every field', async () => {
      const t = await setup();
      try {
        await t.audit.record({ type: 'sign-in', outcome: 'success', userId: 'alice', ip: '192.0.2.1', userAgent: 'Mozilla/5.0', detail: { method: 'password', attempts: 2, remembered: false, note: null } });
        const [event, ...rest] = await t.audit.query({});
        assert.equal(rest.length, 0);
        assert.ok(event);
        assert.match(event.id, /^[0-9a-f]{32}$/);
        assert.deepEqual({ ...event, id: '' }, {
          // A successful sign-in is the user's own act (docs/audit.md, "Who is the actor").
          id: '', at: T0, type: 'sign-in', outcome: 'success', userId: 'alice', actorId: 'alice', clientId: null, ip: '192.0.2.1', userAgent: 'Mozilla/5.0', requestId: null,
          detail: { method: 'password', attempts: 2, remembered: false, note: null },
        });
        // Optional fields default to null / {}.
        await t.audit.record({ type: 'lockout', outcome: 'failure' });
        const [lockout] = await t.audit.query({ type: 'lockout' });
        assert.deepEqual({ userId: lockout?.userId, ip: lockout?.ip, userAgent: lockout?.userAgent, detail: lockout?.detail }, { userId: null, ip: null, userAgent: null, detail: {} });
      } finally {
        await t.close();
      }
    });

    it('returns newest first, filtered by user, type and a [from, to) time range', async () => {
      const t = await setup();
      try {
        for (let i = 0; i < 6; i++) {
          await t.audit.record({ type: i % 2 === 0 ? 'sign-in' : 'sign-out', outcome: 'success', userId: i < 4 ? 'alice' : 'bob', detail: { n: i } });
          t.clock.advance(1000);
        }
        const numbers = (events: { detail: Record<string, unknown> }[]): unknown[] => events.map((event) => event.detail.n);
        assert.deepEqual(numbers(await t.audit.query({})), [5, 4, 3, 2, 1, 0]);
        assert.deepEqual(numbers(await t.audit.query({ userId: 'alice' })), [3, 2, 1, 0]);
        assert.deepEqual(numbers(await t.audit.query({ userId: 'bob' })), [5, 4]);
        assert.deepEqual(numbers(await t.audit.query({ userId: 'nobody' })), []);
        assert.deepEqual(numbers(await t.audit.query({ type: 'sign-in' })), [4, 2, 0]);
        assert.deepEqual(numbers(await t.audit.query({ from: T0 + 1000, to: T0 + 3000 })), [2, 1]);
        assert.deepEqual(numbers(await t.audit.query({ userId: 'alice', from: T0 + 2000 })), [3, 2]);
        assert.deepEqual(numbers(await t.audit.query({ userId: 'alice', to: T0 + 1000 })), [0]);
      } finally {
        await t.close();
      }
    });

    it('keeps the order of events recorded in the same millisecond', async () => {
      const t = await setup();
      try {
        for (let i = 0; i < 20; i++) await t.audit.record({ type: 'sign-in', outcome: 'failure', userId: 'alice', detail: { n: i } });
        const events = await t.audit.query({ userId: 'alice' });
        assert.deepEqual(events.map((event) => event.detail.n), Array.from({ length: 20 }, (_, i) => 19 - i));
        assert.ok(events.every((event) => event.at === T0));
      } finally {
        await t.close();
      }
    });

    it('pages with limit and the id cursor, without gaps or repeats', async () => {
      const t = await setup();
      try {
        for (let i = 0; i < 25; i++) {
          await t.audit.record({ type: 'sign-in', outcome: 'success', userId: 'alice', detail: { n: i } });
          if (i % 3 === 0) t.clock.advance(1);
        }
        const seen: unknown[] = [];
        let before: string | undefined;
        for (;;) {
          const page = await t.audit.query({ userId: 'alice', limit: 10, ...(before === undefined ? {} : { before }) });
          assert.ok(page.length <= 10);
          seen.push(...page.map((event) => event.detail.n));
          if (page.length < 10) break;
          before = page.at(-1)?.id;
        }
        assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => 24 - i));
      } finally {
        await t.close();
      }
    });

    it('limit defaults to 100 and is capped at 1000', async () => {
      const t = await setup();
      try {
        await t.database.db.insertInto('audit_events').values(Array.from({ length: 1005 }, (_, i) => ({
          id: (T0 + i).toString(16).padStart(12, '0') + '0'.repeat(20), at: T0 + i, type: 'sign-in', outcome: 'success', user_id: 'alice', ip: null, user_agent: null, detail: '{}',
        }))).execute();
        assert.equal((await t.audit.query({})).length, 100);
        assert.equal((await t.audit.query({ limit: 5000 })).length, 1000);
        assert.equal((await t.audit.query({ limit: 0 })).length, 1);
        await assert.rejects(t.audit.query({ before: "x' or '1'='1" }), RangeError);
      } finally {
        await t.close();
      }
    });

    it('drops detail fields whose names look like secrets', async () => {
      const t = await setup();
      try {
        await t.audit.record({
          type: 'password-reset', outcome: 'success', userId: 'alice',
          detail: { password: 'hunter2', newPassword: 'hunter3', token: 'tok', refresh_token: 'rt', client_secret: 'cs', code: 'c0de', auth_code: 'ac', cookie: 'sid=1', hash: 'h', password_hash: 'ph', tokenHash: 'th', reason: 'link', session_id: 's1' },
        });
        const [event] = await t.audit.query({ userId: 'alice' });
        assert.deepEqual(event?.detail, { reason: 'link', session_id: 's1' });
        const row = await t.database.db.selectFrom('audit_events').select('detail').executeTakeFirstOrThrow();
        assert.doesNotMatch(row.detail, /hunter|tok|c0de|sid=|"rt"|"cs"|"ph"|"th"/);
      } finally {
        await t.close();
      }
    });

    it('SEC-ASVS-14: strips CR, LF and ANSI escapes from every string and bounds lengths', async () => {
      const t = await setup();
      try {
        await t.audit.record({
          type: 'sign-in', outcome: 'failure', userId: 'alice\r\n', ip: '192.0.2.1\n',
          userAgent: 'evil\r\nINFO fake\u001b[31m',
          detail: { reason: 'bad\r\nINFO forged\u001b[2J\u0007', 'na\nme': 'x', long: 'y'.repeat(1000) },
        });
        await t.audit.record({ type: 'sign-in', outcome: 'failure', userId: 'bob', userAgent: 'z'.repeat(2000) });
        const [first] = await t.audit.query({ userId: 'alice' });
        assert.ok(first);
        assert.equal(first.userAgent, 'evilINFO fake');
        assert.equal(first.ip, '192.0.2.1');
        assert.deepEqual(first.detail, { reason: 'badINFO forged', name: 'x', long: 'y'.repeat(256) });
        const [second] = await t.audit.query({ userId: 'bob' });
        assert.equal(second?.userAgent, 'z'.repeat(512));
        const rows = await t.database.db.selectFrom('audit_events').selectAll().execute();
        for (const row of rows) assert.doesNotMatch(JSON.stringify(row), /\\r|\\n|\\u001b|\\u0007/);
      } finally {
        await t.close();
      }
    });

    it('refuses unknown types and outcomes from untyped callers', async () => {
      const t = await setup();
      try {
        await assert.rejects(t.audit.record({ type: 'drop-table' as 'sign-in', outcome: 'success' }), TypeError);
        await assert.rejects(t.audit.record({ type: 'sign-in', outcome: 'maybe' as 'success' }), TypeError);
        assert.deepEqual(await t.audit.query({}), []);
      } finally {
        await t.close();
      }
    });

    it('is append-only: the module offers no way to change or remove an event', async () => {
      const t = await setup();
      try {
        assert.deepEqual(Object.keys(t.audit).sort(), ['query', 'record']);
      } finally {
        await t.close();
      }
    });
  });
}

auditSuite('SQLite', false, async () => ({ database: openDatabase({ url: 'sqlite::memory:' }), cleanup: async () => {} }));

auditSuite('PostgreSQL', skipUnless(postgres), async () => {
  const created = await createTestDatabase();
  return { database: openDatabase({ url: created.url, poolSize: 2 }), cleanup: created.drop };
});
