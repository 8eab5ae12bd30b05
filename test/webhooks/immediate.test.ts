/**
 * The immediate path of a running worker (docs/webhooks.md, "Delivery"): an instance's new event
 * is inserted already claimed by its own worker and sent at once — no claim statement, no poll —
 * over a kept-alive connection per destination; the claim keeps every other instance off the
 * row while it is in flight, and the attempt and the outcome are recorded together. On SQLite
 * and, when available, on PostgreSQL (where the insert also returns the endpoint it read).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { signIn } from '../support/auth.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import { createWebhookTestApp, eventually, LOOPBACK_ALLOWED, signedInAdmin, startReceiver, subscribe, type Receiver } from './support.ts';

const postgres = await probePostgres();

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`webhooks: new events go out at once, over kept-alive connections (${backend})`, { skip: backend === 'postgres' ? skipUnless(postgres) : false }, () => {
    let database: { url: string; drop: () => Promise<void> } | undefined;
    let t: TestApp;
    let other: TestApp | undefined;
    let receiver: Receiver;
    before(async () => {
      receiver = await startReceiver();
      database = backend === 'postgres' ? await createTestDatabase() : undefined;
      const url: Record<string, string> = database ? { GATEHOUSE_DATABASE_URL: database.url } : {};
      // A poll far away: what arrives was sent by the immediate path (after the start's one cycle).
      t = await createWebhookTestApp({ env: { ...url, GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', GATEHOUSE_WEBHOOK_POLL_INTERVAL_MS: '600000', GATEHOUSE_WEBHOOK_TIMEOUT_MS: '1000' } });
      // A second instance on the same database, driven by hand.
      if (database) other = await createWebhookTestApp({ env: { ...LOOPBACK_ALLOWED, ...url } });
    });
    after(async () => {
      await other?.close();
      await t?.close();
      await receiver?.close();
      await database?.drop();
    });

    it('each sign-in is delivered once, without a poll, and later ones reuse the connection', async () => {
      const admin = await signedInAdmin(t, 'admin-immediate@example.com');
      const { id } = await subscribe(t, admin, `${receiver.url}/now`, ['sign-in.succeeded']);
      const count = 5;
      for (let index = 0; index < count; index++) {
        await signIn(t, 'admin-immediate@example.com');
        await eventually(() => receiver.received.length === index + 1, `delivery ${index + 1}`);
      }
      assert.equal(new Set(receiver.received.map((request) => request.headers['webhook-id'])).size, count, 'one request per event');
      // Without reuse every delivery would open its own connection.
      assert.ok(receiver.connections < count, `${receiver.connections} connections for ${count} deliveries`);
      const db = t.storage.database.db;
      const rows = await db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id).execute();
      assert.equal(rows.length, count);
      // The outcome is written right after the answer; wait for the last one's.
      for (let tries = 0; tries < 200; tries++) {
        const pending = await db.selectFrom('webhook_deliveries').select('id').where('subscription_id', '=', id).where('status', '!=', 'delivered').execute();
        if (pending.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const done = await db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id).execute();
      assert.ok(done.every((row) => row.status === 'delivered' && Number(row.attempts) === 1 && row.claimed_by === null && Number(row.last_status_code) === 200));
      const attempts = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', done.map((row) => row.id)).execute();
      assert.deepEqual(attempts.map((attempt) => Number(attempt.status_code)), Array(count).fill(200), 'one logged attempt per delivery');
    });

    it('an event in flight is claimed by its instance: no other worker sends it; a timeout is logged and retried later', async () => {
      const db = t.storage.database.db;
      const { id } = await subscribe(t, await signedInAdmin(t, 'admin-hang@example.com'), `${receiver.url}/hang`, ['sign-in.succeeded']);
      receiver.mode = 'hang';
      await signIn(t, 'admin-hang@example.com');
      const [row] = await db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id).execute();
      assert.ok(row, 'the outbox row was written before the answer');
      assert.ok(row.claimed_by !== null && Number(row.claimed_until) > Date.now(), 'born claimed by this instance');
      if (other) assert.equal(await other.app.webhookDelivery.runDue(), 0, 'another instance cannot claim it');
      await eventually(() => receiver.received.some((request) => request.path === '/hang'), 'the hanging request');
      // The 1 s timeout ends the attempt; it is logged and the row waits for its backoff, unclaimed.
      for (let tries = 0; tries < 200; tries++) {
        const current = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
        if (Number(current.attempts) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const after = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      assert.equal(after.status, 'pending');
      assert.equal(Number(after.attempts), 1);
      assert.equal(after.claimed_by, null);
      assert.ok(Number(after.next_attempt_at) > Number(after.last_attempt_at), 'backoff');
      const attempts = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', row.id).execute();
      assert.equal(attempts.length, 1);
      assert.match(attempts[0]!.error ?? '', /timed out/);
      receiver.mode = 'ok';
    });
  });
}
