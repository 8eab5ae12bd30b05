/**
 * The sessions port and service against every reachable backend: SQLite (memory) and
 * PostgreSQL for the durable store; memory and Redis for the cross-instance invalidation.
 * A frozen clock drives the idle/absolute rules (SEC-SESS-06, SEC-SESS-07).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { createSqlSessionStore, type SessionStore } from '../../src/features/sessions/store.ts';
import { createSessionService, type SessionConfig } from '../../src/features/sessions/service.ts';
import { createMemoryStore } from '../../src/storage/ephemeral/memory.ts';
import { createRedisStore } from '../../src/storage/ephemeral/redis.ts';
import type { EphemeralStore } from '../../src/storage/ephemeral/types.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';

const postgres = await probePostgres();
const redis = await probeRedis();

const CONFIG: SessionConfig = { sessionIdleTimeoutSeconds: 60, sessionAbsoluteTimeoutSeconds: 600, sessionTouchIntervalSeconds: 10, sessionCacheSeconds: 30 };
const META = { ip: '192.0.2.1', userAgent: 'test-agent', authMethods: ['pwd'] };

class Clock {
  value = 1_800_000_000_000;
  now = (): number => this.value;
  advance(seconds: number): void {
    this.value += seconds * 1000;
  }
}

/** Counts store calls, to prove the hot path is served from the cache. */
function counting(store: SessionStore): SessionStore & { finds: number; touches: number } {
  const wrapped = {
    ...store,
    finds: 0,
    touches: 0,
    findByTokenHash: async (hash: string) => {
      wrapped.finds++;
      return store.findByTokenHash(hash);
    },
    touch: async (id: string, at: number) => {
      wrapped.touches++;
      return store.touch(id, at);
    },
  };
  return wrapped;
}

async function seedUser(database: Database, id: string): Promise<void> {
  await database.db.insertInto('users').values({ id, email: `${id}@example.com`, email_verified_at: null, name: null, password_hash: null, roles: '["member"]', created_at: 1, updated_at: 1, disabled_at: null }).execute();
}

function sessionSuite(name: string, skip: string | false, open: () => Promise<{ database: Database; cleanup: () => Promise<void> }>): void {
  describe(`sessions on ${name}`, { skip }, () => {
    async function setup() {
      const { database, cleanup } = await open();
      await migrateToLatest(database);
      await seedUser(database, 'alice');
      await seedUser(database, 'bob');
      const clock = new Clock();
      const ephemeral = createMemoryStore({ now: clock.now });
      const store = counting(createSqlSessionStore(database.db));
      const service = createSessionService({ store, ephemeral, config: CONFIG, now: clock.now });
      await service.start();
      return {
        database, clock, store, service, ephemeral,
        close: async () => {
          await service.stop();
          await ephemeral.close();
          await database.close();
          await cleanup();
        },
      };
    }

    it('SEC-SESS-03: tokens are 256-bit random, only their hash is stored', async () => {
      const t = await setup();
      try {
        const tokens = new Set<string>();
        for (let i = 0; i < 50; i++) tokens.add((await t.service.create('alice', META)).token);
        assert.equal(tokens.size, 50);
        for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{43}$/);
        const rows = await t.database.db.selectFrom('sessions').select('token_hash').execute();
        for (const row of rows) assert.ok(!tokens.has(row.token_hash), 'the raw token is never stored');
      } finally {
        await t.close();
      }
    });

    it('validates a session and serves repeat checks from the cache (no SQL in steady state)', async () => {
      const t = await setup();
      try {
        const { token } = await t.service.create('alice', META);
        const record = await t.service.validate(token);
        assert.equal(record?.user.id, 'alice');
        assert.deepEqual(record?.user.roles, ['member']);
        const findsAfterFirst = t.store.finds;
        for (let i = 0; i < 100; i++) assert.ok(await t.service.validate(token));
        assert.equal(t.store.finds, findsAfterFirst, 'no store lookups while cached');
        assert.equal(await t.service.validate('A'.repeat(43)), undefined, 'unknown token');
        assert.equal(await t.service.validate('short'), undefined, 'malformed token');
        assert.equal(await t.service.validate(undefined), undefined);
      } finally {
        await t.close();
      }
    });

    it('SEC-SESS-06: idle timeout ends the session; activity slides it, writing at most once per touch interval', async () => {
      const t = await setup();
      try {
        const { token } = await t.service.create('alice', META);
        for (let i = 0; i < 12; i++) {
          t.clock.advance(5);
          assert.ok(await t.service.validate(token), `active at step ${i}`);
        }
        assert.ok(t.store.touches <= 6 && t.store.touches >= 5, `touched ${t.store.touches} times in 60 s of activity at a 10 s interval`);
        t.clock.advance(61);
        assert.equal(await t.service.validate(token), undefined, 'idle beyond 60 s');
        assert.equal((await t.database.db.selectFrom('sessions').selectAll().execute()).length, 0, 'the idle session is deleted');
      } finally {
        await t.close();
      }
    });

    it('SEC-SESS-07: absolute timeout ends the session despite activity', async () => {
      const t = await setup();
      try {
        const { token } = await t.service.create('alice', META);
        for (let elapsed = 30; elapsed < 600; elapsed += 30) {
          t.clock.advance(30);
          assert.ok(await t.service.validate(token), `alive at ${elapsed} s`);
        }
        t.clock.advance(30);
        assert.equal(await t.service.validate(token), undefined, 'past the 600 s absolute lifetime');
      } finally {
        await t.close();
      }
    });

    it('SEC-SESS-08: revocation takes effect at once, even for a cached session', async () => {
      const t = await setup();
      try {
        const { token, session } = await t.service.create('alice', META);
        assert.ok(await t.service.validate(token));
        assert.equal(await t.service.revoke(session.id, 'bob'), false, 'another user cannot revoke it (SEC-ASVS-02)');
        assert.ok(await t.service.validate(token));
        assert.equal(await t.service.revoke(session.id, 'alice'), true);
        assert.equal(await t.service.validate(token), undefined);
      } finally {
        await t.close();
      }
    });

    it('SEC-SESS-02: rotation issues a new token and kills the old one, keeping auth_time', async () => {
      const t = await setup();
      try {
        const first = await t.service.create('alice', META);
        const record = (await t.service.validate(first.token))!;
        t.clock.advance(20);
        const next = await t.service.rotate(record, { ip: '192.0.2.9', userAgent: 'x' });
        assert.notEqual(next.token, first.token);
        assert.notEqual(next.session.id, first.session.id);
        assert.equal(next.session.authTime, first.session.authTime);
        assert.equal(await t.service.validate(first.token), undefined);
        assert.equal((await t.service.validate(next.token))?.user.id, 'alice');
      } finally {
        await t.close();
      }
    });

    it('SEC-SESS-10: revokeAllForUser keeps only the given session; lists show only own sessions', async () => {
      const t = await setup();
      try {
        const a1 = await t.service.create('alice', META);
        const a2 = await t.service.create('alice', META);
        const b1 = await t.service.create('bob', META);
        for (const token of [a1.token, a2.token, b1.token]) assert.ok(await t.service.validate(token));
        assert.equal((await t.service.list('alice')).length, 2);
        assert.equal(await t.service.revokeAllForUser('alice', a1.session.id), 1);
        assert.ok(await t.service.validate(a1.token));
        assert.equal(await t.service.validate(a2.token), undefined);
        assert.ok(await t.service.validate(b1.token), 'other users untouched');
        assert.deepEqual((await t.service.list('alice')).map((s) => s.id), [a1.session.id]);
      } finally {
        await t.close();
      }
    });

    it('SEC-SESS-09: a disabled user is refused even from the cache after userChanged', async () => {
      const t = await setup();
      try {
        const { token } = await t.service.create('alice', META);
        assert.ok(await t.service.validate(token));
        await t.database.db.updateTable('users').set({ disabled_at: t.clock.now() }).where('id', '=', 'alice').execute();
        await t.service.userChanged('alice');
        assert.equal(await t.service.validate(token), undefined);
      } finally {
        await t.close();
      }
    });
  });
}

sessionSuite('SQLite', false, async () => ({ database: openDatabase({ url: 'sqlite::memory:' }), cleanup: async () => {} }));
sessionSuite('PostgreSQL', skipUnless(postgres), async () => {
  const scratch = await createTestDatabase();
  return { database: openDatabase({ url: scratch.url, poolSize: 4 }), cleanup: scratch.drop };
});

describe('session revocation across instances', () => {
  async function twoInstances(makeStore: () => Promise<EphemeralStore[]>, database: Database) {
    await migrateToLatest(database);
    await seedUser(database, 'alice');
    const [storeA, storeB] = await makeStore();
    const a = createSessionService({ store: createSqlSessionStore(database.db), ephemeral: storeA!, config: { ...CONFIG, sessionCacheSeconds: 300 } });
    const b = createSessionService({ store: createSqlSessionStore(database.db), ephemeral: storeB!, config: { ...CONFIG, sessionCacheSeconds: 300 } });
    await a.start();
    await b.start();
    return { a, b, close: async () => { await a.stop(); await b.stop(); await storeA!.close(); if (storeB !== storeA) await storeB!.close(); } };
  }

  async function assertFanOut(a: ReturnType<typeof createSessionService>, b: ReturnType<typeof createSessionService>): Promise<void> {
    const { token, session } = await a.create('alice', META);
    assert.ok(await a.validate(token));
    assert.ok(await b.validate(token), 'valid on the other instance (and now cached there for 300 s)');
    await a.revoke(session.id, 'alice');
    // A ceiling, not a speed expectation (the bound is 1 s; the cache it must beat, 300 s).
    const deadline = Date.now() + 30_000;
    let refused = false;
    while (Date.now() < deadline) {
      if ((await b.validate(token)) === undefined) {
        refused = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(refused, 'instance B refuses the revoked session (pub/sub) long before its 300 s cache would');
  }

  it('through the in-process store (one instance, two services)', async () => {
    const database = openDatabase({ url: 'sqlite::memory:' });
    const memory = createMemoryStore();
    const t = await twoInstances(async () => [memory, memory], database);
    try {
      await assertFanOut(t.a, t.b);
    } finally {
      await t.close();
      await database.close();
    }
  });

  it('SEC-REL-08: through Redis pub/sub (two connections, shared PostgreSQL or SQLite)', { skip: skipUnless(redis) }, async () => {
    const prefix = testRedisPrefix();
    const scratch = postgres.available ? await createTestDatabase() : undefined;
    const database = openDatabase({ url: scratch?.url ?? 'sqlite::memory:', poolSize: 4 });
    const t = await twoInstances(async () => [await createRedisStore({ url: redisUrl(), prefix }), await createRedisStore({ url: redisUrl(), prefix })], database);
    try {
      await assertFanOut(t.a, t.b);
    } finally {
      await t.close();
      await database.close();
      await scratch?.drop();
    }
  });
});
