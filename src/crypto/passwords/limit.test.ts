import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { HashQueueOverloadedError, createConcurrencyLimit, defaultHashConcurrency } from './limit.ts';
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

// Issue 14 item 8: a bounded queue. Past the bound a call is refused at once with the error that
// src/http/errors.ts answers with 503 and Retry-After, instead of waiting without limit.
function assertOverloaded(error: unknown, reason: string): true {
  assert.ok(error instanceof HashQueueOverloadedError);
  assert.equal(error.code, 'PASSWORD_HASH_OVERLOADED');
  assert.equal(error.reason, reason);
  assert.equal(typeof error.retryAfterSeconds, 'number');
  assert.ok(Number.isSafeInteger(error.retryAfterSeconds) && error.retryAfterSeconds >= 1);
  return true;
}

test('a full queue refuses the next task at once, without running it', async () => {
  const limit = createConcurrencyLimit(1, { maxQueue: 2, maxWaitMs: 3000 });
  const gate = deferred();
  let ran = 0;
  const task = async (): Promise<void> => {
    ran++;
    await gate.promise;
  };
  const admitted = [limit.run(task), limit.run(task), limit.run(task)];
  let refusedWithoutWaiting = false;
  const refused = limit.run(task).catch((error: unknown) => {
    refusedWithoutWaiting = true;
    return error;
  });
  // Refused before any admitted task finished: it never waited for a slot.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(refusedWithoutWaiting, true);
  const error = await refused;
  assertOverloaded(error, 'queue_full');
  assert.equal((error as HashQueueOverloadedError).retryAfterSeconds, 3, 'about one full wait (3 000 ms)');
  assert.equal(limit.waiting, 2);
  assert.deepEqual(limit.rejected, { queue_full: 1, wait_timeout: 0 });
  assert.throws(() => limit.checkCapacity(), (error) => assertOverloaded(error, 'queue_full'));
  assert.deepEqual(limit.rejected, { queue_full: 2, wait_timeout: 0 }, 'a refused check counts as a refusal');
  gate.resolve();
  await Promise.all(admitted);
  assert.equal(ran, 3, 'the refused task never ran');
  // Room again: the check passes and the next task is admitted.
  limit.checkCapacity();
  assert.equal(await limit.run(async () => 'ok'), 'ok');
});

test('a task that waits longer than maxWaitMs leaves the queue, is refused, and never runs later', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const limit = createConcurrencyLimit(1, { maxQueue: 10, maxWaitMs: 5000 });
  const gate = deferred();
  const order: string[] = [];
  const holder = limit.run(async () => {
    order.push('holder');
    await gate.promise;
  });
  const late = limit.run(async () => void order.push('late'));
  assert.equal(limit.waiting, 1);
  t.mock.timers.tick(4999);
  await Promise.resolve();
  assert.equal(limit.waiting, 1, 'still within its wait');
  const laterStill = limit.run(async () => void order.push('later still')); // queued at 4 999 ms
  t.mock.timers.tick(1);
  await assert.rejects(late, (error) => assertOverloaded(error, 'wait_timeout'));
  assert.equal(limit.waiting, 1, 'the timed-out task left the queue; the later one is still in it');
  assert.deepEqual(limit.rejected, { queue_full: 0, wait_timeout: 1 });
  gate.resolve();
  await holder;
  await laterStill;
  assert.deepEqual(order, ['holder', 'later still'], 'the timed-out task never ran');
  assert.equal(limit.active, 0);
});

test('queue bounds must be non-negative integers', () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(() => createConcurrencyLimit(1, { maxQueue: bad }), RangeError);
    assert.throws(() => createConcurrencyLimit(1, { maxWaitMs: bad }), RangeError);
  }
});

test('the hasher applies its queue bounds: with queueMax 0 the default is 32 waiting per slot', async () => {
  const hasher = createPasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 }, { concurrency: 1, queueMax: 0, queueWaitMs: 60_000 });
  const calls = Array.from({ length: 1 + 32 }, () => hasher.verifyDummy('anything at all'));
  assert.equal(hasher.queueDepth(), 32);
  await assert.rejects(hasher.verifyDummy('one too many'), (error) => assertOverloaded(error, 'queue_full'));
  await assert.rejects(hasher.hash('one too many'), (error) => assertOverloaded(error, 'queue_full'));
  assert.deepEqual(hasher.stats().rejected, { queue_full: 2, wait_timeout: 0 });
  assert.deepEqual(await Promise.all(calls), calls.map(() => false));
  assert.equal(hasher.queueDepth(), 0);
  assert.equal(hasher.stats().fullCostComputations, 33, 'the refused calls did no hashing');
});

test('without queue options the hasher queues without bound (the CLI, which hashes one at a time)', async () => {
  const limit = createConcurrencyLimit(1);
  const gate = deferred();
  const holder = limit.run(() => gate.promise);
  const hasher = createPasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 }, { limit });
  const calls = Array.from({ length: 40 }, () => hasher.verifyDummy('x'));
  assert.equal(hasher.queueDepth(), 40, 'well past 32 per slot');
  gate.resolve();
  await holder;
  await Promise.all(calls);
  assert.deepEqual(hasher.stats().rejected, { queue_full: 0, wait_timeout: 0 });
});
