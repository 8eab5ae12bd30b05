/**
 * Webhooks end to end: Standard Webhooks signatures checked by the reference library, the
 * durable outbox (fail, time out, recover; dead letters and replay; a restart mid-backoff) and
 * the admin API's delivery log. The worker is driven with `runDue()` and a manual clock, except
 * in the first test, which checks that the background worker delivers a sign-in on its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { postJSON, registerAndSignIn, signIn, PASSWORD } from '../support/auth.ts';
import { manualClock } from '../support/oidc.ts';
import type { TestApp } from '../support/app.ts';
import { BACKOFF_MAX_MS } from '../../src/features/webhooks/worker.ts';
import { adminRequest, createWebhookTestApp, eventually, LOOPBACK_ALLOWED, signedInAdmin, startReceiver, subscribe, type Receiver } from './support.ts';

/** The reference verifier, as of `at` (it refuses timestamps 5 minutes off its clock; tests freeze ours). */
function verified(secret: string, received: { headers: Record<string, unknown>; body: string }, at?: number): { type: string; data: Record<string, unknown> } {
  const headers = Object.fromEntries(Object.entries(received.headers).map(([name, value]) => [name, String(value)]));
  const realNow = Date.now;
  if (at !== undefined) Date.now = () => at;
  try {
    return new Webhook(secret).verify(received.body, headers) as { type: string; data: Record<string, unknown> };
  } finally {
    Date.now = realNow;
  }
}

describe('webhooks: a signed event for a sign-in, delivered by the background worker', () => {
  let t: TestApp;
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
    t = await createWebhookTestApp({ env: { GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' } });
  });
  after(async () => {
    await t.close();
    await receiver.close();
  });

  it('the receiver gets a sign-in.succeeded event whose signature the reference library accepts', async () => {
    const admin = await signedInAdmin(t);
    const { secret } = await subscribe(t, admin, `${receiver.url}/hook`, ['sign-in.succeeded', 'user.created']);
    await registerAndSignIn(t, 'webhook-user@example.com');
    await eventually(() => receiver.received.length >= 2, 'two webhook requests');
    const events = receiver.received.map((request) => verified(secret, request));
    assert.deepEqual(events.map((event) => event.type).sort(), ['sign-in.succeeded', 'user.created']);
    const signInEvent = events.find((event) => event.type === 'sign-in.succeeded')!;
    assert.equal(signInEvent.data.audit_type, 'sign-in');
    assert.equal(typeof signInEvent.data.user_id, 'string');
    assert.equal(receiver.received[0]!.headers['content-type'], 'application/json');
    // A wrong secret, or a changed body, is refused by the reference verifier.
    assert.throws(() => verified(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, receiver.received[0]!));
    assert.throws(() => verified(secret, { ...receiver.received[0]!, body: receiver.received[0]!.body.replace('sign', 'Sign') }));
    // Nothing secret travels: no password, no cookie, no token.
    for (const request of receiver.received) assert.doesNotMatch(request.body, /correct horse|__Host-gatehouse|whsec_/);
  });
});

describe('webhooks: durable delivery with backoff (manual clock)', () => {
  let t: TestApp;
  let receiver: Receiver;
  const clock = manualClock();
  // The clock jumps by hours: the admin signs in again each time (sessions go idle).
  const admin = () => signIn(t, 'admin@example.com');
  before(async () => {
    receiver = await startReceiver();
    t = await createWebhookTestApp({ env: { ...LOOPBACK_ALLOWED, GATEHOUSE_WEBHOOK_TIMEOUT_MS: '300', GATEHOUSE_WEBHOOK_GIVE_UP_AFTER_SECONDS: '600' }, now: clock.now });
    await signedInAdmin(t);
  });
  after(async () => {
    await t.close();
    await receiver.close();
  });

  it('a receiver that fails, then times out, then recovers gets every event, each under one webhook-id', async () => {
    const { id, secret } = await subscribe(t, await admin(), `${receiver.url}/durable`, ['sign-in.failed', 'sign-in.succeeded']);
    receiver.mode = 'fail';
    await registerAndSignIn(t, 'durable@example.com');
    const wrong = await postJSON(t, '/api/auth/sign-in', { email: 'durable@example.com', password: 'not the password at all' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(await t.app.webhookDelivery.runDue(), 2);
    assert.equal(receiver.received.length, 2);
    // Not due yet: nothing is sent again before the backoff has passed.
    assert.equal(await t.app.webhookDelivery.runDue(), 0);

    receiver.mode = 'hang';
    clock.advance(60_000);
    assert.equal(await t.app.webhookDelivery.runDue(), 2);
    assert.equal(receiver.received.length, 4);

    // While the receiver was down, more events happened; all of them arrive once it is back.
    await signIn(t, 'durable@example.com', PASSWORD);
    receiver.mode = 'ok';
    clock.advance(60_000);
    await t.app.webhookDelivery.runDue();
    const byId = new Map<string, string[]>();
    for (const request of receiver.received.filter((one) => one.path === '/durable')) {
      const event = verified(secret, request, Number(request.headers['webhook-timestamp']) * 1000);
      byId.set(String(request.headers['webhook-id']), [...(byId.get(String(request.headers['webhook-id'])) ?? []), event.type]);
    }
    assert.equal(byId.size, 3, 'three events');
    assert.deepEqual([...byId.values()].map((types) => types.length).sort(), [1, 3, 3], 'the two early events were tried three times, the last once');

    const log = await adminRequest(t, 'GET', `/api/admin/webhooks/${id}/deliveries`, await admin());
    assert.equal(log.statusCode, 200, log.body);
    // (The admin's own sign-in for this request is the newest delivery, not attempted yet.)
    const deliveries = (log.json() as { deliveries: { status: string; attempts: number; log: { status_code: number | null; error: string | null; latency_ms: number }[] }[] }).deliveries.filter((delivery) => delivery.attempts > 0);
    assert.equal(deliveries.length, 3);
    assert.ok(deliveries.every((delivery) => delivery.status === 'delivered'));
    const retried = deliveries.find((delivery) => delivery.attempts === 3)!;
    assert.deepEqual(retried.log.map((attempt) => attempt.status_code), [500, null, 200]);
    assert.match(retried.log[1]!.error ?? '', /timed out/);
    assert.ok(retried.log.every((attempt) => Number.isInteger(attempt.latency_ms)));
  });

  it('a redirect is not followed and counts as a failure', async () => {
    const { id } = await subscribe(t, await admin(), `${receiver.url}/moved`, ['session.ended']);
    receiver.mode = 'redirect';
    const cookie = await signIn(t, 'durable@example.com', PASSWORD);
    await postJSON(t, '/api/auth/sign-out', {}, { cookie });
    const moved = () => receiver.received.filter((request) => request.path === '/moved').length;
    await t.app.webhookDelivery.runDue();
    assert.equal(receiver.received.filter((request) => request.path === '/elsewhere').length, 0);
    assert.equal(moved(), 1);
    const log = (await adminRequest(t, 'GET', `/api/admin/webhooks/${id}/deliveries`, await admin())).json() as { deliveries: { status: string; last_error: string }[] };
    assert.equal(log.deliveries[0]!.status, 'pending');
    assert.match(log.deliveries[0]!.last_error, /302 \(redirects are not followed\)/);
  });

  it('gives up after the configured time into the dead-letter state; a replay delivers it', async () => {
    const { id } = await subscribe(t, await admin(), `${receiver.url}/dead`, ['user.created']);
    receiver.mode = 'fail';
    await postJSON(t, '/api/auth/sign-up', { email: 'dead-letter@example.com', password: PASSWORD });
    for (let round = 0; round < 30; round++) {
      await t.app.webhookDelivery.runDue();
      clock.advance(60_000);
    }
    const cookie = await admin();
    let deliveries = ((await adminRequest(t, 'GET', `/api/admin/webhooks/${id}/deliveries?status=dead`, cookie)).json() as { deliveries: { id: string; attempts: number }[] }).deliveries;
    assert.equal(deliveries.length, 1, 'dead after 600 s');
    const attempts = deliveries[0]!.attempts;
    await t.app.webhookDelivery.runDue();
    assert.equal(((await adminRequest(t, 'GET', `/api/admin/webhooks/${id}/deliveries`, cookie)).json() as { deliveries: { attempts: number }[] }).deliveries[0]!.attempts, attempts, 'a dead delivery is not retried');

    receiver.mode = 'ok';
    const replay = await adminRequest(t, 'POST', `/api/admin/webhooks/deliveries/${encodeURIComponent(deliveries[0]!.id)}/replay`, cookie, {});
    assert.equal(replay.statusCode, 200, replay.body);
    assert.equal((replay.json() as { replayed: number }).replayed, 1);
    await t.app.webhookDelivery.runDue();
    const after = ((await adminRequest(t, 'GET', `/api/admin/webhooks/${id}/deliveries`, cookie)).json() as { deliveries: { status: string }[] }).deliveries;
    assert.equal(after[0]!.status, 'delivered');
  });

  it('the admin API is for admins only, and never shows a secret after creation', async () => {
    const user = await registerAndSignIn(t, 'not-admin@example.com');
    const cookie = await admin();
    for (const [method, url] of [['GET', '/api/admin/webhooks'], ['POST', '/api/admin/webhooks'], ['GET', '/api/admin/webhooks/deliveries']] as const) {
      const response = await adminRequest(t, method, url, user, method === 'POST' ? { url: `${receiver.url}/x`, events: ['user.created'] } : undefined);
      assert.equal(response.statusCode, 403, `${method} ${url}`);
    }
    const list = await adminRequest(t, 'GET', '/api/admin/webhooks', cookie);
    assert.doesNotMatch(list.body, /whsec_|secret/);
    const bad = await adminRequest(t, 'POST', '/api/admin/webhooks', cookie, { url: `${receiver.url}/x`, events: ['no.such-event'] });
    assert.equal(bad.statusCode, 400);
    const chosen = await adminRequest(t, 'POST', '/api/admin/webhooks', cookie, { url: `${receiver.url}/x`, events: ['user.created'], secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}` });
    assert.equal(chosen.statusCode, 201, chosen.body);
    assert.equal((chosen.json() as { secret?: string }).secret, undefined, 'a supplied secret is write-only');
  });
});

describe('webhooks: a restart mid-backoff loses nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-webhooks-'));
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the delivery pending in the first process goes out from the second', async () => {
    const clock = manualClock();
    const env = { ...LOOPBACK_ALLOWED, GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}` };
    const first = await createWebhookTestApp({ env, now: clock.now });
    const admin = await signedInAdmin(first);
    const { secret } = await subscribe(first, admin, `${receiver.url}/restart`, ['sign-in.succeeded']);
    receiver.mode = 'fail';
    await registerAndSignIn(first, 'restart@example.com');
    assert.equal(await first.app.webhookDelivery.runDue(), 1);
    await first.close();

    receiver.mode = 'ok';
    clock.advance(BACKOFF_MAX_MS);
    const second = await createWebhookTestApp({ env, now: clock.now });
    try {
      assert.equal(await second.app.webhookDelivery.runDue(), 1);
      assert.equal(receiver.received.length, 2);
      assert.equal(receiver.received[0]!.headers['webhook-id'], receiver.received[1]!.headers['webhook-id']);
      assert.equal(verified(secret, receiver.received[1]!, clock.now()).type, 'sign-in.succeeded');
    } finally {
      await second.close();
    }
  });
});
