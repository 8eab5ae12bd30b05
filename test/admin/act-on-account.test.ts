/**
 * No privilege escalation, acting on an account (docs/admin.md): every action on a user — the
 * address, the verified flag, second factors, the password link, disable/enable/delete, sessions,
 * grants, roles — needs every permission the target's roles grant. An `admin:users` delegate
 * (a catalog role or a machine token) cannot take over an admin; on a plain user it still works.
 * Through the API and the console, one rule in the user service; a refusal changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createSqlMfaStore } from '../../src/features/mfa/store.ts';
import { createRoleStore } from '../../src/features/roles/store.ts';
import { admin as adminMessages } from '../../src/ui/i18n/messages/admin.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn, whoami } from '../support/auth.ts';
import { confirmAction, signedInBrowser } from './console-support-admin.ts';
import { adminClientToken, assertActive, call, fixtureClients, hashSecretFor, introspect, type Method, nativeSignIn, type NativeSession } from './support.ts';
import { createConsoleTestApp } from './console-support.ts';
import { clientsEnv } from '../support/oauth.ts';

const machine = (id: string, scopes: readonly string[]) => ({ client_id: id, name: id, type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor(id), grant_types: ['client_credentials'], scopes: [...scopes] });
const FACTOR = { kind: 'totp', name: 'Phone', lastUsedAt: null, secretSealed: 'sealed', credentialId: null, publicKey: null, signCount: 0, transports: [] as string[], deviceType: null } as const;

/** Every account action of the admin API on `target` (the PATCH ones first). */
function actions(target: NativeSession): [Method, string, unknown?][] {
  const base = `/api/admin/users/${target.sub}`;
  return [
    ['PATCH', base, { email: 'taken-over@example.com' }],
    ['PATCH', base, { email_verified: false }],
    ['PATCH', base, { name: 'Owned' }],
    ['PATCH', base, { roles: [] }],
    ['POST', `${base}/mfa-reset`, {}],
    ['POST', `${base}/password-reset`, {}],
    ['POST', `${base}/disable`, {}],
    ['POST', `${base}/enable`, {}],
    ['POST', `${base}/sessions/revoke-all`, {}],
    ['DELETE', `${base}/sessions/${target.sid}`],
    ['DELETE', `${base}/grants/mobile`],
    ['DELETE', base],
  ];
}

describe('acting on an account needs every permission the target’s roles grant', () => {
  let t: TestApp;
  let root: Awaited<ReturnType<typeof signedInBrowser>>;
  let helper: Awaited<ReturnType<typeof signedInBrowser>>;
  const users = () => createSqlUserStore(t.storage.database.db);

  before(async () => {
    // The console app is the real createApp: the API and the console on one instance.
    t = await createConsoleTestApp({ env: clientsEnv(fixtureClients({ extra: [machine('ops', ['admin:users'])] })) });
    const roles = createRoleStore(t.storage.database.db);
    for (const [name, permissions] of [['helpdesk', ['admin:users']], ['ticketing', ['tickets:read']]] as const) {
      await roles.create({ name, description: null, permissions: [...permissions], createdAt: Date.now(), updatedAt: Date.now() });
    }
    root = await signedInBrowser(t, 'root@example.com');
    helper = await signedInBrowser(t, 'helper@example.com', ['helpdesk']);
  });
  after(() => t.close());

  /** An admin with a session, a grant and a second factor: what a takeover would go after. */
  async function adminTarget(email: string): Promise<NativeSession> {
    const target = await nativeSignIn(t, email);
    await users().setRoles(target.sub, ['admin'], Date.now());
    await createSqlMfaStore(t.storage.database.db).insertFactor({ ...FACTOR, id: `f-${target.sub}`, userId: target.sub, createdAt: Date.now() });
    return target;
  }

  /** Nothing of `target` changed: row, session, token, factor; no mail to it; no audit row by `actorId`. */
  async function assertUntouched(target: NativeSession, before: unknown, mailsBefore: number, actorId: string): Promise<void> {
    assert.deepEqual(await users().findById(target.sub), before, 're-read: the user row is unchanged');
    assert.equal((await whoami(t, target.cookie)).statusCode, 200, 'the session is alive');
    assertActive(await introspect(t, target.access_token), 'the token is alive');
    assert.equal((await createSqlMfaStore(t.storage.database.db).listFactors(target.sub)).length, 1, 'the factor is kept');
    assert.deepEqual(t.mails.slice(mailsBefore).filter((mail) => mail.to === target.email || mail.to === 'taken-over@example.com'), [], 'no mail');
    const events = (await call(t, 'GET', `/api/admin/audit?user_id=${target.sub}`, { cookie: root.cookie })).json().events as { actor_id: string | null }[];
    assert.ok(!events.some((event) => event.actor_id === actorId), JSON.stringify(events));
  }

  it('API: a helpdesk session (admin:users only) → 403 on every action on an admin; nothing changes', async () => {
    const boss = await adminTarget('boss@example.com');
    const before = await users().findById(boss.sub);
    const mailsBefore = t.mails.length;
    for (const [method, url, body] of actions(boss)) {
      const refused = await call(t, method, url, { cookie: helper.cookie }, body);
      assert.equal(refused.statusCode, 403, `${method} ${url} ${JSON.stringify(body)}: ${refused.body}`);
      assert.equal(refused.json().error, 'forbidden');
      assert.match(refused.json().error_description, /every permission its roles grant; you lack admin:/);
    }
    await assertUntouched(boss, before, mailsBefore, helper.userId);
    // Reading stays open to admin:users: it is acting that needs the target's permissions.
    assert.equal((await call(t, 'GET', `/api/admin/users/${boss.sub}`, { cookie: helper.cookie })).statusCode, 200);
  });

  it('API: a machine token with only admin:users → 403 on an admin target; a target with an app permission it lacks too', async () => {
    const chief = await adminTarget('chief@example.com');
    const before = await users().findById(chief.sub);
    const mailsBefore = t.mails.length;
    const ops = await adminClientToken(t, 'ops');
    for (const [method, url, body] of actions(chief)) {
      assert.equal((await call(t, method, url, { bearer: ops }, body)).statusCode, 403, `${method} ${url} ${JSON.stringify(body)}`);
    }
    await assertUntouched(chief, before, mailsBefore, 'client:ops');
    const ticketer = await nativeSignIn(t, 'ticketer@example.com');
    await users().setRoles(ticketer.sub, ['ticketing'], Date.now());
    const refused = await call(t, 'POST', `/api/admin/users/${ticketer.sub}/disable`, { bearer: ops }, {});
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().error_description, /you lack tickets:read/);
    assert.equal((await users().findById(ticketer.sub))!.disabledAt, null);
  });

  it('API: the same actions on a plain user (and on a fellow helpdesk user) still work for the helpdesk session', async () => {
    for (const [email, roles] of [['plain@example.com', []], ['peer@example.com', ['helpdesk']]] as const) {
      const pat = await nativeSignIn(t, email);
      if (roles.length > 0) await users().setRoles(pat.sub, [...roles], Date.now());
      const base = `/api/admin/users/${pat.sub}`;
      const as = { cookie: helper.cookie };
      assert.equal((await call(t, 'PATCH', base, as, { name: 'Pat', email_verified: false })).statusCode, 200);
      assert.equal((await call(t, 'POST', `${base}/mfa-reset`, as, {})).statusCode, 200);
      assert.equal((await call(t, 'POST', `${base}/password-reset`, as, {})).statusCode, 202);
      assert.equal((await call(t, 'DELETE', `${base}/sessions/${pat.sid}`, as)).statusCode, 204);
      assert.equal((await call(t, 'POST', `${base}/sessions/revoke-all`, as, {})).statusCode, 200);
      assert.equal((await call(t, 'POST', `${base}/disable`, as, {})).statusCode, 200);
      assert.equal((await call(t, 'POST', `${base}/enable`, as, {})).statusCode, 200);
      assert.equal((await call(t, 'PATCH', base, as, { email: `new-${email}` })).json().email, `new-${email}`);
      assert.equal((await call(t, 'DELETE', base, as)).statusCode, 204);
      assert.equal(await users().findById(pat.sub), undefined);
    }
  });

  it('console: the helpdesk user gets the translated refusal (403) for the edit, disable, delete, sign-out, MFA and reset forms of an admin; nothing changes', async () => {
    const head = await adminTarget('head@example.com');
    const before = await users().findById(head.sub);
    const mailsBefore = t.mails.length;
    const page = `/admin/users/${head.sub}`;
    const forms: [string, Record<string, string>][] = [
      ['edit', { name: '', email: 'taken-over@example.com' }], ['disable', {}], ['delete', {}], ['sign-out', {}], ['reset-mfa', {}], ['password-reset', {}],
    ];
    for (const [action, fields] of forms) {
      const refused = await confirmAction(helper.browser, page, `${page}/${action}`, fields);
      assert.equal(refused.statusCode, 403, `${action}: ${refused.body.slice(0, 300)}`);
      assert.ok(refused.body.includes(adminMessages.en['admin.error.forbiddenAccount']), `${action}: the translated refusal`);
    }
    await assertUntouched(head, before, mailsBefore, helper.userId);
    // The admin console session may (built-in admin holds everything).
    const done = await confirmAction(root.browser, page, `${page}/disable`);
    assert.equal(done.statusCode, 303, done.body.slice(0, 300));
    assert.notEqual((await users().findById(head.sub))!.disabledAt, null);
  });
});
