import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret, newId, randomBuffer, randomToken, requestIdGenerator } from './random.ts';

test('random tokens: the requested length, base64url, and no byte handed out twice across pool refills', () => {
  const seen = new Set<string>();
  const windows = new Set<string>();
  // 33 bytes does not divide the 4 KiB pool: draws straddle refills.
  for (let index = 0; index < 1000; index++) {
    const token = randomToken(33);
    assert.match(token, /^[A-Za-z0-9_-]{44}$/);
    const bytes = Buffer.from(token, 'base64url');
    assert.equal(bytes.length, 33);
    assert.ok(!seen.has(token));
    seen.add(token);
    // An 8-byte window repeating anywhere would mean overlapping draws (chance ~1e-14 otherwise).
    for (let at = 0; at + 8 <= bytes.length; at += 8) {
      const window = bytes.subarray(at, at + 8).toString('hex');
      assert.ok(!windows.has(window), 'bytes reused');
      windows.add(window);
    }
  }
  assert.match(randomToken(), /^[A-Za-z0-9_-]{43}$/);
  assert.throws(() => randomToken(5000), RangeError);
});

test('random bytes look uniform (a chi-square bound that a stuck or zeroed pool fails)', () => {
  const counts = new Array<number>(256).fill(0);
  let total = 0;
  for (let index = 0; index < 2000; index++) {
    for (const byte of Buffer.from(randomToken(32), 'base64url')) {
      counts[byte]!++;
      total++;
    }
  }
  const expected = total / 256;
  const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  // 255 degrees of freedom: p = 1e-6 at about 372.
  assert.ok(chiSquare < 372, `chi-square ${chiSquare.toFixed(1)}`);
});

test('ids sort by creation time and are unique', () => {
  const ids = Array.from({ length: 500 }, (_, index) => newId(1_790_000_000_000 + index));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
});

test('request ids: one random prefix per generator, then a counter', () => {
  const first = requestIdGenerator();
  const second = requestIdGenerator();
  const a = [first(), first(), first()];
  assert.equal(new Set(a).size, 3);
  assert.equal(a[0]!.split('-')[0], a[2]!.split('-')[0]);
  assert.notEqual(second().split('-')[0], a[0]!.split('-')[0]);
});

test('hashSecret is SHA-256, base64url (FIPS 180-2 "abc" vector)', () => {
  assert.equal(hashSecret('abc'), Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url'));
});

test('randomBuffer copies fresh bytes out of the pool: distinct, and not changed by later draws', () => {
  const first = randomBuffer(12);
  const copy = Buffer.from(first);
  const later = Array.from({ length: 1000 }, () => randomBuffer(12).toString('hex'));
  assert.deepEqual(first, copy, 'a later refill does not rewrite a buffer already handed out');
  assert.equal(new Set([copy.toString('hex'), ...later]).size, 1001);
});
