/**
 * SEC-PWD-10: a failed sign-in costs at least one full current-policy argon2id computation,
 * whatever the stored hash is, so a cheap imported hash (bcrypt 4, PBKDF2 1 000) does not answer
 * faster than an unknown account. Counted, not timed: the hasher's `stats()` reports each argon2
 * computation at the current cost and each cheaper one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { hash as argon2Hash, type Algorithm } from '@node-rs/argon2';
import { createPasswordHasher, type PasswordHasher } from './hasher.ts';

const CURRENT = { memoryKiB: 19456, iterations: 2, parallelism: 1 };
const hasher = createPasswordHasher(CURRENT);
const PASSWORD = 'imported password 1';
const WRONG = 'imported password 2';
const ARGON2I = 1 as Algorithm;
const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
const ab64 = (bytes: Buffer): string => b64(bytes).replace(/\+/g, '.');

async function storedHashes(): Promise<Record<string, string>> {
  const salt = randomBytes(16);
  return {
    'bcrypt cost 4': await bcryptHash(PASSWORD, 4),
    'PBKDF2-SHA256 1000 (passlib)': `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(pbkdf2Sync(PASSWORD, salt, 1000, 32, 'sha256'))}`,
    'PBKDF2-SHA256 1000 (Django)': `pbkdf2_sha256$1000$saltsaltsalt$${pbkdf2Sync(PASSWORD, 'saltsaltsalt', 1000, 32, 'sha256').toString('base64')}`,
    'scrypt N=16 r=1 p=1': `$scrypt$ln=4,r=1,p=1$${b64(salt)}$${b64(scryptSync(PASSWORD, salt, 32, { N: 16, r: 1, p: 1 }))}`,
    'argon2id current parameters': await hasher.hash(PASSWORD),
    'argon2id old parameters (m=8 MiB, t=1)': await createPasswordHasher({ memoryKiB: 8192, iterations: 1, parallelism: 1 }).hash(PASSWORD),
    'argon2i current parameters': await argon2Hash(PASSWORD, { algorithm: ARGON2I, memoryCost: 19456, timeCost: 2 }),
    'unrecognised format': '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/',
  };
}

/** Full-cost and cheaper computations done by one call. */
async function workOf(call: (h: PasswordHasher) => Promise<unknown>): Promise<{ full: number; cheaper: number }> {
  const before = hasher.stats();
  await call(hasher);
  const after = hasher.stats();
  return { full: after.fullCostComputations - before.fullCostComputations, cheaper: after.cheaperComputations - before.cheaperComputations };
}

test('SEC-PWD-10: a wrong password costs the same full argon2id work as an unknown account, whatever the stored hash', async () => {
  const unknown = await workOf((h) => h.verifyDummy(WRONG));
  assert.equal(unknown.full, 1, 'the dummy is one current-cost argon2id');
  for (const [kind, stored] of Object.entries(await storedHashes())) {
    let result: unknown;
    const work = await workOf(async (h) => (result = await h.verify(stored, WRONG)));
    assert.deepEqual(result, { ok: false, needsRehash: false }, kind);
    assert.equal(work.full, unknown.full, `${kind}: ${work.full} full-cost computations, an unknown account does ${unknown.full}`);
  }
});

test('SEC-PWD-10: with a password whose NFKC form differs (two forms tried), still no less than an unknown account', async () => {
  const password = 'cafe\u0301 wrong password';
  const unknown = await workOf((h) => h.verifyDummy(password));
  assert.equal(unknown.full, 2);
  for (const [kind, stored] of Object.entries(await storedHashes())) {
    const work = await workOf((h) => h.verify(stored, password));
    assert.ok(work.full >= unknown.full, `${kind}: ${work.full} < ${unknown.full}`);
  }
});

// A correct password against a cheap hash is padded too: the sign-in service rehashes after a
// success, but not when it then refuses the account (disabled: the same generic failure,
// SEC-PWD-09), and that refusal must not answer faster than a wrong password would.
test('SEC-PWD-10: a correct password against a cheap hash also costs a full argon2id before any rehash', async () => {
  for (const [kind, stored] of Object.entries(await storedHashes())) {
    if (kind === 'unrecognised format') continue;
    let result: { ok: boolean } | undefined;
    const work = await workOf(async (h) => (result = await h.verify(stored, PASSWORD)));
    assert.equal(result?.ok, true, kind);
    assert.ok(work.full >= 1, `${kind}: ${work.full} full-cost computations`);
  }
});

test('a current-cost argon2id hash is not padded: one computation, as before', async () => {
  const stored = await hasher.hash(PASSWORD);
  assert.deepEqual(await workOf((h) => h.verify(stored, WRONG)), { full: 1, cheaper: 0 });
  assert.deepEqual(await workOf((h) => h.verify(stored, PASSWORD)), { full: 1, cheaper: 0 });
  assert.deepEqual(await workOf((h) => h.hash(PASSWORD)), { full: 1, cheaper: 0 });
});
