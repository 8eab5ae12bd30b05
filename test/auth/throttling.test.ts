/** Rate limits and lockout, black-box (SEC-PWD-11…13, SEC-REL-09 in-process). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn } from '../support/auth.ts';

describe('throttling (SEC-PWD-11…13)', () => {
  let t: TestApp;
  let clock = 1_800_000_000_000;
  before(async () => {
    // Requests arrive through a trusted proxy at 10.0.0.1, which sets X-Forwarded-For.
    t = await createTestApp({ now: () => clock, env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '30' } });
  });
  after(() => t.close());

  const fromIp = (ip: string) => ({ 'x-forwarded-for': ip });

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
