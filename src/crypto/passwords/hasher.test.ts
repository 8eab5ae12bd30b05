import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import { createPasswordHasher, isRecognisedHash, normalizePassword } from './hasher.ts';
import { dummyArgon2Hash } from './dummy.ts';

const DEFAULTS = { memoryKiB: 19456, iterations: 2, parallelism: 1 };
const hasher = createPasswordHasher(DEFAULTS);
const ARGON2I = 1 as Algorithm;
const FAILED = { ok: false, needsRehash: false };

test('argon2id round trip at the configured cost', async () => {
  const stored = await hasher.hash('correct horse battery staple');
  assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.deepEqual(await hasher.verify(stored, 'correct horse battery staple'), { ok: true, needsRehash: false });
  assert.equal(isRecognisedHash(stored), true);
});

test('two users with the same password get different hashes (unique salt, SEC-PWD-07)', async () => {
  const [first, second] = await Promise.all([hasher.hash('same password here'), hasher.hash('same password here')]);
  assert.notEqual(first, second);
  assert.equal((await hasher.verify(first, 'same password here')).ok, true);
  assert.equal((await hasher.verify(second, 'same password here')).ok, true);
});

test('a wrong password fails, and case is significant (SEC-PWD-03)', async () => {
  const stored = await hasher.hash('Password');
  assert.deepEqual(await hasher.verify(stored, 'wrong password'), FAILED);
  assert.deepEqual(await hasher.verify(stored, 'password'), FAILED);
  assert.deepEqual(await hasher.verify(stored, 'PASSWORD'), FAILED);
  assert.equal((await hasher.verify(stored, 'Password')).ok, true);
});

test('spaces are significant: nothing is trimmed or collapsed (SEC-PWD-04)', async () => {
  const password = '  pass phrase 🙂 מילה  ';
  const stored = await hasher.hash(password);
  assert.equal((await hasher.verify(stored, password)).ok, true);
  assert.equal((await hasher.verify(stored, password.trim())).ok, false);
  assert.equal((await hasher.verify(stored, '  pass  phrase 🙂 מילה  ')).ok, false);
});

test('passwords differing only after a NUL are distinct (SEC-PWD-03)', async () => {
  const stored = await hasher.hash('abc\0def');
  assert.equal((await hasher.verify(stored, 'abc\0def')).ok, true);
  assert.equal((await hasher.verify(stored, 'abc\0xyz')).ok, false);
  assert.equal((await hasher.verify(stored, 'abc')).ok, false);
});

test('a hash with weaker parameters verifies and asks for a rehash', async () => {
  const weak = createPasswordHasher({ memoryKiB: 8192, iterations: 1, parallelism: 1 });
  const stored = await weak.hash('upgrade me please');
  assert.match(stored, /\$m=8192,t=1,p=1\$/);
  assert.deepEqual(await hasher.verify(stored, 'upgrade me please'), { ok: true, needsRehash: true });
  assert.deepEqual(await hasher.verify(stored, 'upgrade me pleasE'), FAILED);
  // Stronger than current is fine as it is.
  const strong = await createPasswordHasher({ memoryKiB: 19456, iterations: 3, parallelism: 1 }).hash('stronger');
  assert.deepEqual(await hasher.verify(strong, 'stronger'), { ok: true, needsRehash: false });
});

test('argon2i hashes verify and are upgraded to argon2id', async () => {
  const stored = await argon2Hash('imported argon2i', { algorithm: ARGON2I, memoryCost: 19456, timeCost: 2 });
  assert.match(stored, /^\$argon2i\$/);
  assert.deepEqual(await hasher.verify(stored, 'imported argon2i'), { ok: true, needsRehash: true });
  assert.deepEqual(await hasher.verify(stored, 'imported argon2I'), FAILED);
});

// The documented policy (SEC-PWD-05): NFKC when setting and when verifying, so canonically and
// compatibility-equivalent spellings are the same password.
test('NFKC: é (U+00E9) set, e + U+0301 accepted', async () => {
  const stored = await hasher.hash('caf\u00e9 au lait');
  assert.equal((await hasher.verify(stored, 'cafe\u0301 au lait')).ok, true);
  assert.equal((await hasher.verify(stored, 'caf\u00e9 au lait')).ok, true);
  assert.equal((await hasher.verify(stored, 'cafe au lait')).ok, false);
});

test('NFKC: full-width digits and ligatures equal their ASCII forms', async () => {
  const stored = await hasher.hash('pin \uff11\uff12\uff13\uff14 \ufb00');
  assert.equal((await hasher.verify(stored, 'pin 1234 ff')).ok, true);
  assert.equal(normalizePassword('\uff11\uff12\uff13\uff14'), '1234');
});

test('normalizePassword is NFKC and nothing else', () => {
  assert.equal(normalizePassword('  Pass Word  '), '  Pass Word  ');
  assert.equal(normalizePassword('e\u0301'), '\u00e9');
  assert.equal(normalizePassword('\ufb01'), 'fi');
});

test('an argon2id hash imported from a system that did not normalise verifies as typed, then is rehashed', async () => {
  const stored = await argon2Hash('cafe\u0301 noir', { memoryCost: 19456, timeCost: 2 });
  assert.deepEqual(await hasher.verify(stored, 'cafe\u0301 noir'), { ok: true, needsRehash: true });
  const upgraded = await hasher.hash('cafe\u0301 noir');
  assert.equal((await hasher.verify(upgraded, 'caf\u00e9 noir')).ok, true);
});

test('verifyDummy resolves false for any input, and its hash is a real one at the current cost', async () => {
  for (const password of ['', 'correct horse battery staple', 'cafe\u0301', '🙂'.repeat(64)]) {
    assert.equal(await hasher.verifyDummy(password), false);
  }
  const dummy = dummyArgon2Hash(DEFAULTS);
  assert.match(dummy, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.equal(isRecognisedHash(dummy), true);
  // A malformed hash makes the library throw without hashing (the early return that leaks account
  // existence); the dummy is computed in full and simply does not match.
  await assert.rejects(argon2Verify('$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'x'));
  assert.equal(await argon2Verify(dummy, 'x'), false);
  assert.deepEqual(await hasher.verify(dummy, 'x'), FAILED);
});

const GARBAGE = [
  '',
  'plaintext',
  'correct horse battery staple',
  '$argon2id$',
  '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', // salt and output too short
  '$argon2d$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
  '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA', // 4 GiB
  '$argon2id$v=19$m=19456,t=4294967295,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
  '$argon2id$v=19$m=19456,t=2,p=255$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA$extra',
  '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/', // md5-crypt
  '5f4dcc3b5aa765d61d8327deb882cf99', // unsalted md5
  '$'.repeat(1_000_000),
  `$argon2id$v=19$m=19456,t=2,p=1$${'A'.repeat(500_000)}$${'A'.repeat(500_000)}`,
];

test('garbage and absurd argon2 parameters fail closed: no throw, no hang', { timeout: 10_000 }, async () => {
  for (const stored of GARBAGE) {
    assert.deepEqual(await hasher.verify(stored, 'password'), FAILED, stored.slice(0, 60));
    assert.equal(isRecognisedHash(stored), false, stored.slice(0, 60));
  }
});
