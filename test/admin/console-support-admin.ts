/** Signing in as an admin for the console tests, and reading the audit log through the admin API. */
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createBrowser, formToken, type PageBrowser } from '../../src/ui/test-browser.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';

/** A page browser signed in as a new user with `roles` (the admin role by default). */
export async function signedInBrowser(t: TestApp, email: string, roles: string[] = ['admin']): Promise<{ browser: PageBrowser; cookie: string; userId: string }> {
  const cookie = await registerAndSignIn(t, email);
  const users = createSqlUserStore(t.storage.database.db);
  const user = (await users.findByEmail(email))!;
  if (roles.length > 0) await users.setRoles(user.id, roles, Date.now());
  const browser = createBrowser(t.app);
  const [name, ...value] = cookie.split('=');
  browser.jar.set(name!, value.join('='));
  return { browser, cookie, userId: user.id };
}

/**
 * A console action through its two steps: the first POST answers the confirmation page (and
 * changes nothing), the second, with `confirm=yes`, does it. Returns the final answer.
 */
export async function confirmAction(browser: PageBrowser, pageUrl: string, action: string, fields: Record<string, string> = {}) {
  const page = await browser.get(pageUrl);
  assert.equal(page.statusCode, 200, `GET ${pageUrl}: ${page.body.slice(0, 300)}`);
  const confirm = await browser.post(action, { ...fields, csrf: formToken(page.body) });
  assert.equal(confirm.statusCode, 200, confirm.body.slice(0, 500));
  assert.match(confirm.body, /name="confirm" value="yes"/);
  return browser.post(action, { ...fields, csrf: formToken(confirm.body), confirm: 'yes' });
}

export interface AuditRow {
  type: string;
  outcome: string;
  user_id: string | null;
  actor_id: string | null;
  client_id: string | null;
  detail: Record<string, unknown>;
}

/** The audit events of `type` through `GET /api/admin/audit` (the admin's session). */
export async function auditEvents(t: TestApp, cookie: string, type: string): Promise<AuditRow[]> {
  const response = await t.app.inject({ url: `/api/admin/audit?type=${type}`, headers: { cookie } });
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { events: AuditRow[] }).events;
}
