/**
 * Housekeeping on several instances at once (PostgreSQL): two runs over two connection pools of
 * the same database, in small batches, while refreshes of live grants rotate through the app.
 * Every dead row is deleted exactly once (the two runs' counts add up to what was seeded), nothing
 * live is touched, no statement fails, and every rotation succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { nativeSignIn, refresh, tokens } from '../support/oauth.ts';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { runOnce } from '../../src/features/housekeeping/housekeeping.ts';
import { BACKENDS, DAY, START, createApp, tokenRows } from './support.ts';

const postgres = BACKENDS.find((backend) => backend.postgres)!;
const DEAD_GRANTS = 40;
const TOKENS_PER_GRANT = 50;

describe('housekeeping: two instances sweeping at once (PostgreSQL)', { skip: postgres.skip }, () => {
  let t: TestApp & { url?: string };
  let other: Database;
  const clock = START;
  before(async () => {
    t = await createApp(postgres, () => clock);
    other = openDatabase({ url: t.url!, poolSize: 4 });
  });
  after(async () => {
    await other?.close();
    await t?.close();
  });

  it('deletes each dead row once, fails nothing, and leaves live chains rotating', async () => {
    const db = t.storage.database.db;
    const user = await db.selectFrom('users').select('id').executeTakeFirst();
    for (let grant = 0; grant < DEAD_GRANTS; grant++) {
      const id = `dead-${String(grant).padStart(3, '0')}`;
      const revoked = grant % 2 === 0;
      await db.insertInto('grants').values({ id, client_id: 'confrt', user_id: user?.id ?? null, session_id: null, scope: 'read', created_at: clock - 3 * DAY, expires_at: revoked ? clock + DAY : clock - 2 * DAY, revoked_at: revoked ? clock - 2 * DAY : null }).execute();
      await db.insertInto('refresh_tokens').values(Array.from({ length: TOKENS_PER_GRANT }, (_, index) => ({
        id: `${id}-t${index}`, token_hash: `${id}-h${index}`, grant_id: id, scope: 'read', created_at: clock - 3 * DAY, idle_expires_at: clock + DAY,
        rotated_at: index < TOKENS_PER_GRANT - 1 ? clock - 3 * DAY : null, successor_id: index < TOKENS_PER_GRANT - 1 ? `${id}-t${index + 1}` : null,
        successor_token_encrypted: null, successor_access_token_encrypted: null, successor_access_token_expires_at: null,
      }))).execute();
    }
    const chains = await Promise.all([0, 1, 2].map((index) => nativeSignIn(t, `racer-${index}@example.com`)));

    let rotations = 0;
    const rotating = Promise.all(chains.map(async (chain) => {
      let current = chain.refresh_token;
      for (let round = 0; round < 8; round++) {
        current = tokens(await refresh(t, 'mobile', current)).refresh_token!;
        rotations += 1;
      }
    }));
    const [first, second] = await Promise.all([
      runOnce({ database: t.storage.database, now: () => clock, batchSize: 25 }),
      runOnce({ database: other, now: () => clock, batchSize: 25 }),
      rotating,
    ]);

    assert.equal(first.deleted.refresh_tokens + second.deleted.refresh_tokens, DEAD_GRANTS * TOKENS_PER_GRANT, 'every dead token deleted exactly once');
    assert.equal(first.deleted.grants + second.deleted.grants, DEAD_GRANTS, 'every dead grant deleted exactly once');
    assert.equal(Number((await db.selectFrom('grants').select((eb) => eb.fn.countAll<number>().as('n')).where('id', 'like', 'dead-%').executeTakeFirstOrThrow()).n), 0);
    assert.equal(rotations, chains.length * 8, 'every rotation succeeded');
    for (const chain of chains) assert.equal(await tokenRows(t, chain.gid), 9, 'a live chain keeps every token');
  });
});
