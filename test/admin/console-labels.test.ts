/**
 * Issue 18 in the admin console: event types, outcomes, client types and sources and the
 * built-in role are shown by their translated names, never as raw wire values or the English
 * description of src/features/roles/catalog.ts. The catalog has a name for every audit event type
 * in every language (the compiler refuses a missing one in auditEventLabel; this checks it too).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIT_EVENT_TYPES } from '../../src/features/audit/audit-log.ts';
import { CATALOGS } from '../../src/ui/i18n/messages/index.ts';
import { LOCALES } from '../../src/ui/i18n/locales.ts';
import { translator } from '../../src/ui/i18n/translate.ts';
import type { TestApp } from '../support/app.ts';
import { signedInBrowser } from './console-support-admin.ts';
import { createConsoleTestApp } from './console-support.ts';

const de = translator('de');
const german = { 'accept-language': 'de' };

describe('admin console labels', () => {
  it('every AUDIT_EVENT_TYPES entry has its admin.audit.event.<type> name in every language', () => {
    for (const locale of LOCALES) {
      const missing = AUDIT_EVENT_TYPES.filter((type) => typeof CATALOGS[locale].get(`admin.audit.event.${type}`) !== 'string');
      assert.deepEqual(missing, [], `${locale}: event types without a name`);
    }
    const names = AUDIT_EVENT_TYPES.map((type) => CATALOGS.de.get(`admin.audit.event.${type}`));
    assert.equal(new Set(names).size, names.length, 'no two event types share a German name');
  });

  describe('through the app, in German', () => {
    let t: TestApp;
    let admin: Awaited<ReturnType<typeof signedInBrowser>>;
    before(async () => {
      t = await createConsoleTestApp();
      admin = await signedInBrowser(t, 'root@example.com');
    });
    after(async () => t?.close());

    it('the audit filter and table name the event types; the raw type stays the option value', async () => {
      const page = await admin.browser.get('/admin/audit', german);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<html lang="de"/);
      assert.ok(page.body.includes(`<option value="sign-in">${de.t('admin.audit.event.sign-in')}</option>`), 'the sign-in option, named in German');
      assert.ok(page.body.includes(`${de.t('admin.audit.event.sign-in')} <code>sign-in</code> · ${de.t('admin.audit.success')}`), 'the sign-in row, named in German');
    });

    it('the user detail names its recent events and their outcomes', async () => {
      const page = await admin.browser.get(`/admin/users/${admin.userId}`, german);
      assert.equal(page.statusCode, 200);
      assert.ok(page.body.includes(`${de.t('admin.audit.event.sign-in')} <code>sign-in</code> · ${de.t('admin.audit.success')}`), 'the recent sign-in, in German');
      assert.doesNotMatch(page.body, /<\/code> (success|failure)</);
    });

    it('clients show their type and source by name; the built-in role its translated description', async () => {
      const clients = await admin.browser.get('/admin/clients', german);
      assert.ok(clients.body.includes(`${de.t('admin.clients.confidential')} · ${de.t('admin.clients.source.config')}`), 'a configured confidential client');
      assert.doesNotMatch(clients.body, /(confidential|public) · (api|cli|config|dynamic)/);
      const roles = await admin.browser.get('/admin/roles', german);
      assert.ok(roles.body.includes(de.t('admin.roles.builtInDescription')));
      assert.ok(!roles.body.includes('Built in: every admin scope.'));
    });
  });
});
