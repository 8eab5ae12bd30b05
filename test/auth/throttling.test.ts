/**
 * Rate limits and lockout, black-box (SEC-PWD-11…14, SEC-REL-09 in-process and over Redis).
 * The device-cookie rules (OWASP device cookies) are what keep SEC-PWD-14: an attacker without
 * the owner's browser cannot lock the owner out.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, setCookie, signIn } from '../support/auth.ts';
import { createOAuthApp } from '../support/oauth.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';
import { createBrowser, linkFromMail, localPart, type PageBrowser } from '../../src/ui/test-browser.ts';

const DEVICE = '__Host-gatehouse-device';
const NEW_PASSWORD = 'a brand new passphrase for the owner';
const fromIp = (ip: string) => ({ 'x-forwarded-for': ip });

/** `name=value` of the device cookie a response set (asserts it is there, with the right attributes). */
function deviceCookie(response: LightMyRequestResponse): string {
  const cookie = setCookie(response, DEVICE);
  assert.ok(cookie, 'a device cookie was set');
  for (const attribute of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax']) assert.ok(cookie.split('; ').includes(attribute), `${attribute} in ${cookie}`);
  assert.match(cookie, /Max-Age=\d+/);
  return cookie.split(';')[0]!;
}

/** Wrong passwords for `email` from `count` different addresses; returns the statuses. */
async function attack(t: TestApp, email: string, count: number, tag = 'x'): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await postJSON(t, '/api/auth/sign-in', { email, password: `attacker guess ${tag} ${i}` }, fromIp(`203.0.${100 + (i % 100)}.${(i * 7) % 250 + 1}`));
    statuses.push(response.statusCode);
  }
  return statuses;
}

/** A sign-in form submission from a page browser. */
function pageSignIn(browser: PageBrowser, email: string, password: string): Promise<LightMyRequestResponse> {
  return browser.submit('/login', '/login', { email, password });
}

/** The wait the 429 text announces, checked against Retry-After (SEC-PWD-14: the owner knows how long). */
function assertWaitAnnounced(response: LightMyRequestResponse, text: string): void {
  assert.equal(response.statusCode, 429);
  const seconds = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(seconds) && seconds >= 1, `Retry-After ${response.headers['retry-after']}`);
  const match = /Too many (?:sign-in )?attempts\..*?try again in (\d+) (second|minute|hour)s?\./is.exec(text);
  assert.ok(match, text.slice(0, 300));
  // Rounded up to the unit shown (tr.duration): never a wait shorter than Retry-After.
  const unit = { second: 1, minute: 60, hour: 3600 }[match[2] as 'second' | 'minute' | 'hour'];
  assert.equal(Number(match[1]), Math.ceil(seconds / unit));
}

/** Waits (bounded) until `predicate` holds over the app's mails — the lockout mail is sent in the background. */
async function mailsUntil(t: TestApp, predicate: () => boolean): Promise<void> {
  for (let round = 0; round < 500 && !predicate(); round++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(predicate(), 'the expected mail arrived');
}

const lockoutMails = (t: TestApp, to: string) => t.mails.filter((mail) => mail.to === to && /paused/.test(mail.subject));

describe('throttling (SEC-PWD-11…13)', () => {
  let t: TestApp;
  let clock = 1_800_000_000_000;
  before(async () => {
    // Requests arrive through a trusted proxy at 10.0.0.1, which sets X-Forwarded-For.
    t = await createTestApp({ now: () => clock, env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '30' } });
  });
  after(() => t.close());

  it('SEC-PWD-11: failures from many IPs lock the account temporarily; Retry-After is sent; the lock ends', async () => {
    await registerAndSignIn(t, 'victim@example.com', PASSWORD, fromIp('198.51.100.1'));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await postJSON(t, '/api/auth/sign-in', { email: 'victim@example.com', password: `wrong guess ${i}` }, fromIp(`203.0.113.${i + 10}`));
      statuses.push(response.statusCode);
      if (response.statusCode === 429) assert.ok(Number(response.headers['retry-after']) >= 1);
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.ok(statuses.slice(5).every((status) => status === 429), statuses.join(','));
    const locked = await postJSON(t, '/api/auth/sign-in', { email: 'victim@example.com', password: PASSWORD }, fromIp('198.51.100.1'));
    assert.equal(locked.statusCode, 429, 'during the lock even the right password waits');
    assert.equal(locked.json().error, 'too_many_requests');
    clock += Number(locked.headers['retry-after']) * 1000 + 1000;
    const after = await postJSON(t, '/api/auth/sign-in', { email: 'victim@example.com', password: PASSWORD }, fromIp('198.51.100.1'));
    assert.equal(after.statusCode, 200, 'the lock is temporary');
    const events = await t.storage.database.db.selectFrom('audit_events').select(['type', 'outcome']).where('type', '=', 'lockout').execute();
    assert.ok(events.length >= 1, 'lockouts are audited');
  });

  it('unknown accounts lock exactly like real ones (no enumeration through the lockout)', async () => {
    const real: number[] = [];
    const unknown: number[] = [];
    await registerAndSignIn(t, 'real-lock@example.com', PASSWORD, fromIp('198.51.100.2'));
    for (let i = 0; i < 7; i++) {
      real.push((await postJSON(t, '/api/auth/sign-in', { email: 'real-lock@example.com', password: 'nope nope nope' }, fromIp(`192.0.2.${i + 1}`))).statusCode);
      unknown.push((await postJSON(t, '/api/auth/sign-in', { email: 'ghost-lock@example.com', password: 'nope nope nope' }, fromIp(`192.0.2.${i + 1}`))).statusCode);
    }
    assert.deepEqual(real, unknown);
  });

  it('50 parallel wrong passwords cannot exceed the failure limit', async () => {
    await registerAndSignIn(t, 'parallel@example.com', PASSWORD, fromIp('198.51.100.3'));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => postJSON(t, '/api/auth/sign-in', { email: 'parallel@example.com', password: `guess ${i}` }, fromIp(`100.64.${i}.1`))),
    );
    const checked = responses.filter((response) => response.statusCode === 401).length;
    const throttled = responses.filter((response) => response.statusCode === 429).length;
    assert.equal(checked, 5, 'exactly the threshold of password checks');
    assert.equal(throttled, 45);
    const user = await t.storage.database.db.selectFrom('users').select('id').where('email', '=', 'parallel@example.com').executeTakeFirstOrThrow();
    const failures = await t.storage.database.db.selectFrom('audit_events').select('id').where('user_id', '=', user.id).where('type', '=', 'sign-in').where('outcome', '=', 'failure').execute();
    assert.equal(failures.length, 5);
  });

  it('SEC-PWD-12: one IP spraying many accounts gets 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) {
      const response = await postJSON(t, '/api/auth/sign-in', { email: `spray${i}@example.com`, password: 'Summer2024!' }, fromIp('203.0.113.200'));
      statuses.push(response.statusCode);
    }
    assert.ok(statuses.slice(0, 30).every((status) => status === 401));
    assert.ok(statuses.slice(30).every((status) => status === 429));
  });

  it('SEC-PWD-12: IPv6 clients are limited by /64', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) {
      const response = await postJSON(t, '/api/auth/sign-in', { email: `v6spray${i}@example.com`, password: 'Summer2024!' }, fromIp(`2001:db8:1:2::${(i + 1).toString(16)}`));
      statuses.push(response.statusCode);
    }
    assert.ok(statuses.slice(30).every((status) => status === 429), 'rotating addresses inside one /64 does not reset the count');
  });

  it('SEC-PWD-13: spoofed forwarding headers from an untrusted peer do not change the key', async () => {
    const direct = await createTestApp({ env: { GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '10' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        const response = await postJSON(direct, '/api/auth/sign-in', { email: `spoof${i}@example.com`, password: 'Summer2024!' }, {
          'x-forwarded-for': `10.9.${i}.1`, forwarded: `for=10.8.${i}.1`, 'x-real-ip': `10.7.${i}.1`, 'true-client-ip': `10.6.${i}.1`, 'cf-connecting-ip': `10.5.${i}.1`,
        });
        statuses.push(response.statusCode);
      }
      assert.ok(statuses.slice(10).every((status) => status === 429), statuses.join(','));
    } finally {
      await direct.close();
    }
  });
});

describe('SEC-PWD-14: the lockout cannot keep the owner out (device cookies)', () => {
  let t: TestApp;
  let clock = 1_800_000_000_000;
  let users = 0;
  before(async () => {
    // Page browsers all come from 127.0.0.1; the per-IP limit is not what these tests are about.
    t = await createOAuthApp({ now: () => clock, env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '1000' } });
  });
  after(() => t.close());

  /** A verified account, signed in once in a hosted-page browser, which is now a trusted device. */
  async function ownerWithDevice(): Promise<{ email: string; owner: PageBrowser }> {
    users += 1;
    const email = `owner-${users}@example.com`;
    await registerAndSignIn(t, email, PASSWORD, fromIp('198.51.100.50'));
    const owner = createBrowser(t.app);
    const signedIn = await pageSignIn(owner, email, PASSWORD);
    assert.equal(signedIn.statusCode, 303, signedIn.body);
    deviceCookie(signedIn);
    return { email, owner };
  }

  it('an attacker failing from many IPs, again every few minutes, locks out untrusted devices only; the owner\'s browser signs in throughout', async () => {
    const { email, owner } = await ownerWithDevice();
    for (let round = 0; round < 6; round++) {
      const statuses = await attack(t, email, 8, String(round));
      assert.ok(statuses.includes(429), `round ${round}: the attacker is locked out (${statuses.join(',')})`);
      // A new browser, even with the right password, waits — and is told for how long.
      const stranger = await pageSignIn(createBrowser(t.app), email, PASSWORD);
      assertWaitAnnounced(stranger, stranger.body);
      const json = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD }, fromIp('198.51.100.51'));
      assertWaitAnnounced(json, json.json().error_description);
      // The owner's browser is not affected.
      const mine = await pageSignIn(owner, email, PASSWORD);
      assert.equal(mine.statusCode, 303, `round ${round}: ${mine.body.slice(0, 200)}`);
      clock += 3 * 60_000;
    }
  });

  it('a completed password reset trusts the browser that did it, though the attacker re-locks the account at once', async () => {
    const { email } = await ownerWithDevice();
    await attack(t, email, 6);
    const laptop = createBrowser(t.app); // a browser that never signed in: untrusted
    assert.equal((await pageSignIn(laptop, email, PASSWORD)).statusCode, 429);

    assert.equal((await postJSON(t, '/api/auth/forgot-password', { email }, fromIp('198.51.100.52'))).statusCode, 202);
    const link = localPart(await linkFromMail(t.mails, email, '/reset-password'));
    const token = new URL(link, 'https://x.example').searchParams.get('token')!;
    const reset = await laptop.submit(link, '/reset-password', { token, password: NEW_PASSWORD });
    assert.equal(reset.statusCode, 303, reset.body);
    deviceCookie(reset);

    assert.ok((await attack(t, email, 6, 'after reset')).includes(429), 'the attacker locks the account again');
    assert.equal((await pageSignIn(createBrowser(t.app), email, NEW_PASSWORD)).statusCode, 429, 'untrusted devices are locked out');
    assert.equal((await pageSignIn(laptop, email, NEW_PASSWORD)).statusCode, 303, 'the resetting browser signs in');
  });

  it('a reset through the JSON API trusts that client too', async () => {
    const { email } = await ownerWithDevice();
    assert.equal((await postJSON(t, '/api/auth/forgot-password', { email }, fromIp('198.51.100.53'))).statusCode, 202);
    const token = new URL(await linkFromMail(t.mails, email, '/reset-password')).searchParams.get('token')!;
    const reset = await postJSON(t, '/api/auth/reset-password', { token, password: NEW_PASSWORD }, fromIp('198.51.100.53'));
    assert.equal(reset.statusCode, 200, reset.body);
    const device = deviceCookie(reset);
    await attack(t, email, 6);
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email, password: NEW_PASSWORD }, fromIp('198.51.100.53'))).statusCode, 429);
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email, password: NEW_PASSWORD }, { ...fromIp('198.51.100.53'), cookie: device })).statusCode, 200);
  });

  it('change-password has a budget per session: a stranger locking the account cannot block the signed-in owner, and wrong guesses lock only that session', async () => {
    const email = `changer-${(users += 1)}@example.com`;
    const owner = await registerAndSignIn(t, email, PASSWORD, fromIp('198.51.100.60'));
    const thief = await signIn(t, email, PASSWORD, fromIp('198.51.100.61'));
    await attack(t, email, 8);
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD }, fromIp('198.51.100.62'))).statusCode, 429, 'the account is locked for untrusted devices');
    // A session guessing the current password locks only itself.
    const guesses: number[] = [];
    for (let i = 0; i < 7; i++) guesses.push((await postJSON(t, '/api/auth/change-password', { current_password: `guess ${i}`, new_password: NEW_PASSWORD }, { cookie: thief })).statusCode);
    assert.ok(guesses.includes(429), `the guessing session is locked (${guesses.join(',')})`);
    assert.ok(guesses.filter((status) => status === 401).length <= 5, 'at most the threshold of guesses were checked');
    const changed = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, { cookie: owner });
    assert.equal(changed.statusCode, 200, `the owner changes the password despite both lockouts: ${changed.body}`);
  });

  it('each trusted device has its own attempt budget: failures on one lock out only that device', async () => {
    const { email, owner } = await ownerWithDevice();
    const phone = createBrowser(t.app);
    assert.equal((await pageSignIn(phone, email, PASSWORD)).statusCode, 303);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await pageSignIn(owner, email, `typo ${i}`)).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    const locked = await pageSignIn(owner, email, PASSWORD);
    assertWaitAnnounced(locked, locked.body);
    assert.equal((await pageSignIn(phone, email, PASSWORD)).statusCode, 303, 'the other trusted device is unaffected');
    assert.equal((await pageSignIn(createBrowser(t.app), email, PASSWORD)).statusCode, 303, 'so are untrusted devices');
    clock += Number(locked.headers['retry-after']) * 1000;
    assert.equal((await pageSignIn(owner, email, PASSWORD)).statusCode, 303, 'the device lock ends');
  });

  it('a forged device cookie, or one for another account, is just untrusted', async () => {
    const alice = await ownerWithDevice();
    const bob = await ownerWithDevice();
    const aliceDevice = `${DEVICE}=${alice.owner.jar.get(DEVICE)!}`;
    const bobDevice = `${DEVICE}=${bob.owner.jar.get(DEVICE)!}`;
    const [nonce, issued, signature] = alice.owner.jar.get(DEVICE)!.split('.') as [string, string, string];
    const forged = `${DEVICE}=${nonce}.${issued}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await attack(t, alice.email, 6);
    const tryWith = (cookie: string) => postJSON(t, '/api/auth/sign-in', { email: alice.email, password: PASSWORD }, { ...fromIp('198.51.100.54'), cookie });
    assert.equal((await tryWith(bobDevice)).statusCode, 429, 'bob\'s device cookie does not unlock alice');
    assert.equal((await tryWith(forged)).statusCode, 429, 'an altered signature is not trusted');
    assert.equal((await tryWith(`${DEVICE}=garbage!`)).statusCode, 429);
    assert.equal((await tryWith(aliceDevice)).statusCode, 200, 'alice\'s own device cookie is');
    // Unknown accounts with somebody's device cookie lock exactly like unknown accounts without (no enumeration).
    const ghost: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < 7; i++) {
      ghost.push((await postJSON(t, '/api/auth/sign-in', { email: 'ghost-device@example.com', password: 'nope nope nope' }, { ...fromIp(`192.0.2.${i + 100}`), cookie: aliceDevice })).statusCode);
      plain.push((await postJSON(t, '/api/auth/sign-in', { email: 'ghost-plain@example.com', password: 'nope nope nope' }, fromIp(`192.0.2.${i + 100}`))).statusCode);
    }
    assert.deepEqual(ghost, plain);
  });

  it('first-party token sign-in (mobile) binds the app with a device_token that works like the cookie', async () => {
    const { email } = await ownerWithDevice();
    const first = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' }, fromIp('198.51.100.55'));
    assert.equal(first.statusCode, 200, first.body);
    const deviceToken = first.json().device_token as string;
    assert.match(deviceToken, /^[A-Za-z0-9_-]{22}\.[0-9a-z]{1,9}\.[A-Za-z0-9_-]{43}$/);
    await attack(t, email, 6);
    const without = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile' }, fromIp('198.51.100.55'));
    assert.equal(without.statusCode, 429, 'an app without its device token is untrusted');
    const bound = await postJSON(t, '/api/auth/sign-in', { email, password: PASSWORD, client_id: 'mobile', device_token: deviceToken }, fromIp('198.51.100.55'));
    assert.equal(bound.statusCode, 200, bound.body);
    assert.equal(typeof bound.json().access_token, 'string');
    assert.notEqual(bound.json().device_token, deviceToken, 'renewed with a fresh nonce');
  });

  it('the owner gets one mail when a lockout engages, however often it is locked; unknown accounts get none', async () => {
    const { email } = await ownerWithDevice();
    await attack(t, email, 6);
    await mailsUntil(t, () => lockoutMails(t, email).length >= 1);
    const [mail] = lockoutMails(t, email);
    assert.match(mail!.text, /paused for 1 minute/);
    assert.doesNotMatch(mail!.text, /https?:\/\//, 'no link in a notification');
    // Locked again twice (each after the previous lock ended), and an unknown account too.
    for (let round = 0; round < 2; round++) {
      clock += 16 * 60_000;
      assert.ok((await attack(t, email, 6, `again ${round}`)).includes(429));
    }
    await attack(t, 'ghost-mail@example.com', 6);
    // A later lockout on another account is mailed; by then the earlier ones were handled.
    const sentinel = await ownerWithDevice();
    await attack(t, sentinel.email, 6);
    await mailsUntil(t, () => lockoutMails(t, sentinel.email).length === 1);
    assert.equal(lockoutMails(t, email).length, 1, 'one mail per account per 24 h');
    assert.equal(t.mails.filter((m) => m.to === 'ghost-mail@example.com').length, 0);
    const user = await t.storage.database.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
    const audited = await t.storage.database.db.selectFrom('audit_events').select('detail').where('type', '=', 'lockout').where('user_id', '=', user.id).execute();
    assert.equal(audited.length, 1, 'the notification is audited against the account');
  });
});

describe('SEC-PWD-11 / SEC-PWD-14: the device budgets never add up past 100 failures an hour, and a password change revokes every device', () => {
  let t: TestApp;
  let clock = 1_800_000_000_000;
  before(async () => {
    t = await createOAuthApp({ now: () => clock, env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000', GATEHOUSE_LOCKOUT_THRESHOLD: '60', GATEHOUSE_LOCKOUT_BASE_DELAY_SECONDS: '3600', GATEHOUSE_LOCKOUT_MAX_DELAY_SECONDS: '3600' } });
  });
  after(() => t.close());

  it('untrusted failures plus a stolen device entry are checked at most 100 times in the hour', async () => {
    const email = 'ceiling@example.com';
    await registerAndSignIn(t, email, PASSWORD, fromIp('198.51.100.70'));
    const stolen = createBrowser(t.app);
    assert.equal((await pageSignIn(stolen, email, PASSWORD)).statusCode, 303, 'the device entry an attacker will hold');
    const untrusted = await attack(t, email, 70);
    assert.equal(untrusted.filter((status) => status === 401).length, 60, 'the untrusted budget: 60 checks, then locked');
    const trusted: number[] = [];
    for (let i = 0; i < 60; i++) trusted.push((await pageSignIn(stolen, email, `stolen device guess ${i}`)).statusCode);
    const checked = trusted.filter((status) => status === 200 || status === 401).length;
    assert.equal(checked, 40, `the device's own budget stops at the account ceiling of 100 (${trusted.join(',')})`);
    assert.ok(trusted.slice(40).every((status) => status === 429), 'then 429');
    clock += 3_600_000 + 1000;
    assert.equal((await pageSignIn(stolen, email, PASSWORD)).statusCode, 303, 'an hour later the device signs in');
  });

  it('a device trusted before a password change is untrusted after it', async () => {
    const email = 'changed@example.com';
    const session = await registerAndSignIn(t, email, PASSWORD, fromIp('198.51.100.71'));
    const old = createBrowser(t.app);
    assert.equal((await pageSignIn(old, email, PASSWORD)).statusCode, 303);
    const changed = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, { cookie: session, ...fromIp('198.51.100.71') });
    assert.equal(changed.statusCode, 200, changed.body);
    await attack(t, email, 61, 'after change');
    assert.equal((await pageSignIn(old, email, NEW_PASSWORD)).statusCode, 429, 'the old device entry no longer selects its own budget');
  });
});

const redis = await probeRedis();
const postgres = await probePostgres();

describe('SEC-REL-09 / SEC-PWD-14 across instances: two apps sharing Redis and PostgreSQL', { skip: skipUnless(redis) || skipUnless(postgres) }, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    database = await createTestDatabase();
    // A long first lock: the test makes no assumption about how fast it runs.
    const env = {
      GATEHOUSE_DATABASE_URL: database.url,
      GATEHOUSE_REDIS_URL: redisUrl(),
      GATEHOUSE_REDIS_PREFIX: testRedisPrefix(),
      GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1',
      GATEHOUSE_LOCKOUT_BASE_DELAY_SECONDS: '600',
    };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('attempts alternating between instances share one budget; the owner\'s device cookie from A works on B; one mail in all', async () => {
    const email = 'cluster-owner@example.com';
    await registerAndSignIn(a, email, PASSWORD, fromIp('198.51.100.60'));
    const device = deviceCookie(await postJSON(a, '/api/auth/sign-in', { email, password: PASSWORD }, fromIp('198.51.100.60')));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const app = i % 2 === 0 ? a : b;
      statuses.push((await postJSON(app, '/api/auth/sign-in', { email, password: `guess ${i}` }, fromIp(`203.0.113.${i + 1}`))).statusCode);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429], 'five in all, not five per instance');
    for (const app of [a, b]) {
      const locked = await postJSON(app, '/api/auth/sign-in', { email, password: PASSWORD }, fromIp('198.51.100.61'));
      assertWaitAnnounced(locked, locked.json().error_description);
      assert.ok(Number(locked.headers['retry-after']) > 60, 'the lock set on one instance holds on the other');
    }
    const trusted = await postJSON(b, '/api/auth/sign-in', { email, password: PASSWORD }, { ...fromIp('198.51.100.60'), cookie: device });
    assert.equal(trusted.statusCode, 200, 'a device cookie issued by A is trusted by B');
    await mailsUntil(a, () => lockoutMails(a, email).length + lockoutMails(b, email).length >= 1);

    // A reset on B clears the lock; the attacker locks it again through B: a second lockout
    // within 24 h, on the other instance, sends no second mail (the cap is in Redis).
    assert.equal((await postJSON(b, '/api/auth/forgot-password', { email }, fromIp('198.51.100.60'))).statusCode, 202);
    const token = new URL(await linkFromMail([...a.mails, ...b.mails], email, '/reset-password')).searchParams.get('token')!;
    assert.equal((await postJSON(b, '/api/auth/reset-password', { token, password: NEW_PASSWORD }, fromIp('198.51.100.60'))).statusCode, 200);
    const again: number[] = [];
    for (let i = 0; i < 6; i++) again.push((await postJSON(b, '/api/auth/sign-in', { email, password: `guess again ${i}` }, fromIp(`203.0.113.${i + 20}`))).statusCode);
    assert.deepEqual(again, [401, 401, 401, 401, 401, 429]);

    // Lock a second account and wait for its mail: by then the earlier lockouts were handled.
    const other = 'cluster-other@example.com';
    await registerAndSignIn(b, other, PASSWORD, fromIp('198.51.100.62'));
    for (let i = 0; i < 6; i++) await postJSON(i % 2 === 0 ? b : a, '/api/auth/sign-in', { email: other, password: `guess ${i}` }, fromIp(`203.0.114.${i + 1}`));
    await mailsUntil(a, () => lockoutMails(a, other).length + lockoutMails(b, other).length === 1);
    assert.equal(lockoutMails(a, email).length + lockoutMails(b, email).length, 1, 'two lockouts on two instances, one mail');
  });
});
