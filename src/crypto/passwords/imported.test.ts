import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { createPasswordHasher, isRecognisedHash } from './hasher.ts';

// Imported hashes go through the public hasher: a success always asks for an argon2id rehash.
const hasher = createPasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
const UPGRADE = { ok: true, needsRehash: true };
const FAILED = { ok: false, needsRehash: false };

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
const ab64 = (bytes: Buffer): string => b64(bytes).replace(/\+/g, '.');

// --- bcrypt -----------------------------------------------------------------------------------

test('bcrypt: published OpenBSD test vectors', async () => {
  // From the OpenBSD / OpenWall crypt_blowfish test vectors.
  assert.deepEqual(await hasher.verify('$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'U*U'), UPGRADE);
  assert.deepEqual(await hasher.verify('$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'U*V'), FAILED);
  assert.deepEqual(await hasher.verify('$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy', ''), UPGRADE);
});

test('bcrypt: $2a$, $2b$ and $2y$ hashes made by the library verify; wrong passwords fail', async () => {
  for (const version of ['2a', '2b', '2y'] as const) {
    // The library writes $2y$; $2a$ and $2b$ are the same algorithm under other prefixes.
    const stored = (await bcryptHash('imported from PHP', 4)).replace(/^\$2[aby]\$/, `$${version}$`);
    assert.ok(stored.startsWith(`$${version}$04$`));
    assert.equal(isRecognisedHash(stored), true);
    assert.deepEqual(await hasher.verify(stored, 'imported from PHP'), UPGRADE);
    assert.deepEqual(await hasher.verify(stored, 'imported from php'), FAILED);
  }
});

test('bcrypt 72-byte truncation: passwords equal in the first 72 bytes do not both log in (SEC-PWD-03)', async () => {
  const stored = await bcryptHash('A'.repeat(72) + 'x', 4);
  assert.deepEqual(await hasher.verify(stored, 'A'.repeat(72) + 'y'), FAILED);
  // Longer than 72 bytes is refused outright, even the original: that user resets the password.
  assert.deepEqual(await hasher.verify(stored, 'A'.repeat(72) + 'x'), FAILED);
  // The hash only ever held the first 72 bytes; that exact password is the one that still works.
  assert.deepEqual(await hasher.verify(stored, 'A'.repeat(72)), UPGRADE);

  // OpenWall crypt_blowfish vector whose password runs past 72 bytes.
  const long = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored';
  const vector = '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui';
  assert.deepEqual(await hasher.verify(vector, long), FAILED);
  assert.deepEqual(await hasher.verify(vector, long.slice(0, 72)), UPGRADE);
});

test('bcrypt 72-byte limit counts UTF-8 bytes: 40 × é (80 bytes) is refused', async () => {
  const stored = await bcryptHash('é'.repeat(40), 4);
  assert.deepEqual(await hasher.verify(stored, 'é'.repeat(40)), FAILED);
  assert.deepEqual(await hasher.verify(stored, 'é'.repeat(36) + 'other tail'), FAILED);
  const short = await bcryptHash('é'.repeat(36), 4); // exactly 72 bytes
  assert.deepEqual(await hasher.verify(short, 'é'.repeat(36)), UPGRADE);
});

test('bcrypt: the password as typed first, then its NFKC form', async () => {
  const rawStored = await bcryptHash('pin \uff11\uff12\uff13\uff14', 4); // origin kept full-width
  assert.deepEqual(await hasher.verify(rawStored, 'pin \uff11\uff12\uff13\uff14'), UPGRADE);
  const normalizedStored = await bcryptHash('pin 1234', 4);
  assert.deepEqual(await hasher.verify(normalizedStored, 'pin \uff11\uff12\uff13\uff14'), UPGRADE);
});

test('bcrypt: NUL bytes are not a terminator', async () => {
  const stored = await bcryptHash('abc\0def', 4);
  assert.deepEqual(await hasher.verify(stored, 'abc\0xyz'), FAILED);
  assert.deepEqual(await hasher.verify(stored, 'abc'), FAILED);
});

// --- scrypt -----------------------------------------------------------------------------------

test('scrypt: a hash computed here with node:crypto', async () => {
  const salt = randomBytes(16);
  const key = scryptSync('imported scrypt', salt, 32, { N: 1024, r: 8, p: 1 });
  const stored = `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(key)}`;
  assert.equal(isRecognisedHash(stored), true);
  assert.deepEqual(await hasher.verify(stored, 'imported scrypt'), UPGRADE);
  assert.deepEqual(await hasher.verify(stored, 'imported scrypT'), FAILED);
});

test('scrypt: RFC 7914 §12 vector ("password", "NaCl", N=1024, r=8, p=16, 64 bytes)', async () => {
  const key = Buffer.from(
    'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162' +
      '2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    'hex',
  );
  const stored = `$scrypt$ln=10,r=8,p=16$${b64(Buffer.from('NaCl'))}$${b64(key)}`;
  assert.deepEqual(await hasher.verify(stored, 'password'), UPGRADE);
  assert.deepEqual(await hasher.verify(stored, 'Password'), FAILED);
});

test('scrypt: passlib documentation vector', async () => {
  const stored = '$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ';
  assert.deepEqual(await hasher.verify(stored, 'password'), UPGRADE);
});

// --- PBKDF2-SHA256 ------------------------------------------------------------------------------

test('pbkdf2-sha256: passlib and Django forms computed here with node:crypto', async () => {
  const salt = randomBytes(16);
  const key = pbkdf2Sync('imported pbkdf2', salt, 1000, 32, 'sha256');
  const passlib = `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(key)}`;
  assert.deepEqual(await hasher.verify(passlib, 'imported pbkdf2'), UPGRADE);
  assert.deepEqual(await hasher.verify(passlib, 'imported pbkdf'), FAILED);

  const djangoKey = pbkdf2Sync('imported pbkdf2', 'Hx7sLq2pZt9w', 1000, 32, 'sha256');
  const django = `pbkdf2_sha256$1000$Hx7sLq2pZt9w$${djangoKey.toString('base64')}`;
  assert.equal(isRecognisedHash(django), true);
  assert.deepEqual(await hasher.verify(django, 'imported pbkdf2'), UPGRADE);
  assert.deepEqual(await hasher.verify(django, 'imported pbkdf3'), FAILED);
});

test('pbkdf2-sha256: published vectors', async () => {
  // RFC 6070-style PBKDF2-HMAC-SHA256 vector: "password", "salt", c=1, dkLen=32.
  const key = Buffer.from('120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b', 'hex');
  assert.deepEqual(await hasher.verify(`$pbkdf2-sha256$1$${ab64(Buffer.from('salt'))}$${ab64(key)}`, 'password'), UPGRADE);
  assert.deepEqual(await hasher.verify(`pbkdf2_sha256$1$salt$${key.toString('base64')}`, 'password'), UPGRADE);
  // passlib documentation.
  assert.deepEqual(await hasher.verify('$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M', 'password'), UPGRADE);
  // Django's test suite (make_password("lètmein", "seasalt", "pbkdf2_sha256")), non-ASCII password.
  const django = 'pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps=';
  assert.deepEqual(await hasher.verify(django, 'lètmein'), UPGRADE);
  assert.deepEqual(await hasher.verify(django, 'letmein'), FAILED);
});

// --- garbage and absurd parameters ----------------------------------------------------------------

const SALT = b64(Buffer.from('0123456789abcdef'));
const KEY = b64(Buffer.alloc(32, 7));
const REFUSED = [
  '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', // 2x: the buggy variant
  '$2b$16$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', // cost 16: ~5 s per attempt
  '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', // cost 31: days
  '$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
  '$2b$05$short',
  `$scrypt$ln=21,r=8,p=1$${SALT}$${KEY}`, // N > 2^20
  `$scrypt$ln=20,r=8,p=1$${SALT}$${KEY}`, // 1 GiB of memory
  `$scrypt$ln=16,r=8,p=999$${SALT}$${KEY}`, // hours of work
  `$scrypt$ln=10,r=8,p=1$${SALT}$${b64(Buffer.alloc(4))}`, // 4-byte key
  `$scrypt$ln=10,r=8,p=1$${SALT}$A`, // not base64
  '$scrypt$ln=abc,r=8,p=1$$',
  `$pbkdf2-sha256$10000001$${SALT}$${KEY}`, // > 10 million iterations
  `$pbkdf2-sha256$0$${SALT}$${KEY}`,
  `$pbkdf2-sha256$99999999999$${SALT}$${KEY}`,
  `pbkdf2_sha256$4294967295$salt$${KEY}=`,
  `pbkdf2_sha256$1000$salt$not base64!`,
  `pbkdf2_sha1$1000$salt$${KEY}=`,
];

test('unknown formats and absurd parameters fail closed: no throw, no hang', { timeout: 10_000 }, async () => {
  for (const stored of REFUSED) {
    assert.equal(isRecognisedHash(stored), false, stored);
    assert.deepEqual(await hasher.verify(stored, 'password'), FAILED, stored);
  }
});
