/**
 * The admin console (`/admin`, issue 17) through the real app and `inject`: who may open it
 * (signed out → sign-in, non-admin → translated 403, machine tokens refused, CSRF), and every
 * user action through its form and confirmation, each audited with the acting admin.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { formToken } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { nativeSignIn, refresh } from '../support/oauth.ts';
import { auditEvents, confirmAction, signedInBrowser } from './console-support-admin.ts';
import { createConsoleTestApp } from './console-support.ts';

describe('admin console: access', () => {
  let t: TestApp;
  before(async () => { t = await createConsoleTestApp(); });
  after(async () => t?.close());

  it('sends a signed-out browser to the sign-in page, coming back to the page it asked for', async () => {
    for (const url of ['/admin', '/admin/users?search=bob']) {
      const response = await t.app.inject({ url });
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, `/login?return_to=${encodeURIComponent(url)}`);
    }
  });

  it('answers a signed-in non-admin with a translated 403 page on every area', async () => {
    const { browser } = await signedInBrowser(t, 'plain@example.com', []);
    for (const url of ['/admin', '/admin/users', '/admin/roles', '/admin/clients', '/admin/identity-providers', '/admin/keys', '/admin/audit']) {
      const response = await browser.get(url);
      assert.equal(response.statusCode, 403, url);
      assert.match(response.body, /Administrators only/);
    }
    const german = await browser.get('/admin/users', { 'accept-language': 'de' });
    assert.equal(german.statusCode, 403);
    assert.match(german.body, /<html lang="de"/);
    assert.match(german.body, /Nur für Administratoren/);
  });

  it('refuses a form without its CSRF token or from another site, before any change', async () => {
    const { browser } = await signedInBrowser(t, 'admin-csrf@example.com');
    const victim = await nativeSignIn(t, 'victim@example.com');
    const page = await browser.get(`/admin/users/${victim.sub}`);
    assert.equal(page.statusCode, 200);
    const missing = await browser.post(`/admin/users/${victim.sub}/disable`, { confirm: 'yes' });
    assert.equal(missing.statusCode, 403);
    const crossSite = await browser.post(`/admin/users/${victim.sub}/disable`, { confirm: 'yes', csrf: formToken(page.body) }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.statusCode, 403);
    const user = await createSqlUserStore(t.storage.database.db).findById(victim.sub);
    assert.equal(user?.disabledAt, null);
  });

  it('shows pages in German, French and Spanish with the right lang', async () => {
    const { browser } = await signedInBrowser(t, 'admin-i18n@example.com');
    const cases = [['de', 'Benutzer suchen'], ['fr', 'Rechercher des utilisateurs'], ['es', 'Buscar usuarios']] as const;
    for (const [locale, text] of cases) {
      const response = await browser.get('/admin/users', { 'accept-language': locale });
      assert.equal(response.statusCode, 200);
      assert.match(response.body, new RegExp(`<html lang="${locale}"`));
      assert.ok(response.body.includes(text), locale);
    }
  });
});

describe('admin console: user actions, each audited with the acting admin', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedInBrowser>>;
  before(async () => {
    t = await createConsoleTestApp();
    admin = await signedInBrowser(t, 'root@example.com');
  });
  after(async () => t?.close());

  it('dashboard shows the figures; the list searches and pages with a total', async () => {
    for (let index = 0; index < 3; index++) await nativeSignIn(t, `search-${index}@example.com`);
    const dashboard = await admin.browser.get('/admin');
    assert.equal(dashboard.statusCode, 200);
    assert.match(dashboard.body, /data-figure="users">\d+</);
    assert.match(dashboard.body, /data-figure="signIns">[1-9]/);
    const found = await admin.browser.get('/admin/users?search=search-1');
    assert.equal(found.statusCode, 200);
    assert.match(found.body, /1 user</);
    assert.ok(found.body.includes('search-1@example.com'));
    assert.ok(!found.body.includes('search-2@example.com'));
    assert.equal((await admin.browser.get('/admin/users?cursor=nonsense')).statusCode, 400);
  });

  it('disable: the confirmation first changes nothing; then sessions and tokens are dead, audited with the admin', async () => {
    const alice = await nativeSignIn(t, 'alice@example.com');
    const done = await confirmAction(admin.browser, `/admin/users/${alice.sub}`, `/admin/users/${alice.sub}/disable`);
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, `/admin/users/${alice.sub}?notice=disabled`);
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: alice.cookie } })).statusCode, 401);
    assert.equal((await refresh(t, 'mobile', alice.refresh_token)).json().error, 'invalid_grant');
    const [event] = (await auditEvents(t, admin.cookie, 'user-disabled')).filter((row) => row.user_id === alice.sub);
    assert.equal(event?.actor_id, admin.userId);
    const enabled = await confirmAction(admin.browser, `/admin/users/${alice.sub}`, `/admin/users/${alice.sub}/enable`);
    assert.equal(enabled.statusCode, 303);
    assert.equal((await auditEvents(t, admin.cookie, 'user-enabled')).find((row) => row.user_id === alice.sub)?.actor_id, admin.userId);
  });

  it('edit: name, verified flag and roles, audited as profile-update and role-change', async () => {
    const bob = await nativeSignIn(t, 'bob@example.com');
    const done = await confirmAction(admin.browser, `/admin/users/${bob.sub}`, `/admin/users/${bob.sub}/edit`, { name: 'Bob Builder', 'role:admin': 'on' });
    assert.equal(done.statusCode, 303);
    const user = await createSqlUserStore(t.storage.database.db).findById(bob.sub);
    assert.equal(user?.name, 'Bob Builder');
    assert.deepEqual(user?.roles, ['admin']);
    assert.equal(user?.emailVerifiedAt, null);
    assert.equal((await auditEvents(t, admin.cookie, 'profile-update')).find((row) => row.user_id === bob.sub)?.actor_id, admin.userId);
    assert.equal((await auditEvents(t, admin.cookie, 'role-change')).find((row) => row.user_id === bob.sub)?.actor_id, admin.userId);
  });

  it('password-reset mail, MFA reset, sign-out everywhere, one session, one grant', async () => {
    const carol = await nativeSignIn(t, 'carol@example.com');
    const base = `/admin/users/${carol.sub}`;
    assert.equal((await confirmAction(admin.browser, base, `${base}/password-reset`)).statusCode, 303);
    assert.ok(t.mails.some((mail) => mail.to === 'carol@example.com' && mail.text.includes('/reset-password?token=')));
    assert.equal((await auditEvents(t, admin.cookie, 'password-reset-request')).find((row) => row.user_id === carol.sub)?.actor_id, admin.userId);

    assert.equal((await confirmAction(admin.browser, base, `${base}/reset-mfa`)).statusCode, 303);
    assert.equal((await auditEvents(t, admin.cookie, 'mfa-removed')).find((row) => row.user_id === carol.sub)?.detail.actor, admin.userId);

    const applications = await admin.browser.get(base);
    const clientId = /\/grants\/([^/]+)\/revoke/.exec(applications.body)?.[1];
    assert.ok(clientId, 'the page lists an authorised application');
    assert.equal((await confirmAction(admin.browser, base, `${base}/grants/${clientId}/revoke`)).statusCode, 303);
    assert.equal((await auditEvents(t, admin.cookie, 'consent-revoked')).find((row) => row.user_id === carol.sub)?.actor_id, admin.userId);

    const detail = await admin.browser.get(base);
    const sessionId = /\/sessions\/([^/]+)\/revoke/.exec(detail.body)?.[1];
    assert.ok(sessionId, 'the page lists a session');
    assert.equal((await confirmAction(admin.browser, base, `${base}/sessions/${sessionId}/revoke`)).statusCode, 303);
    assert.ok((await auditEvents(t, admin.cookie, 'session-revoked')).some((row) => row.user_id === carol.sub && row.actor_id === admin.userId && row.detail.session_id === sessionId));

    assert.equal((await confirmAction(admin.browser, base, `${base}/sign-out`)).statusCode, 303);
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: carol.cookie } })).statusCode, 401);
    assert.ok((await auditEvents(t, admin.cookie, 'session-revoked')).some((row) => row.user_id === carol.sub && row.detail.all === true && row.actor_id === admin.userId));
  });

  it('delete: the user is gone, audited with the admin', async () => {
    const dave = await nativeSignIn(t, 'dave@example.com');
    const done = await confirmAction(admin.browser, `/admin/users/${dave.sub}`, `/admin/users/${dave.sub}/delete`);
    assert.equal(done.headers.location, '/admin/users?notice=deleted');
    assert.equal(await createSqlUserStore(t.storage.database.db).findById(dave.sub), undefined);
    assert.equal((await auditEvents(t, admin.cookie, 'user-deleted')).find((row) => row.user_id === dave.sub)?.actor_id, admin.userId);
    assert.equal((await admin.browser.get(`/admin/users/${dave.sub}`)).statusCode, 404);
  });
});
