/**
 * Issue 14 item 6 (SEC-PWD-12, SEC-PWD-09): every mail that a stranger can cause is capped per
 * recipient, and the cap is shared by every instance. Seen before: 8 sign-ups with a registered
 * address from 8 IPs sent its owner 8 "someone tried to sign up" mails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { RECIPIENT_CAPS } from '../../src/features/email/recipient-caps.ts';

/** Background mail work is fire-and-forget: wait until `count()` stops changing. */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100 && count() !== last; i++) {
    last = count();
    await sleep(50);
  }
  return count();
}

const from = (n: number) => ({ 'x-forwarded-for': `203.0.113.${n}` });

async function strangerSignUps(apps: TestApp[], email: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const response = await postJSON(apps[i % apps.length]!, '/api/auth/sign-up', { email, password: 'a stranger tries this address' }, from(i));
    assert.equal(response.statusCode, 202, 'the sign-up answers as always (no enumeration)');
  }
}

const mailsTo = (apps: TestApp[], email: string, subject: RegExp) => () => apps.flatMap((t) => t.mails).filter((m) => m.to === email && subject.test(m.subject)).length;

describe('per-recipient mail caps, one instance (SQLite, in-process store)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('8 sign-ups with a registered address send its owner at most the cap of "already registered" mails', async () => {
    await registerAndSignIn(t, 'owner@example.com');
    const count = mailsTo([t], 'owner@example.com', /tried to sign up/);
    const before = count();
    await strangerSignUps([t], 'owner@example.com', 8);
    assert.equal((await settled(count)) - before, RECIPIENT_CAPS['already-registered'].limit);
  });

  it('forgot-password mails stay capped per recipient; the answer never changes', async () => {
    await registerAndSignIn(t, 'forgetful@example.com');
    const count = mailsTo([t], 'forgetful@example.com', /reset/i);
    for (let i = 0; i < 6; i++) assert.equal((await postJSON(t, '/api/auth/forgot-password', { email: 'forgetful@example.com' }, from(i))).statusCode, 202);
    assert.equal(await settled(count), RECIPIENT_CAPS['password-reset'].limit);
  });

  it('the cap is per recipient: another address still gets its mail', async () => {
    await registerAndSignIn(t, 'neighbour@example.com');
    const count = mailsTo([t], 'neighbour@example.com', /tried to sign up/);
    const before = count();
    await strangerSignUps([t], 'neighbour@example.com', 1);
    assert.equal((await settled(count)) - before, 1);
  });
});

const pg = await probePostgres();
const redis = await probeRedis();

describe('per-recipient mail caps across two instances (PostgreSQL + Redis)', { skip: skipUnless(pg) || skipUnless(redis) }, () => {
  let a: TestApp;
  let b: TestApp;
  let drop: () => Promise<void>;
  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    const env = { GATEHOUSE_DATABASE_URL: scratch.url, GATEHOUSE_REDIS_URL: redisUrl(), GATEHOUSE_REDIS_PREFIX: testRedisPrefix() };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await drop?.();
  });

  it('sign-ups alternating between the instances share one cap', async () => {
    await registerAndSignIn(a, 'shared-owner@example.com', PASSWORD);
    const count = mailsTo([a, b], 'shared-owner@example.com', /tried to sign up/);
    const before = count();
    await strangerSignUps([a, b], 'shared-owner@example.com', 8);
    assert.equal((await settled(count)) - before, RECIPIENT_CAPS['already-registered'].limit);
  });
});
