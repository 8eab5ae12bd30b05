/**
 * Issue 17: an admin SESSION needs "a recent second factor when policy says so" — when the MFA
 * policy covers the caller, a second factor within adminRecentSecondFactorSeconds, else 403
 * `mfa_step_up_required` on the API and the step-up page from the console (one check, access.ts).
 * Client-credentials tokens are unaffected; 0 turns the rule off. A frozen clock, no timing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { createRoleStore } from '../../src/features/roles/store.ts';
import type { TestApp } from '../support/app.ts';
import { postJSON, registerAndSignIn, sessionCookie } from '../support/auth.ts';
import { base32Decode } from '../support/mfa.ts';
import { manualClock } from '../support/oidc.ts';
import { adminClientToken, call, createOAuthApp, fixtureClients, hashSecretFor } from './support.ts';

const ops = { client_id: 'ops', name: 'ops', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor('ops'), grant_types: ['client_credentials'], scopes: ['admin:users'] };

describe('admin sessions need a recent second factor when the MFA policy covers them', () => {
  const clock = manualClock(Date.now());
  let t: TestApp;
  let cookie: string;
  let secret: Buffer;

  before(async () => {
    t = await createOAuthApp({ now: clock.now, env: { GATEHOUSE_MFA_REQUIRED_ROLES: 'admin', GATEHOUSE_ADMIN_RECENT_SECOND_FACTOR_SECONDS: '600' }, clients: fixtureClients({ extra: [ops] }) });
    // Signed in with a password before being made admin: a session without a second factor.
    cookie = await registerAndSignIn(t, 'root@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    await users.setRoles((await users.findByEmail('root@example.com'))!.id, ['admin'], clock.now());
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    secret = base32Decode(enrolment.secret);
    assert.equal((await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(secret, clock.now()) }, { cookie })).statusCode, 200);
  });
  after(() => t.close());

  it('without one: the API answers 403 mfa_step_up_required, the console sends to the step-up page and back', async () => {
    const api = await call(t, 'GET', '/api/admin/users', { cookie });
    assert.equal(api.statusCode, 403, api.body);
    assert.equal(api.json().error, 'mfa_step_up_required');
    const page = await t.app.inject({ url: '/admin/users?search=root', headers: { cookie } });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, `/login/mfa?return_to=${encodeURIComponent('/admin/users?search=root')}`);
  });

  it('a client-credentials token is not affected', async () => {
    const token = await adminClientToken(t, 'ops');
    assert.equal((await call(t, 'GET', '/api/admin/users', { bearer: token })).statusCode, 200);
  });

  it('after a step-up: allowed, until adminRecentSecondFactorSeconds (600 here) have passed', async () => {
    clock.advance(30_000); // a fresh TOTP step
    const stepped = await postJSON(t, '/api/auth/mfa/step-up', { method: 'totp', code: totp(secret, clock.now()) }, { cookie });
    assert.equal(stepped.statusCode, 200, stepped.body);
    const fresh = sessionCookie(stepped);
    assert.equal((await call(t, 'GET', '/api/admin/users', { cookie: fresh })).statusCode, 200);
    assert.equal((await t.app.inject({ url: '/admin/users', headers: { cookie: fresh } })).statusCode, 200);
    clock.advance(600_000 + 1000);
    const stale = await call(t, 'GET', '/api/admin/users', { cookie: fresh });
    assert.equal(stale.statusCode, 403);
    assert.equal(stale.json().error, 'mfa_step_up_required');
  });
});

describe('the recent-second-factor rule: only for users the policy covers; 0 turns it off', () => {
  it('a catalog role granting admin:users outside mfaRequiredRoles needs none, inside it does; with 0 not even admin', async () => {
    for (const [env, roles, expected] of [
      [{ GATEHOUSE_MFA_REQUIRED_ROLES: 'admin' }, ['helpdesk'], 200],
      [{ GATEHOUSE_MFA_REQUIRED_ROLES: 'helpdesk' }, ['helpdesk'], 403],
      [{ GATEHOUSE_MFA_REQUIRED_ROLES: 'admin', GATEHOUSE_ADMIN_RECENT_SECOND_FACTOR_SECONDS: '0' }, ['admin'], 200],
    ] as const) {
      const t = await createOAuthApp({ env });
      try {
        await createRoleStore(t.storage.database.db).create({ name: 'helpdesk', description: null, permissions: ['admin:users'], createdAt: Date.now(), updatedAt: Date.now() });
        const cookie = await registerAndSignIn(t, 'someone@example.com');
        const users = createSqlUserStore(t.storage.database.db);
        await users.setRoles((await users.findByEmail('someone@example.com'))!.id, [...roles], Date.now());
        assert.equal((await call(t, 'GET', '/api/admin/users', { cookie })).statusCode, expected, `${JSON.stringify(env)} ${roles.join(',')}`);
      } finally {
        await t.close();
      }
    }
  });
});
