import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { createConcurrencyLimit, defaultHashConcurrency } from './limit.ts';
import { createPasswordHasher } from './hasher.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('never more than the limit in flight; waiting tasks start in arrival order', async () => {
  const limit = createConcurrencyLimit(2);
  const gates = Array.from({ length: 5 }, deferred);
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  const results = gates.map((gate, index) =>
    limit.run(async () => {
      started.push(index);
      running++;
      peak = Math.max(peak, running);
      await gate.promise;
      running--;
      return index * 10;
    }),
  );
  await Promise.resolve();
  assert.deepEqual(started, [0, 1]);
  assert.equal(limit.active, 2);
  assert.equal(limit.waiting, 3);
  gates[1]!.resolve();
  await results[1];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1, 2]);
  for (const gate of gates) gate.resolve();
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40]);
  assert.equal(peak, 2);
  assert.equal(limit.active, 0);
  assert.equal(limit.waiting, 0);
});

test('a failing task frees its slot and its error reaches the caller', async () => {
  const limit = createConcurrencyLimit(1);
  const failing = limit.run(async () => {
    throw new Error('boom');
  });
  const next = limit.run(async () => 'ran');
  const throwsSync = limit.run((() => {
    throw new Error('sync');
  }) as () => Promise<never>);
  await assert.rejects(failing, /boom/);
  assert.equal(await next, 'ran');
  await assert.rejects(throwsSync, /sync/);
  assert.equal(limit.active, 0);
});

test('a task arriving when a slot is handed over does not overtake the queue', async () => {
  const limit = createConcurrencyLimit(1);
  const first = deferred();
  const order: string[] = [];
  const a = limit.run(async () => {
    await first.promise;
    order.push('a');
  });
  const b = limit.run(async () => {
    order.push('b');
  });
  first.resolve();
  await a;
  const c = limit.run(async () => {
    order.push('c');
  });
  await Promise.all([b, c]);
  assert.deepEqual(order, ['a', 'b', 'c']);
});

test('the limit must be a positive integer', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => createConcurrencyLimit(bad), RangeError);
});

test('the default leaves one CPU for the event loop, never below 1', () => {
  assert.equal(defaultHashConcurrency(), Math.max(1, availableParallelism() - 1));
});

test('the password hasher queues its argon2id work behind the limit', async () => {
  const limit = createConcurrencyLimit(1);
  const hasher = createPasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 }, { limit });
  const stored = await hasher.hash('correct horse battery staple');
  const calls = [
    hasher.verify(stored, 'correct horse battery staple'),
    hasher.verify(stored, 'wrong horse battery staple'),
    hasher.verifyDummy('anything at all'),
    hasher.hash('another password here'),
  ];
  assert.equal(limit.active, 1);
  assert.equal(limit.waiting, 3);
  const [good, bad, dummy, rehashed] = await Promise.all(calls);
  assert.deepEqual(good, { ok: true, needsRehash: false });
  assert.deepEqual(bad, { ok: false, needsRehash: false });
  assert.equal(dummy, false);
  assert.equal((await hasher.verify(rehashed as string, 'another password here')).ok, true);
  assert.equal(limit.active, 0);
});
