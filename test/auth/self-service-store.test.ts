/**
 * The one write of self-service: the address changes only while the account still has the old
 * one, and of two accounts racing for the same new address exactly one gets it — on SQLite and
 * on PostgreSQL (the unique index decides; the error becomes `taken`, never a 500). Plus the
 * two reads/writes of an undo: whether the undo window is open, and removing what was enrolled since.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import { CHANGE_EMAIL, UNDO_EMAIL_CHANGE, createSelfServiceStore } from '../../src/features/accounts/self-service/store.ts';
import { createSqlOneTimeTokenStore, createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createSqlMfaStore } from '../../src/features/mfa/store.ts';

async function race(t: TestApp): Promise<void> {
  const users = createSqlUserStore(t.storage.database.db);
  const store = createSelfServiceStore(t.storage.database.db);
  const at = Date.now();
  for (const id of ['u-a', 'u-b']) {
    await users.create({ id, email: `${id}@example.com`, name: null, emailVerifiedAt: null, passwordHash: null, roles: [], createdAt: at, updatedAt: at, disabledAt: null });
  }
  const outcomes = await Promise.all([
    store.changeEmail('u-a', 'u-a@example.com', 'wanted@example.com', at),
    store.changeEmail('u-b', 'u-b@example.com', 'wanted@example.com', at),
  ]);
  assert.deepEqual(outcomes.toSorted(), ['changed', 'taken']);
  const holder = await users.findByEmail('wanted@example.com');
  assert.ok(holder && holder.emailVerifiedAt === at, 'the new address counts as verified');
  assert.equal(await store.changeEmail(holder.id, 'stale@example.com', 'other@example.com', at), 'gone', 'only while the old address is still the account’s');
  assert.equal(await store.changeEmail('u-c', 'u-c@example.com', 'x@example.com', at), 'gone');
}

/**
 * The undo window is read from the durable one-time token row (a restart of the in-memory
 * ephemeral store cannot reopen changes): open while a link is live; an undo (consume), the
 * link expiring, or an admin change (invalidate) closes it.
 */
async function undoWindow(t: TestApp): Promise<void> {
  const db = t.storage.database.db;
  const users = createSqlUserStore(db);
  const tokens = createSqlOneTimeTokenStore(db);
  const store = createSelfServiceStore(db);
  const at = Date.UTC(2030, 0, 1);
  for (const id of ['w-a', 'w-b']) await users.create({ id, email: `${id}@example.com`, name: null, emailVerifiedAt: null, passwordHash: null, roles: [], createdAt: at, updatedAt: at, disabledAt: null });
  assert.equal(await store.undoWindowEndsAt('w-a', at), null);
  const link = await tokens.issue(UNDO_EMAIL_CHANGE, 'w-a', 1000, at);
  await tokens.issue(CHANGE_EMAIL, 'w-b', 1000, at);
  assert.equal(await store.undoWindowEndsAt('w-a', at), at + 1000);
  assert.equal(await store.undoWindowEndsAt('w-a', at + 1000), null, 'expired');
  assert.equal(await store.undoWindowEndsAt('w-b', at), null, 'only undo links count');
  assert.equal(await tokens.consume(link, UNDO_EMAIL_CHANGE, at + 1), 'w-a');
  assert.equal(await store.undoWindowEndsAt('w-a', at + 1), null, 'undone');
  await tokens.issue(UNDO_EMAIL_CHANGE, 'w-a', 1000, at + 2);
  await tokens.invalidate('w-a', UNDO_EMAIL_CHANGE, at + 3);
  assert.equal(await store.undoWindowEndsAt('w-a', at + 3), null, 'voided (admin change)');
}

/** Only what was enrolled at or after the change goes; the rest of the user's, and others', stay. */
async function secondFactorsSince(t: TestApp): Promise<void> {
  const db = t.storage.database.db;
  const users = createSqlUserStore(db);
  const mfa = createSqlMfaStore(db);
  const store = createSelfServiceStore(db);
  const at = Date.UTC(2030, 0, 1);
  for (const id of ['m-a', 'm-b']) await users.create({ id, email: `${id}@example.com`, name: null, emailVerifiedAt: null, passwordHash: null, roles: [], createdAt: at, updatedAt: at, disabledAt: null });
  const factor = (id: string, userId: string, createdAt: number) => mfa.insertFactor({ id, userId, kind: 'totp', name: id, createdAt, lastUsedAt: null, secretSealed: 'sealed', credentialId: null, publicKey: null, signCount: 0, transports: [], deviceType: null });
  await factor('old', 'm-a', at - 1);
  await factor('new', 'm-a', at);
  await factor('other', 'm-b', at + 5);
  await mfa.replaceRecoveryCodes('m-a', ['h1', 'h2'], at + 1);
  await mfa.replaceRecoveryCodes('m-b', ['h3'], at + 1);
  assert.deepEqual(await store.removeSecondFactorsSince('m-a', at), { factors: 1, recoveryCodes: 2 });
  assert.deepEqual((await mfa.listFactors('m-a')).map((row) => row.id), ['old']);
  assert.equal((await mfa.listFactors('m-b')).length, 1);
  assert.equal(await mfa.remainingRecoveryCodes('m-b'), 1);
  assert.deepEqual(await store.removeSecondFactorsSince('m-a', at), { factors: 0, recoveryCodes: 0 });
}

const postgres = await probePostgres();

describe('self-service store: changeEmail, the undo window, second factors since a change', () => {
  it('SQLite', async () => {
    const t = await createTestApp();
    try {
      await race(t);
      await undoWindow(t);
      await secondFactorsSince(t);
    } finally {
      await t.close();
    }
  });

  it('PostgreSQL', { skip: skipUnless(postgres) }, async () => {
    const database = await createTestDatabase();
    const t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: database.url } });
    try {
      await race(t);
      await undoWindow(t);
      await secondFactorsSince(t);
    } finally {
      await t.close();
      await database.drop();
    }
  });
});
