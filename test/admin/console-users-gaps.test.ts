/**
 * The console's side of the same gaps, through the same services as the API: the email change
 * in the edit form, the has-MFA filter, creating a user (with the invitation mail), the role
 * rule (a translated refusal), and refused creates that keep what was typed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createSqlMfaStore } from '../../src/features/mfa/store.ts';
import { createRoleStore } from '../../src/features/roles/store.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { auditEvents, confirmAction, signedInBrowser } from './console-support-admin.ts';
import { createConsoleTestApp } from './console-support.ts';

const FACTOR = { kind: 'totp', name: 'Phone', lastUsedAt: null, secretSealed: 'sealed', credentialId: null, publicKey: null, signCount: 0, transports: [] as string[], deviceType: null } as const;

describe('admin console: email change, has-MFA filter, create user, role rule, kept values', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedInBrowser>>;
  const users = () => createSqlUserStore(t.storage.database.db);
  before(async () => {
    t = await createConsoleTestApp();
    admin = await signedInBrowser(t, 'root@example.com');
    await createRoleStore(t.storage.database.db).create({ name: 'helpdesk', description: null, permissions: ['admin:users'], createdAt: Date.now(), updatedAt: Date.now() });
  });
  after(() => t.close());

  it('edit: a new address is saved unverified, mailed, audited with the admin; the form says how it works', async () => {
    await registerAndSignIn(t, 'ivy@example.com');
    const ivy = (await users().findByEmail('ivy@example.com'))!;
    const page = await admin.browser.get(`/admin/users/${ivy.id}`);
    assert.match(page.body, /name="email" value="ivy@example.com"/);
    assert.match(page.body, /previous address is told/);
    const done = await confirmAction(admin.browser, `/admin/users/${ivy.id}`, `/admin/users/${ivy.id}/edit`, { name: '', email: 'ivy.new@example.com', email_verified: 'on' });
    assert.equal(done.statusCode, 303, done.body.slice(0, 300));
    const after = (await users().findById(ivy.id))!;
    assert.equal(after.email, 'ivy.new@example.com');
    assert.equal(after.emailVerifiedAt, null, 'a new address starts unverified whatever the box said');
    assert.ok(t.mails.some((mail) => mail.to === 'ivy.new@example.com' && mail.text.includes('/verify-email?token=')));
    assert.ok(t.mails.some((mail) => mail.to === 'ivy@example.com' && /administrator/i.test(mail.subject)));
    assert.ok((await auditEvents(t, admin.cookie, 'profile-update')).some((event) => event.user_id === ivy.id && event.actor_id === admin.userId && String(event.detail.fields).includes('email')));
    // A taken address: refused in place, in the page's language.
    const taken = await confirmAction(admin.browser, `/admin/users/${ivy.id}`, `/admin/users/${ivy.id}/edit`, { name: '', email: 'root@example.com' });
    assert.equal(taken.statusCode, 409);
    assert.match(taken.body, /already exists/);
  });

  it('the list filters on two-step verification', async () => {
    await registerAndSignIn(t, 'jack@example.com');
    const jack = (await users().findByEmail('jack@example.com'))!;
    // A factor row is all the filter looks at (enrolment itself: test/admin/users-email-mfa-roles.test.ts).
    await createSqlMfaStore(t.storage.database.db).insertFactor({ ...FACTOR, id: 'f-jack', userId: jack.id, createdAt: Date.now() });
    const withMfa = await admin.browser.get('/admin/users?has_mfa=true');
    assert.equal(withMfa.statusCode, 200);
    assert.match(withMfa.body, /<select id="f-has-mfa" name="has_mfa">/);
    assert.match(withMfa.body, /jack@example\.com/);
    assert.doesNotMatch(withMfa.body, /root@example\.com<\/a>/);
    const without = await admin.browser.get('/admin/users?has_mfa=false');
    assert.doesNotMatch(without.body, /jack@example\.com/);
    assert.match(without.body, /root@example\.com/);
  });

  it('create: a user with the invitation mail, audited with the admin; a refused create keeps what was typed', async () => {
    const created = await admin.browser.submit('/admin/users/new', '/admin/users', { email: 'kim@example.com', name: 'Kim', send_password_mail: 'on', 'role:helpdesk': 'on' });
    assert.equal(created.statusCode, 303, created.body.slice(0, 300));
    const kim = (await users().findByEmail('kim@example.com'))!;
    assert.equal(created.headers.location, `/admin/users/${kim.id}?notice=created`);
    assert.deepEqual(kim.roles, ['helpdesk']);
    assert.ok(t.mails.some((mail) => mail.to === 'kim@example.com' && mail.text.includes('/reset-password?token=')), 'the set-password link');
    assert.ok((await auditEvents(t, admin.cookie, 'user-created')).some((event) => event.user_id === kim.id && event.actor_id === admin.userId));
    const again = await admin.browser.submit('/admin/users/new', '/admin/users', { email: 'kim@example.com', name: 'Kim Again', 'role:helpdesk': 'on' });
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /name="email" value="kim@example.com"/);
    assert.match(again.body, /name="name" value="Kim Again"/);
    assert.match(again.body, /name="role:helpdesk" value="on" checked/);
    assert.doesNotMatch(again.body, /name="send_password_mail" value="on" checked/);
  });

  it('a helpdesk admin (admin:users only) cannot make anyone admin: refused with a translated message', async () => {
    const helper = await signedInBrowser(t, 'helper@example.com', ['helpdesk']);
    await registerAndSignIn(t, 'lee@example.com');
    const lee = (await users().findByEmail('lee@example.com'))!;
    const refused = await confirmAction(helper.browser, `/admin/users/${lee.id}`, `/admin/users/${lee.id}/edit`, { name: '', email: 'lee@example.com', 'role:admin': 'on' });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.body, /whose permissions you hold yourself/);
    assert.deepEqual((await users().findById(lee.id))!.roles, []);
    const german = await helper.browser.get(`/admin/users/${lee.id}`, { 'accept-language': 'de' });
    assert.match(german.body, /Eine neue Adresse ist zunächst unbestätigt/);
  });

  it('refused role and client creates keep what was typed', async () => {
    const role = await admin.browser.submit('/admin/roles', '/admin/roles', { name: 'admin', description: 'Mine', permissions: 'a:b' });
    assert.equal(role.statusCode, 409);
    assert.match(role.body, /name="name" value="admin"/);
    assert.match(role.body, /value="Mine"/);
    const client = await admin.browser.submit('/admin/clients/new', '/admin/clients', { name: 'Broken', type: 'public', token_endpoint_auth_method: 'none', 'grant:authorization_code': 'on', redirect_uris: 'notauri' });
    assert.equal(client.statusCode, 400, client.body.slice(0, 300));
    assert.match(client.body, /value="Broken"/);
    assert.match(client.body, /<option value="public" selected>/);
    assert.match(client.body, /<option value="none" selected>/);
    assert.match(client.body, /notauri/);
  });
});
