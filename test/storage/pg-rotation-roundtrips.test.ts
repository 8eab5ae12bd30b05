/**
 * Issue 21: on PostgreSQL a refresh rotation of a token this instance issued is one round trip —
 * one statement that looks the token up, checks client, grant, user, roles and session in SQL,
 * claims it, inserts the successor and marks the session seen when due (store.ts
 * rotateKnownRefreshToken). Every statement the pool sends is counted at `pg.Client#query`, which
 * both the named-statement path (pg-direct.ts) and Kysely's driver go through, so an extra lookup
 * or write on the rotation path fails here. And the one statement never trusts what the instance
 * remembered: a role change, a disabled user or a revoked grant between two rotations is seen.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { TestApp } from '../support/app.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import { assertOAuthError, claims, createOAuthApp, grantRevoked, nativeSignIn, refresh, tokens, unrotatedRefreshTokens, type TokenResponse } from '../support/oauth.ts';

const postgres = await probePostgres();

/** The statements sent to PostgreSQL while `fn` runs. */
async function statementsDuring<T>(fn: () => Promise<T>): Promise<{ value: T; statements: string[] }> {
  const statements: string[] = [];
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function counted(this: unknown, ...args: unknown[]) {
    const [config] = args;
    statements.push(typeof config === 'string' ? config : String((config as { text?: unknown }).text));
    return original.apply(this, args);
  };
  try {
    return { value: await fn(), statements };
  } finally {
    prototype.query = original;
  }
}

describe('refresh rotation on PostgreSQL: one round trip', { skip: skipUnless(postgres) }, () => {
  let t: TestApp;
  let drop: () => Promise<void>;
  /** The server's clock runs this far ahead of the real one (to let the session touch fall due). */
  let clockOffset = 0;
  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    // No background statements on the pool inside a counted window: the audit sealer (once a
    // second) and the webhook poller are off. W2 records no audit event, so nothing is lost.
    t = await createOAuthApp({ env: { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_AUDIT_CHAIN: 'false', GATEHOUSE_WEBHOOK_POLL_INTERVAL_MS: '0' }, now: () => Date.now() + clockOffset });
  });
  after(async () => {
    await t?.close();
    await drop?.();
  });

  async function rotate(refreshToken: string): Promise<{ body: TokenResponse; statements: string[] }> {
    const { value, statements } = await statementsDuring(() => refresh(t, 'mobile', refreshToken));
    return { body: tokens(value), statements };
  }

  it('each rotation of a token this instance issued sends one statement, the session touch included', async () => {
    const native = await nativeSignIn(t, 'one-trip@example.com');
    // The first token came from the sign-in: lookup, then the claim.
    let current = (await rotate(native.refresh_token)).body;
    for (let round = 0; round < 5; round++) {
      const { body, statements } = await rotate(current.refresh_token!);
      assert.equal(statements.length, 1, `round ${round}: one round trip, got ${statements.length}:\n${statements.join('\n---\n')}`);
      assert.match(statements[0]!, /^with "found" as/, 'the one-statement rotation');
      assert.doesNotMatch(statements[0]!, /update "sessions"/, 'seen within the touch interval: no touch in the statement');
      current = body;
    }
    // The touch interval (60 s) has passed since the session was last seen: the touch rides along
    // in the same statement.
    const before = await t.storage.database.db.selectFrom('sessions').select('last_seen_at').where('id', '=', native.sid).executeTakeFirstOrThrow();
    clockOffset += 61_000;
    // The clock jump also expired the client cache (2 s): refill it with a refused refresh first.
    assertOAuthError(await refresh(t, 'mobile', 'A'.repeat(43)), 'invalid_grant', 400, 'an unknown token');
    const { body, statements } = await rotate(current.refresh_token!);
    assert.equal(statements.length, 1, `the session touch costs no round trip, got:\n${statements.join('\n---\n')}`);
    assert.match(statements[0]!, /update "sessions"/, 'the touch is in the statement');
    const seen = await t.storage.database.db.selectFrom('sessions').select('last_seen_at').where('id', '=', native.sid).executeTakeFirstOrThrow();
    assert.ok(seen.last_seen_at >= before.last_seen_at + 61_000, 'and the session was marked seen');
    // Seen just now: the next rotation has no touch again.
    const next = await rotate(body.refresh_token!);
    assert.equal(next.statements.length, 1);
    assert.doesNotMatch(next.statements[0]!, /update "sessions"/, 'seen just now: no touch');
    const still = await t.storage.database.db.selectFrom('sessions').select('last_seen_at').where('id', '=', native.sid).executeTakeFirstOrThrow();
    assert.equal(still.last_seen_at, seen.last_seen_at);
    assert.equal(await unrotatedRefreshTokens(t, native.gid), 1, 'one live chain');

    // SEC-REL-03: a retry of the token just rotated is the lookup alone (the stored response).
    const retry = await rotate(body.refresh_token!);
    assert.equal(retry.statements.length, 1, 'a retry: one round trip');
    assert.equal(retry.body.access_token, next.body.access_token, 'the same access token');
    assert.equal(retry.body.refresh_token, next.body.refresh_token, 'the same successor');
  });

  it('what the instance remembered is checked in SQL: new roles are minted, a disabled user and a revoked grant are refused', async () => {
    const native = await nativeSignIn(t, 'remembered@example.com');
    const userId = String(claims(native.access_token).sub);
    const first = (await rotate(native.refresh_token)).body;
    await t.storage.database.db.updateTable('users').set({ roles: JSON.stringify(['auditor']) }).where('id', '=', userId).execute();
    const second = (await rotate(first.refresh_token!)).body;
    assert.deepEqual(claims(second.access_token).roles, ['auditor'], 'the access token carries the current roles');

    await t.storage.database.db.updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', userId).execute();
    assertOAuthError(await refresh(t, 'mobile', second.refresh_token!), 'invalid_grant', 400, 'a disabled user');
    await t.storage.database.db.updateTable('users').set({ disabled_at: null }).where('id', '=', userId).execute();
    const third = (await rotate(second.refresh_token!)).body;
    assert.equal(await unrotatedRefreshTokens(t, native.gid), 1, 'the refusal did not use the token up');

    await t.storage.database.db.updateTable('grants').set({ revoked_at: Date.now() }).where('id', '=', native.gid).execute();
    assertOAuthError(await refresh(t, 'mobile', third.refresh_token!), 'invalid_grant', 400, 'a revoked grant');
    assert.equal(await grantRevoked(t, native.gid), true);
  });
});
