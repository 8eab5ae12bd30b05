/**
 * `gatehouse webhooks list|deliveries|replay` (a real CLI process) against a scratch SQLite
 * directory: endpoints without their secrets, one endpoint's dead and pending deliveries, and a
 * dead delivery replayed through the admin API's service (due now, pending again). docs/webhooks.md.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { openStorage } from '../../src/storage/open.ts';
import { createOutbox } from '../../src/features/webhooks/outbox.ts';
import { TEST_MASTER_KEY } from '../support/app.ts';
import { runCli } from '../support/spawn-server.ts';
import { LOOPBACK_ALLOWED } from './support.ts';

describe('gatehouse webhooks', () => {
  it('lists endpoints and their deliveries, and replays a dead delivery', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-webhooks-cli-'));
    const env = { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'g.db')}`, GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, ...LOOPBACK_ALLOWED };
    const cli = (...args: string[]) => runCli(['webhooks', ...args], { env, cwd: dir, timeoutMs: 120_000 });
    const config = loadConfig({ env });
    const storage = await openStorage(config);
    try {
      const outbox = createOutbox({ database: storage.database, config, sealKey: resolveMasterKey(config).derive('webhook-secrets'), now: Date.now, onError: () => {} });
      const { webhook, secret } = await outbox.subscriptions.create({ url: 'http://127.0.0.1:9/hook', events: ['user.created'] });
      assert.ok(secret);
      const at = Date.now();
      await outbox.store.enqueue(['dead', 'pending'].map((name) => ({ id: `delivery-${name}`, kind: 'webhook' as const, subscriptionId: webhook.id, clientId: null, eventId: `msg_${name}`, eventType: 'user.created', payload: '{}' })), at);
      // A delivery that gave up (what the worker does after the give-up window).
      await storage.database.db.updateTable('webhook_deliveries').set({ status: 'dead', completed_at: at, last_error: 'connection refused' }).where('id', '=', 'delivery-dead').execute();

      let result = await cli('list', '--json');
      assert.equal(result.code, 0, result.stderr);
      const listed = JSON.parse(result.stdout) as { webhooks: { id: string; url: string }[] };
      assert.deepEqual(listed.webhooks.map((item) => [item.id, item.url]), [[webhook.id, 'http://127.0.0.1:9/hook']]);
      assert.ok(!result.stdout.includes(secret), 'never the secret');
      result = await cli('list');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${webhook.id}\\tyes\\tuser\\.created\\thttp://127\\.0\\.0\\.1:9/hook$`, 'm'));

      result = await cli('deliveries', webhook.id, '--json');
      assert.equal(result.code, 0, result.stderr);
      const all = JSON.parse(result.stdout) as { deliveries: { id: string; status: string }[] };
      assert.deepEqual(all.deliveries.map((item) => `${item.id}:${item.status}`).sort(), ['delivery-dead:dead', 'delivery-pending:pending']);
      result = await cli('deliveries', webhook.id, '--status', 'dead');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^delivery-dead\tdead\tuser\.created\t0\tconnection refused$/m);
      assert.doesNotMatch(result.stdout, /delivery-pending/);
      result = await cli('deliveries', 'no-such-webhook');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /No such webhook/);

      result = await cli('replay', 'delivery-dead', '--json');
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { replayed: 1 });
      const replayed = await outbox.store.getDelivery('delivery-dead');
      assert.equal(replayed?.status, 'pending', 'due again for the workers');
      assert.ok(Number(replayed.next_attempt_at) <= Date.now());

      result = await cli('replay', 'delivery-pending');
      assert.equal(result.code, 1, 'only dead deliveries are replayed');
      assert.match(result.stderr, /not dead/);
      result = await cli('replay', 'no-such-delivery');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /No such delivery/);
      result = await cli('replay', '--webhook', webhook.id);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /replayed 0 dead deliveries/);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
