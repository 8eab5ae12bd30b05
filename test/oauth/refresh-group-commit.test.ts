/**
 * Embedded group commit of refresh rotations (src/features/tokens/group-commit.ts): the rotations
 * that reach the store in one turn of the event loop commit in one transaction, and every
 * guarantee of a rotation alone still holds — each answer waits for its commit, two claims of one
 * token in a group leave one successor, a failing rotation fails only itself, and an open Kysely
 * transaction is waited for, not joined.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { syncSqliteOf, type SyncSqlite } from '../../src/storage/sql/sync-sqlite.ts';
import { createGroupCommit } from '../../src/features/tokens/group-commit.ts';
import { createClientRegistry } from '../../src/features/clients/registry.ts';
import { createClientStore } from '../../src/features/clients/store.ts';
import { createAuditLog } from '../../src/features/audit/audit-log.ts';
import { createSqlTokenStore, type RefreshTokenRow, type SealedResponse, type TokenStore } from '../../src/features/tokens/store.ts';

const T0 = 1_790_000_000_000;
const RESPONSE: SealedResponse = { successor: 'v1.s.t.u', accessToken: 'v1.a.t.u', accessTokenExpiresAt: T0 + 600_000 };

function token(id: string, grantId: string): RefreshTokenRow {
  return { id, token_hash: `hash-${id}`, grant_id: grantId, scope: 'openid', created_at: T0, idle_expires_at: T0 + 3_600_000, rotated_at: null, successor_id: null, successor_token_encrypted: null, successor_access_token_encrypted: null, successor_access_token_expires_at: null };
}

describe('refresh rotation: embedded group commit', () => {
  let dir: string;
  let database: Database;
  let store: TokenStore;
  before(async () => {
    // On file (WAL), as the embedded server runs.
    dir = mkdtempSync(join(tmpdir(), 'gh-group-commit-'));
    database = openDatabase({ url: `sqlite:${join(dir, 'g.db')}` });
    await migrateToLatest(database);
    await createClientRegistry({ store: createClientStore(database.db), db: database.db, audit: createAuditLog(database.db) }).create({ client_id: 'app', name: 'App', type: 'public', token_endpoint_auth_method: 'none', grant_types: ['refresh_token'], scopes: ['openid'], audiences: [], first_party: true });
    store = createSqlTokenStore(database.db);
  });
  after(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function grant(id: string): Promise<void> {
    await store.createGrantWithToken({ id, client_id: 'app', user_id: null, session_id: null, scope: 'openid', created_at: T0, expires_at: T0 + 86_400_000, revoked_at: null, jkt: null }, token(`${id}-1`, id));
  }

  async function unrotated(grantId: string): Promise<string[]> {
    return (await database.db.selectFrom('refresh_tokens').select('id').where('grant_id', '=', grantId).where('rotated_at', 'is', null).execute()).map((row) => row.id);
  }

  /** The connection's transactions, counted (the group's or each rotation's own). */
  function countedSync(): { sync: SyncSqlite; transactions: () => number } {
    const real = syncSqliteOf(database.db)!;
    let count = 0;
    return {
      sync: { execute: real.execute, transaction: (fn) => (count++, real.transaction(fn)) },
      transactions: () => count,
    };
  }

  it('rotations of one turn commit in one transaction, each answered after it, each with its own successor', async () => {
    const grants = Array.from({ length: 8 }, (_, index) => `g-turn-${index}`);
    for (const id of grants) await grant(id);
    const results = await Promise.all(grants.map((id) => store.rotateRefreshToken(`${id}-1`, T0 + 1, token(`${id}-2`, id), RESPONSE)));
    assert.deepEqual(results, grants.map(() => true));
    for (const id of grants) assert.deepEqual(await unrotated(id), [`${id}-2`], 'one live token per chain: the successor');

    const { sync, transactions } = countedSync();
    const group = createGroupCommit(sync);
    let committed = 0;
    const answers = grants.map((id) => group.run((execute) => {
      const claim = database.db.updateTable('refresh_tokens').set({ rotated_at: T0 + 2 }).where('id', '=', `${id}-2`).where('rotated_at', 'is', null).compile();
      committed++;
      return Number(execute(claim.sql, claim.parameters).numAffectedRows ?? 0) === 1;
    }));
    assert.equal(committed, 0, 'nothing runs before the turn ends');
    assert.deepEqual(await Promise.all(answers), grants.map(() => true));
    assert.equal(transactions(), 1, 'one transaction, one commit, for the whole turn');
  });

  it('two claims of one token in a group: one successor, the other claims nothing (one live chain)', async () => {
    await grant('g-race');
    const racers = await Promise.all(Array.from({ length: 5 }, (_, index) => store.rotateRefreshToken('g-race-1', T0 + 1, token(`g-race-2-${index}`, 'g-race'), RESPONSE)));
    assert.equal(racers.filter(Boolean).length, 1, 'exactly one racer claimed');
    assert.deepEqual(await unrotated('g-race'), [`g-race-2-${racers.indexOf(true)}`], 'and only its successor exists unrotated');
    const rows = await database.db.selectFrom('refresh_tokens').select('id').where('grant_id', '=', 'g-race').execute();
    assert.equal(rows.length, 2, 'the losers inserted nothing');
  });

  it('a rotation that throws fails only itself: the group is rolled back and each runs alone', async () => {
    for (const id of ['g-err-a', 'g-err-b']) await grant(id);
    const { sync, transactions } = countedSync();
    const group = createGroupCommit(sync);
    const claim = (id: string) => (execute: Parameters<Parameters<typeof group.run>[0]>[0]) => {
      const update = database.db.updateTable('refresh_tokens').set({ rotated_at: T0 + 1 }).where('id', '=', `${id}-1`).where('rotated_at', 'is', null).compile();
      return Number(execute(update.sql, update.parameters).numAffectedRows ?? 0) === 1;
    };
    const failing = group.run((execute) => {
      // A duplicate token hash: the statement throws inside the group's transaction.
      const insert = database.db.insertInto('refresh_tokens').values(token('g-err-dup', 'g-err-a')).compile();
      execute(insert.sql, insert.parameters);
      const again = database.db.insertInto('refresh_tokens').values({ ...token('g-err-dup2', 'g-err-a'), token_hash: 'hash-g-err-dup' }).compile();
      execute(again.sql, again.parameters);
      return true;
    });
    const [a, b, error] = await Promise.all([group.run(claim('g-err-a')), group.run(claim('g-err-b')), failing.then(() => undefined, (reason: unknown) => reason)]);
    assert.equal(a, true);
    assert.equal(b, true);
    assert.ok(error instanceof Error, 'the failing rotation is rejected');
    assert.equal(transactions(), 4, 'the group, then each of the three alone');
    assert.deepEqual(await unrotated('g-err-a'), [], 'the others committed (their claims)');
    assert.deepEqual(await unrotated('g-err-b'), []);
    const failed = await database.db.selectFrom('refresh_tokens').select('id').where('id', 'in', ['g-err-dup', 'g-err-dup2']).execute();
    assert.deepEqual(failed, [], 'and nothing of the failed one');
  });

  it('an open Kysely transaction is not joined: the rotation waits for it and then commits', async () => {
    await grant('g-busy');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const transaction = database.db.transaction().execute(async (trx) => {
      await trx.selectFrom('grants').select('id').limit(1).execute();
      opened();
      await gate;
    });
    await open;
    let answered = false;
    const rotation = store.rotateRefreshToken('g-busy-1', T0 + 1, token('g-busy-2', 'g-busy'), RESPONSE).then((value) => {
      answered = true;
      return value;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(answered, false, 'the rotation waits for the open transaction');
    release();
    await transaction;
    assert.equal(await rotation, true);
    assert.deepEqual(await unrotated('g-busy'), ['g-busy-2']);
  });
});
