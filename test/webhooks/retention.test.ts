/**
 * Webhook retention: delivered and dead-lettered rows (and their attempts) are deleted
 * `webhookRetentionDays` after they completed; pending rows never are, and 0 keeps everything.
 * Driven with `runDue()` / `prune()` and a manual clock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJSON, PASSWORD } from '../support/auth.ts';
import { manualClock } from '../support/oidc.ts';
import type { TestApp } from '../support/app.ts';
import { adminRequest, createWebhookTestApp, LOOPBACK_ALLOWED, signedInAdmin, startReceiver, subscribe, type Receiver } from './support.ts';

const DAY = 86_400_000;

/** Every delivery row (read from the database: admin sessions do not outlive the clock jumps). */
async function rows(t: TestApp): Promise<{ id: string; status: string }[]> {
  return t.storage.database.db.selectFrom('webhook_deliveries').select(['id', 'status']).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
}

describe('webhook retention', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  it('sweeps completed rows past the retention, keeps younger and pending ones', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const t = await createWebhookTestApp({ now: clock.now, env: { ...LOOPBACK_ALLOWED, GATEHOUSE_WEBHOOK_RETENTION_DAYS: '7', GATEHOUSE_WEBHOOK_GIVE_UP_AFTER_SECONDS: '60' } });
    try {
      await subscribe(t, await signedInAdmin(t), `${receiver.url}/hook`, ['user.created']);
      receiver.mode = 'ok';
      await postJSON(t, '/api/auth/sign-up', { email: 'old@example.com', password: PASSWORD });
      assert.equal(await t.app.webhookDelivery.runDue(), 1);

      // Six days on: a second delivery, then one that fails until it is dead (60 s give-up).
      clock.advance(6 * DAY);
      await postJSON(t, '/api/auth/sign-up', { email: 'young@example.com', password: PASSWORD });
      assert.equal(await t.app.webhookDelivery.runDue(), 1);
      receiver.mode = 'fail';
      await postJSON(t, '/api/auth/sign-up', { email: 'dead@example.com', password: PASSWORD });
      for (let round = 0; round < 5; round++) {
        await t.app.webhookDelivery.runDue();
        clock.advance(30_000);
      }
      // And one still pending: enqueued, never attempted (the sweeps below do not run the worker).
      await postJSON(t, '/api/auth/sign-up', { email: 'pending@example.com', password: PASSWORD });
      assert.deepEqual((await rows(t)).map((row) => row.status).sort(), ['dead', 'delivered', 'delivered', 'pending']);

      // Day 7 + a bit: only the first delivery is past the retention.
      clock.advance(DAY);
      assert.equal(await t.app.webhookDelivery.prune(), 1);
      assert.deepEqual((await rows(t)).map((row) => row.status).sort(), ['dead', 'delivered', 'pending']);
      // Another 7 days: the rest of the completed rows go, with their attempts; the pending one stays.
      clock.advance(7 * DAY);
      assert.equal(await t.app.webhookDelivery.prune(), 2);
      const left = await rows(t);
      assert.deepEqual(left.map((row) => row.status), ['pending']);
      const attempts = await t.storage.database.db.selectFrom('webhook_attempts').select('delivery_id').execute();
      assert.ok(attempts.every((row) => row.delivery_id === left[0]!.id), 'no attempt outlives its delivery');
    } finally {
      await t.close();
    }
  });

  it('the poll cycle sweeps at most hourly', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const t = await createWebhookTestApp({ now: clock.now, env: { ...LOOPBACK_ALLOWED, GATEHOUSE_WEBHOOK_RETENTION_DAYS: '1' } });
    try {
      await subscribe(t, await signedInAdmin(t), `${receiver.url}/hook`, ['user.created']);
      receiver.mode = 'ok';
      await postJSON(t, '/api/auth/sign-up', { email: 'a@example.com', password: PASSWORD });
      await t.app.webhookDelivery.runDue(); // delivers, and sweeps (nothing yet): the hour starts
      clock.advance(DAY + 1000);
      await postJSON(t, '/api/auth/sign-up', { email: 'b@example.com', password: PASSWORD });
      await t.app.webhookDelivery.runDue(); // a day later: sweeps the first
      assert.equal((await rows(t)).length, 1);
      clock.advance(DAY + 1000);
      await t.app.webhookDelivery.prune(); // an explicit sweep restarts the hour
      assert.equal((await rows(t)).length, 0);
      await postJSON(t, '/api/auth/sign-up', { email: 'c@example.com', password: PASSWORD });
      await t.app.webhookDelivery.runDue();
      clock.advance(DAY + 1000);
      await t.app.webhookDelivery.runDue(); // > 1 h since the last sweep: swept
      assert.equal((await rows(t)).length, 0);
    } finally {
      await t.close();
    }
  });

  it('0 keeps every row', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const t = await createWebhookTestApp({ now: clock.now, env: { ...LOOPBACK_ALLOWED, GATEHOUSE_WEBHOOK_RETENTION_DAYS: '0' } });
    try {
      await subscribe(t, await signedInAdmin(t), `${receiver.url}/ok`, ['user.created']);
      receiver.mode = 'ok';
      await postJSON(t, '/api/auth/sign-up', { email: 'kept@example.com', password: PASSWORD });
      await t.app.webhookDelivery.runDue();
      clock.advance(3650 * DAY);
      assert.equal(await t.app.webhookDelivery.prune(), 0);
      await t.app.webhookDelivery.runDue();
      assert.deepEqual((await rows(t)).map((row) => row.status), ['delivered']);
    } finally {
      await t.close();
    }
  });
});
