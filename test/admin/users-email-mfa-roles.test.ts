/**
 * Closing issue 17's user-admin gaps through the API: an admin email change (unique, re-verified,
 * old address told, sessions kept), the has-MFA filter, the MFA reset with the admin as actor,
 * and no privilege escalation through role assignment (docs/admin.md).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { ADMIN_SCOPES } from '../../src/features/admin/access.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { createRoleStore } from '../../src/features/roles/store.ts';
import type { TestApp } from '../support/app.ts';
import { linkToken, postJSON, registerAndSignIn, whoami } from '../support/auth.ts';
import { base32Decode } from '../support/mfa.ts';
import { adminClientToken, call, createOAuthApp, fixtureClients, hashSecretFor } from './support.ts';

const machine = (id: string, scopes: readonly string[]) => ({ client_id: id, name: id, type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor(id), grant_types: ['client_credentials'], scopes: [...scopes] });

describe('users admin API: email change, has-MFA filter, MFA reset, role assignment', () => {
  let t: TestApp;
  let admin: string;
  let adminId: string;
  const users = () => createSqlUserStore(t.storage.database.db);
  const idOf = async (email: string) => (await users().findByEmail(email))!.id;

  before(async () => {
    t = await createOAuthApp({ clients: fixtureClients({ extra: [machine('ops', ['admin:users']), machine('superops', ADMIN_SCOPES)] }) });
    admin = await registerAndSignIn(t, 'admin@example.com');
    adminId = await idOf('admin@example.com');
    await users().setRoles(adminId, ['admin'], Date.now());
    const roles = createRoleStore(t.storage.database.db);
    for (const [name, permissions] of [['support', []], ['ticketing', ['tickets:read']], ['helpdesk', ['admin:users']]] as const) {
      await roles.create({ name, description: null, permissions: [...permissions], createdAt: Date.now(), updatedAt: Date.now() });
    }
  });
  after(() => t.close());

  it('email: the new address starts unverified and is mailed a verification link, the old one a notice; sessions stay; audited with the admin', async () => {
    const cookie = await registerAndSignIn(t, 'erin@example.com');
    const id = await idOf('erin@example.com');
    const mailsBefore = t.mails.length;
    const changed = await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: admin }, { email: 'Erin.New@Example.com' });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json().email, 'erin.new@example.com');
    assert.equal(changed.json().email_verified, false);
    const mails = t.mails.slice(mailsBefore);
    assert.ok(mails.some((mail) => mail.to === 'erin@example.com' && /administrator/i.test(mail.subject) && mail.text.includes('erin.new@example.com') && !mail.text.includes('token=')), 'the old address is told, without a link');
    // The session is kept and shows the new address; the mailed link verifies it (the sign-up link's page and token).
    const me = await whoami(t, cookie);
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.email, 'erin.new@example.com');
    assert.equal((await postJSON(t, '/api/auth/verify-email', { token: linkToken(t, 'erin.new@example.com', '/verify-email') })).statusCode, 200);
    assert.notEqual((await users().findById(id))!.emailVerifiedAt, null);
    const events = (await call(t, 'GET', `/api/admin/audit?user_id=${id}&type=profile-update`, { cookie: admin })).json().events as { actor_id: string; detail: { fields: string } }[];
    assert.ok(events.some((event) => event.actor_id === adminId && event.detail.fields.split(',').includes('email')), JSON.stringify(events));
  });

  it('email: a taken address is 409 and changes nothing (not even the name sent with it); a malformed one 400', async () => {
    await registerAndSignIn(t, 'frank@example.com');
    const id = await idOf('frank@example.com');
    const taken = await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: admin }, { email: 'ADMIN@example.com', name: 'Frank' });
    assert.equal(taken.statusCode, 409, taken.body);
    const after = (await users().findById(id))!;
    assert.equal(after.email, 'frank@example.com');
    assert.equal(after.name, null);
    assert.notEqual(after.emailVerifiedAt, null);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: admin }, { email: 'not an address' })).statusCode, 400);
  });

  it('has_mfa filters on second factors; the MFA reset (admin:users) removes them, audited with the admin as actor', async () => {
    const cookie = await registerAndSignIn(t, 'grace@example.com');
    const id = await idOf('grace@example.com');
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json();
    assert.equal((await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(base32Decode(enrolment.secret), Date.now()) }, { cookie })).statusCode, 200);
    const withMfa = (await call(t, 'GET', '/api/admin/users?has_mfa=true', { cookie: admin })).json();
    assert.deepEqual(withMfa.users.map((user: { id: string }) => user.id), [id]);
    assert.equal(withMfa.total, 1);
    const without = (await call(t, 'GET', '/api/admin/users?has_mfa=false', { cookie: admin })).json();
    assert.ok(!without.users.some((user: { id: string }) => user.id === id));
    assert.equal(without.total, (await call(t, 'GET', '/api/admin/users', { cookie: admin })).json().total - 1);
    assert.equal((await call(t, 'GET', '/api/admin/users?has_mfa=maybe', { cookie: admin })).statusCode, 400);

    const ops = await adminClientToken(t, 'ops');
    const reset = await call(t, 'POST', `/api/admin/users/${id}/mfa-reset`, { bearer: ops }, {});
    assert.equal(reset.statusCode, 200, reset.body);
    assert.deepEqual(reset.json(), { removed: 1 });
    assert.equal((await call(t, 'GET', '/api/admin/users?has_mfa=true', { cookie: admin })).json().total, 0);
    const events = (await call(t, 'GET', `/api/admin/audit?user_id=${id}&type=mfa-removed`, { cookie: admin })).json().events as { actor_id: string | null; detail: Record<string, unknown> }[];
    assert.equal(events.length, 1);
    assert.equal(events[0]!.actor_id, 'client:ops', 'the admin in actor_id');
    assert.equal(events[0]!.detail.reset, true);
    assert.equal((await call(t, 'POST', '/api/admin/users/nobody/mfa-reset', { bearer: ops }, {})).statusCode, 404);
    assert.equal((await call(t, 'POST', `/api/admin/users/${id}/mfa-reset`, { cookie: admin }, { extra: 1 })).statusCode, 400);
  });

  it('no privilege escalation: a token with only admin:users cannot give or take admin, nor a role granting what it lacks', async () => {
    const ops = await adminClientToken(t, 'ops');
    await registerAndSignIn(t, 'henry@example.com');
    const id = await idOf('henry@example.com');
    const escalate = await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: ops }, { roles: ['admin'] });
    assert.equal(escalate.statusCode, 403, escalate.body);
    assert.equal(escalate.json().error, 'forbidden');
    assert.deepEqual((await users().findById(id))!.roles, []);
    assert.equal((await call(t, 'POST', '/api/admin/users', { bearer: ops }, { email: 'sneaky@example.com', roles: ['admin'] })).statusCode, 403);
    assert.equal(await users().findByEmail('sneaky@example.com'), undefined);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: ops }, { roles: ['ticketing'] })).statusCode, 403, 'tickets:read is not the token’s');
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: ops }, { roles: ['helpdesk'] })).statusCode, 200, 'admin:users it holds');
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: ops }, { roles: ['helpdesk', 'support'] })).statusCode, 200, 'a role granting nothing');
    // An admin is out of its reach altogether: acting on an account needs every permission the
    // target's roles grant (test/admin/act-on-account.test.ts), so not even its name or an unrelated role.
    await users().setRoles(id, ['admin', 'support'], Date.now());
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: ops }, { roles: ['support'] })).statusCode, 403, 'taking admin away');
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: ops }, { roles: ['admin'] })).statusCode, 403, 'removing support from an admin');
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: ops }, { name: 'Henry' })).statusCode, 403, 'the name of an admin');
    assert.deepEqual((await users().findById(id))!.roles, ['admin', 'support']);

    // Every admin scope: it may hand out admin. An admin session may hand out anything.
    const superops = await adminClientToken(t, 'superops', { scope: ADMIN_SCOPES.join(' ') });
    assert.deepEqual((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: superops }, { roles: [] })).json().roles, []);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { bearer: superops }, { roles: ['admin'] })).statusCode, 200);
    assert.deepEqual((await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: admin }, { roles: ['ticketing'] })).json().roles, ['ticketing']);

    // A session whose catalog role grants admin:users holds only that.
    const helper = await registerAndSignIn(t, 'helper@example.com');
    await users().setRoles(await idOf('helper@example.com'), ['helpdesk'], Date.now());
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: helper }, { roles: ['ticketing', 'support'] })).statusCode, 403, 'the target holds tickets:read, the helper does not');
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: admin }, { roles: ['support'] })).statusCode, 200);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: helper }, { roles: ['support', 'admin'] })).statusCode, 403);
    assert.equal((await call(t, 'PATCH', `/api/admin/users/${id}`, { cookie: helper }, { roles: ['support', 'helpdesk'] })).statusCode, 200, 'admin:users it holds');
  });
});
