import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createPasswordHasher } from './hasher.ts';
import { createConcurrencyLimit } from './limit.ts';
import { registerPasswordHashMetrics } from './metrics.ts';

test('the hash-load metrics read refusals and in-flight calls from the hasher at scrape time (issue 14 item 8)', async () => {
  const limit = createConcurrencyLimit(1, { maxQueue: 0 });
  const hasher = createPasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 }, { limit });
  const registry = new Registry();
  registerPasswordHashMetrics(registry, hasher);
  assert.match(await registry.metrics(), /gatehouse_password_hash_rejected_total\{reason="queue_full"\} 0\n/);

  let release!: () => void;
  const holder = limit.run(() => new Promise<void>((resolve) => (release = resolve)));
  await assert.rejects(hasher.verifyDummy('x'), { code: 'PASSWORD_HASH_OVERLOADED' });
  const text = await registry.metrics();
  assert.match(text, /gatehouse_password_hash_rejected_total\{reason="queue_full"\} 1\n/);
  assert.match(text, /gatehouse_password_hash_rejected_total\{reason="wait_timeout"\} 0\n/);
  assert.match(text, /gatehouse_password_hash_in_flight 1\n/);
  release();
  await holder;
  assert.match(await registry.metrics(), /gatehouse_password_hash_in_flight 0\n/);
});
