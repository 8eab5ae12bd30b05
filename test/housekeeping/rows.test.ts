/**
 * Housekeeping of sessions (with their back-channel logout participants), one-time tokens and
 * revocations, with a manual clock on SQLite and PostgreSQL: each row goes exactly when it may
 * (its end plus the margin) and not a millisecond before, and what is live is never touched. Then
 * the entry point: registerHousekeeping on an app, its `gatehouse_housekeeping_deleted_total`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { TestApp } from '../support/app.ts';
import { capturingMailer } from '../support/app.ts';
import { linkToken, postJSON, registerAndSignIn, whoami } from '../support/auth.ts';
import { assertInactive, clientToken, introspect, revoke } from '../support/oauth.ts';
import { GRACE_MS, HOUSEKEEPING_TABLES, SKEW_MARGIN_MS } from '../../src/features/housekeeping/tables.ts';
import { registerHousekeeping } from '../../src/features/housekeeping/wiring.ts';
import { createShared } from '../../src/features/shared.ts';
import { registerMetrics } from '../../src/http/metrics.ts';
import { registerAuthMetrics } from '../../src/http/auth-metrics.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { BACKENDS, HOUR, START, createApp, sweep } from './support.ts';

for (const backend of BACKENDS) {
  describe(`housekeeping: sessions, one-time tokens, revocations (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let clock = START;
    before(async () => {
      t = await createApp(backend, () => clock);
    });
    after(() => t?.close());

    const db = () => t.storage.database.db;
    async function sessionOf(cookie: string): Promise<{ id: string; userId: string; expiresAt: number }> {
      const body = (await whoami(t, cookie)).json() as { user: { id: string }; session: { id: string; expires_at: string } };
      return { id: body.session.id, userId: body.user.id, expiresAt: Date.parse(body.session.expires_at) };
    }
    async function participants(sessionId: string): Promise<number> {
      return (await db().selectFrom('backchannel_sessions').select('client_id').where('session_id', '=', sessionId).execute()).length;
    }

    it('a session goes a day after its absolute end, with its back-channel participants; a live one stays', async () => {
      const old = await sessionOf(await registerAndSignIn(t, 'old-session@example.com'));
      clock += HOUR;
      const liveCookie = await registerAndSignIn(t, 'live-session@example.com');
      const live = await sessionOf(liveCookie);
      for (const session of [old, live]) await db().insertInto('backchannel_sessions').values({ session_id: session.id, client_id: 'mobile', user_id: session.userId, created_at: clock }).execute();

      await sweep(t, old.expiresAt + GRACE_MS - 1);
      assert.ok(await db().selectFrom('sessions').select('id').where('id', '=', old.id).executeTakeFirst(), 'kept until the grace period is over');
      const result = await sweep(t, old.expiresAt + GRACE_MS);
      assert.equal(result.deleted.sessions, 1);
      assert.equal(result.deleted.backchannel_sessions, 1);
      assert.equal(await db().selectFrom('sessions').select('id').where('id', '=', old.id).executeTakeFirst(), undefined);
      assert.equal(await participants(old.id), 0, 'its participants went with it');
      assert.equal(await participants(live.id), 1, 'the live session’s participants stay');
      assert.equal((await whoami(t, liveCookie)).statusCode, 200, 'the live session still works');
    });

    it('one-time tokens: a used or voided link goes after the margin, an unused one when it has expired; the live link keeps working', async () => {
      const email = 'links@example.com';
      await registerAndSignIn(t, email);
      const user = await db().selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
      const resets = async () => (await db().selectFrom('one_time_tokens').select(['consumed_at', 'expires_at']).where('user_id', '=', user.id).where('purpose', '=', 'reset-password').execute()).length;
      assert.equal((await postJSON(t, '/api/auth/forgot-password', { email })).statusCode, 202);
      clock += 1000;
      assert.equal((await postJSON(t, '/api/auth/forgot-password', { email })).statusCode, 202, 'voids the first link');
      const voidedAt = clock;
      assert.equal(await resets(), 2);
      await sweep(t, voidedAt + SKEW_MARGIN_MS - 1);
      assert.equal(await resets(), 2, 'not before the margin');
      await sweep(t, voidedAt + SKEW_MARGIN_MS);
      assert.equal(await resets(), 1, 'the voided link is gone');
      const reset = await postJSON(t, '/api/auth/reset-password', { token: linkToken(t, email, '/reset-password'), password: 'another correct horse battery' });
      assert.equal(reset.statusCode, 200, 'the live link still works after the sweep');

      assert.equal((await postJSON(t, '/api/auth/forgot-password', { email })).statusCode, 202);
      const expiresAt = Number((await db().selectFrom('one_time_tokens').select('expires_at').where('user_id', '=', user.id).where('consumed_at', 'is', null).executeTakeFirstOrThrow()).expires_at);
      await sweep(t, expiresAt + SKEW_MARGIN_MS - 1);
      assert.ok(await db().selectFrom('one_time_tokens').select('token_hash').where('user_id', '=', user.id).where('consumed_at', 'is', null).executeTakeFirst(), 'the unused link is kept until it has expired');
      await sweep(t, expiresAt + SKEW_MARGIN_MS);
      assert.equal((await db().selectFrom('one_time_tokens').select('token_hash').where('user_id', '=', user.id).execute()).length, 0, 'every link of the user is gone');
    });

    it('a revocation goes once every token it covers has expired (its expires_at plus the margin)', async () => {
      const accessToken = await clientToken(t, 'svc');
      assert.equal((await revoke(t, accessToken, 'svc')).statusCode, 200);
      const row = await db().selectFrom('revocations').select(['value', 'expires_at']).where('kind', '=', 'jti').orderBy('revoked_at', 'desc').executeTakeFirstOrThrow();
      const expiresAt = Number(row.expires_at);
      await sweep(t, expiresAt + SKEW_MARGIN_MS - 1);
      assert.ok(await db().selectFrom('revocations').select('value').where('value', '=', row.value).executeTakeFirst(), 'kept while a token it covers could be live');
      assertInactive(await introspect(t, accessToken, 'svc'), 'revoked');
      await sweep(t, expiresAt + SKEW_MARGIN_MS);
      assert.equal(await db().selectFrom('revocations').select('value').where('value', '=', row.value).executeTakeFirst(), undefined);
    });
  });
}

describe('registerHousekeeping: started on ready, stopped on close, counted by table', () => {
  let t: TestApp;
  const clock = START;
  before(async () => {
    t = await createApp(BACKENDS[0]!, () => clock);
  });
  after(() => t?.close());

  it('app.housekeeping.runOnce() deletes and counts; every table’s series exists from the start', async () => {
    const app = Fastify();
    const registry = registerMetrics(app, { onMainPort: true });
    const metrics = registerAuthMetrics(app, registry);
    const shared = createShared(app, { config: t.config, database: t.storage.database, ephemeral: t.storage.ephemeral, masterKey: resolveMasterKey(t.config), now: () => clock, mailer: capturingMailer([]) }, { metrics });
    const housekeeping = registerHousekeeping(app, shared);
    await app.ready();
    try {
      assert.equal(app.housekeeping, housekeeping);
      const series = async () => (await app.inject({ url: '/metrics' })).body.split('\n').filter((line) => line.startsWith('gatehouse_housekeeping_deleted_total{'));
      assert.deepEqual((await series()).sort(), HOUSEKEEPING_TABLES.map((table) => `gatehouse_housekeeping_deleted_total{table="${table}"} 0`).sort(), 'zero-initialised');
      await t.storage.database.db.insertInto('revocations').values([
        { kind: 'jti', value: 'old-1', revoked_at: clock - 3 * HOUR, expires_at: clock - HOUR },
        { kind: 'jti', value: 'old-2', revoked_at: clock - 3 * HOUR, expires_at: clock - HOUR },
        { kind: 'jti', value: 'live', revoked_at: clock, expires_at: clock + HOUR },
      ]).execute();
      const result = await app.housekeeping.runOnce();
      assert.equal(result.deleted.revocations, 2);
      assert.ok((await series()).includes('gatehouse_housekeeping_deleted_total{table="revocations"} 2'));
    } finally {
      await app.close();
    }
    assert.equal((await app.housekeeping.runOnce()).deleted.revocations, 0, 'after close a run does nothing');
  });
});
