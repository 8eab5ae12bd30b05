import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryStore } from '../../storage/ephemeral/memory.ts';
import { createRateLimiter, tooManyRequests } from './limiter.ts';

describe('rate limiter (frozen clock)', () => {
  let clock = 1_700_000_000_000;
  const store = createMemoryStore({ now: () => clock });
  after(() => store.close());
  const limiter = createRateLimiter(store);
  const rule = { name: 'sign-in:ip', limit: 2, windowMs: 60_000 };

  it('reports the time left in the window, in whole seconds rounded up', async () => {
    await limiter.hit(rule, '203.0.113.7');
    clock += 500;
    await limiter.hit(rule, '203.0.113.7');
    assert.deepEqual(await limiter.hit(rule, '203.0.113.7'), { allowed: false, count: 3, retryAfterSeconds: 60 });
    clock += 58_600;
    assert.deepEqual(await limiter.hit(rule, '203.0.113.7'), { allowed: false, count: 4, retryAfterSeconds: 1 });
    clock += 900;
    assert.deepEqual(await limiter.hit(rule, '203.0.113.7'), { allowed: true, count: 1, retryAfterSeconds: 0 });
  });
});

describe('tooManyRequests', () => {
  it('is a generic 429 that names neither the rule nor the key, and says how long to wait (SEC-PWD-14)', () => {
    const error = tooManyRequests({ allowed: false, count: 11, retryAfterSeconds: 42 });
    assert.equal(error.status, 429);
    assert.deepEqual(error.toJSON(), { error: 'too_many_requests', error_description: 'Too many attempts. Try again in 42 seconds.' });
    assert.deepEqual(error.headers, { 'retry-after': '42' });
  });

  it('words the wait in minutes, rounded up, from one minute on', () => {
    const text = (seconds: number) => tooManyRequests({ allowed: false, count: 1, retryAfterSeconds: seconds }).description;
    assert.equal(text(1), 'Too many attempts. Try again in 1 second.');
    assert.equal(text(59), 'Too many attempts. Try again in 59 seconds.');
    assert.equal(text(60), 'Too many attempts. Try again in 1 minute.');
    assert.equal(text(61), 'Too many attempts. Try again in 2 minutes.');
    assert.equal(text(900), 'Too many attempts. Try again in 15 minutes.');
  });

  it('always sends a Retry-After of at least one whole second', () => {
    for (const [seconds, header] of [[0, '1'], [-3, '1'], [Number.NaN, '1'], [0.2, '1'], [1.5, '2']] as const) {
      assert.equal(tooManyRequests({ allowed: false, count: 1, retryAfterSeconds: seconds }).headers['retry-after'], header, String(seconds));
    }
  });
});
