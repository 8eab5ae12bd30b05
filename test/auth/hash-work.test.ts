/**
 * Password-hash work per sign-in, black-box through HTTP with the app's own hasher handed in so
 * its work can be counted (issue 14, items 5 and 8):
 * - SEC-PWD-10: every failed sign-in performs at least one full current-policy argon2id, whatever
 *   the account's stored hash — imported bcrypt 4, PBKDF2 1 000, cheap scrypt, argon2id at old
 *   parameters — exactly as an unknown or social-only account does. Counted, never timed.
 * - The hash queue is bounded: past it a sign-in is answered 503 with Retry-After at once, on the
 *   API and on the hosted sign-in page (never a 500), and it costs no hashing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON } from '../support/auth.ts';
import { createPasswordHasher } from '../../src/crypto/passwords/hasher.ts';
import { createConcurrencyLimit } from '../../src/crypto/passwords/limit.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { newId } from '../../src/crypto/random.ts';
import { createBrowser } from '../../src/ui/test-browser.ts';

const CURRENT = { memoryKiB: 19456, iterations: 2, parallelism: 1 };
const WRONG = 'not the password at all';
const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
const ab64 = (bytes: Buffer): string => b64(bytes).replace(/\+/g, '.');

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

/**
 * The response, once the request either settles or joins the hash queue (then it was held, not
 * refused at once: the assertion fails instead of the test hanging until the slot frees).
 */
async function answeredWithoutQueueing<T>(request: Promise<T>, waiting: () => number, depthBefore: number): Promise<T> {
  let settled = false;
  void request.finally(() => (settled = true)).catch(() => {});
  while (!settled) {
    assert.ok(waiting() <= depthBefore, 'the request was queued behind the busy slot instead of being refused at once');
    await new Promise((resolve) => setImmediate(resolve));
  }
  return request;
}

describe('password-hash work per sign-in (SEC-PWD-10) and the bounded hash queue', () => {
  // One slot and room for one waiting call, so the tests can fill the queue deterministically.
  const limit = createConcurrencyLimit(1, { maxQueue: 1, maxWaitMs: 60_000 });
  const hasher = createPasswordHasher(CURRENT, { limit });
  let t: TestApp;

  async function seed(email: string, passwordHash: string | null, options: { disabled?: boolean } = {}): Promise<void> {
    const at = Date.now();
    const created = await createSqlUserStore(t.storage.database.db).create({
      id: newId(at), email, name: null, emailVerifiedAt: at, passwordHash, roles: [], createdAt: at, updatedAt: at, disabledAt: options.disabled ? at : null,
    });
    assert.ok(created, email);
  }

  /** Status and full-cost argon2 computations of one API sign-in. */
  async function signInWork(email: string, password: string): Promise<{ status: number; error: unknown; full: number }> {
    const before = hasher.stats().fullCostComputations;
    const response = await postJSON(t, '/api/auth/sign-in', { email, password });
    return { status: response.statusCode, error: (response.json() as { error?: unknown }).error, full: hasher.stats().fullCostComputations - before };
  }

  before(async () => {
    t = await createTestApp({ passwordHasher: hasher });
    const salt = randomBytes(16);
    await seed('bcrypt4@example.com', await bcryptHash(PASSWORD, 4));
    await seed('pbkdf2@example.com', `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(pbkdf2Sync(PASSWORD, salt, 1000, 32, 'sha256'))}`);
    await seed('scrypt@example.com', `$scrypt$ln=4,r=1,p=1$${b64(salt)}$${b64(scryptSync(PASSWORD, salt, 32, { N: 16, r: 1, p: 1 }))}`);
    await seed('current@example.com', await hasher.hash(PASSWORD));
    await seed('old-params@example.com', await createPasswordHasher({ memoryKiB: 8192, iterations: 1, parallelism: 1 }).hash(PASSWORD));
    await seed('social-only@example.com', null);
    await seed('disabled-bcrypt@example.com', await bcryptHash(PASSWORD, 4), { disabled: true });
  });
  after(() => t.close());

  it('SEC-PWD-10: a failed sign-in costs one full current-policy argon2id for every kind of account', async () => {
    const unknown = await signInWork('nobody@example.com', WRONG);
    assert.deepEqual(unknown, { status: 401, error: 'invalid_credentials', full: 1 });
    for (const email of ['bcrypt4@example.com', 'pbkdf2@example.com', 'scrypt@example.com', 'current@example.com', 'old-params@example.com', 'social-only@example.com']) {
      const work = await signInWork(email, WRONG);
      assert.deepEqual(work, unknown, `${email}: same status, same error, same full-cost hash work as an unknown account`);
    }
    // The right password for a disabled imported account: the same generic failure, and no
    // cheaper than a wrong one (there is no rehash after it to pay for the hash).
    assert.deepEqual(await signInWork('disabled-bcrypt@example.com', PASSWORD), unknown);
  });

  it('a successful imported sign-in is upgraded to argon2id and its next failure costs the same', async () => {
    const first = await signInWork('bcrypt4@example.com', PASSWORD);
    assert.equal(first.status, 200);
    assert.equal(first.full, 2, 'the padding of the cheap check, then the rehash');
    const stored = (await createSqlUserStore(t.storage.database.db).findByEmail('bcrypt4@example.com'))?.passwordHash;
    assert.match(stored ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(await signInWork('bcrypt4@example.com', WRONG), { status: 401, error: 'invalid_credentials', full: 1 });
  });

  it('past the queue bound: 503 temporarily_unavailable with Retry-After at once, on the API and the sign-in page', async () => {
    const gate = deferred();
    const holder = limit.run(() => gate.promise); // the one hashing slot is busy
    try {
      const queued = postJSON(t, '/api/auth/sign-in', { email: 'current@example.com', password: PASSWORD });
      while (limit.waiting < 1) await new Promise((resolve) => setImmediate(resolve));

      const before = hasher.stats();
      const refused = await answeredWithoutQueueing(postJSON(t, '/api/auth/sign-in', { email: 'current@example.com', password: PASSWORD }), () => limit.waiting, 1);
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal((refused.json() as { error: string }).error, 'temporarily_unavailable');
      assert.ok(Number(refused.headers['retry-after']) >= 1, `Retry-After ${refused.headers['retry-after']}`);
      assert.equal(refused.body.includes(PASSWORD), false);

      const page = await answeredWithoutQueueing(createBrowser(t.app).submit('/login', '/login', { email: 'current@example.com', password: PASSWORD }), () => limit.waiting, 1);
      assert.equal(page.statusCode, 503, 'the hosted page shows the overload, not a 500');
      assert.ok(Number(page.headers['retry-after']) >= 1);
      assert.match(String(page.headers['content-type']), /text\/html/);
      assert.equal(page.body.includes(PASSWORD), false);

      assert.equal(hasher.stats().fullCostComputations, before.fullCostComputations, 'refused sign-ins did no hashing');
      assert.equal(hasher.stats().rejected.queue_full, before.rejected.queue_full + 2);
      assert.equal(limit.waiting, 1, 'the admitted sign-in is still waiting, not dropped');

      gate.resolve();
      assert.equal((await queued).statusCode, 200, 'the admitted sign-in completes once a slot frees');
    } finally {
      gate.resolve();
      await holder;
    }
    assert.match(t.logText(), /"statusCode":503/);
    assert.equal(t.logText().includes(PASSWORD), false, 'no password in the logs');
  });
});
