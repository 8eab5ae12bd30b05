/**
 * Issue 19: "audit records carry actor, subject, client …". Who the actor is (docs/audit.md,
 * "Who is the actor"), through real HTTP on the real app: the signed-in user for self-service,
 * the admin for admin actions, `client:<client_id>` for a machine client, null for anyone
 * anonymous (a sign-in attempt) and for background work; an explicit `actorId` always wins.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createAuditLog, type StoredAuditEvent } from '../../src/features/audit/audit-log.ts';
import { setAuditActor } from '../../src/features/audit/request-context.ts';
import { AUDIT_MAC_PURPOSE } from '../../src/features/audit/wiring.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie, whoami } from '../support/auth.ts';
import { call, adminClientToken, createOAuthApp, fixtureClients, grantFor, hashSecretFor, nativeSignIn, revoke } from '../admin/support.ts';
import { createBrowser } from '../../src/ui/test-browser.ts';

/** A client id of the longest length allowed (src/features/clients/validation.ts): its actor id is 135 characters. */
const LONGEST = 'l'.repeat(128);
const opsClient = (clientId: string) => ({ client_id: clientId, name: clientId.slice(0, 20), type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor(clientId), grant_types: ['client_credentials'], scopes: ['admin:users'] });
const OPS = { client_id: 'ops', name: 'ops', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor('ops'), grant_types: ['client_credentials'], scopes: ['admin:users'] };

/** Every stored event of `type` about `userId`, newest first. */
async function eventsOf(t: TestApp, type: StoredAuditEvent['type'], userId: string): Promise<StoredAuditEvent[]> {
  return createAuditLog(t.storage.database.db).query({ type, userId, limit: 1000 });
}

async function userIdOf(t: TestApp, cookie: string): Promise<string> {
  const response = await whoami(t, cookie);
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { user: { id: string } }).user.id;
}

describe('audit actor: who caused each event', () => {
  let t: TestApp;
  let admin: string;
  let adminId: string;
  before(async () => {
    t = await createOAuthApp({ clients: fixtureClients({ extra: [OPS, opsClient(LONGEST), opsClient(LONGEST.slice(0, 121))] }) });
    admin = await registerAndSignIn(t, 'admin@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    adminId = (await users.findByEmail('admin@example.com'))!.id;
    await users.setRoles(adminId, ['admin'], Date.now());
  });
  after(() => t.close());

  it('self-service password change: the signed-in user is the actor, also when it fails (the subject acting on itself)', async () => {
    const cookie = await registerAndSignIn(t, 'pat@example.com');
    const patId = await userIdOf(t, cookie);
    const wrong = await postJSON(t, '/api/auth/change-password', { current_password: 'not the password at all', new_password: 'a brand new passphrase 42' }, { cookie });
    assert.ok(wrong.statusCode >= 400, wrong.body);
    const changed = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: 'a brand new passphrase 42' }, { cookie });
    assert.equal(changed.statusCode, 200, changed.body);
    const events = await eventsOf(t, 'password-change', patId);
    assert.deepEqual(events.map((event) => [event.outcome, event.actorId]), [['success', patId], ['failure', patId]]);
  });

  it('self-service session revoke and sign-out: the user is the actor', async () => {
    const cookie = await registerAndSignIn(t, 'sam@example.com');
    const samId = await userIdOf(t, cookie);
    assert.equal((await postJSON(t, '/api/auth/sessions/revoke-others', {}, { cookie })).statusCode, 200);
    assert.equal((await postJSON(t, '/api/auth/sign-out', {}, { cookie })).statusCode, 204);
    assert.deepEqual((await eventsOf(t, 'session-revoked', samId)).map((event) => event.actorId), [samId]);
    assert.deepEqual((await eventsOf(t, 'sign-out', samId)).map((event) => event.actorId), [samId]);
  });

  /** Disables `target` as `auth`; returns the events of that request (same request id). */
  async function disable(target: string, auth: { cookie?: string; bearer?: string }): Promise<StoredAuditEvent[]> {
    const response = await call(t, 'POST', `/api/admin/users/${target}/disable`, auth, {});
    assert.equal(response.statusCode, 200, response.body);
    const [disabled] = await eventsOf(t, 'user-disabled', target);
    assert.ok(disabled?.requestId, 'the event carries its request id');
    const all = await createAuditLog(t.storage.database.db).query({ userId: target, limit: 1000 });
    return all.filter((event) => event.requestId === disabled.requestId);
  }

  it('an admin disabling a user with a session: the admin is the actor — of user-disabled and of the grant revocations it causes', async () => {
    const alice = await nativeSignIn(t, 'alice@example.com');
    const events = await disable(alice.sub, { cookie: admin });
    // token-revoked is recorded by the token code with no actorId: the request's admin fills it in.
    assert.deepEqual(events.map((event) => [event.type, event.actorId]).sort(), [['token-revoked', adminId], ['user-disabled', adminId]]);
    assert.ok(events.every((event) => event.userId === alice.sub), 'the subject stays the user acted on');
  });

  it('a machine client disabling a user with client credentials: the actor is client:<client_id>', async () => {
    const bob = await nativeSignIn(t, 'bob@example.com');
    const events = await disable(bob.sub, { bearer: await adminClientToken(t, 'ops') });
    assert.deepEqual(events.map((event) => [event.type, event.actorId]).sort(), [['token-revoked', 'client:ops'], ['user-disabled', 'client:ops']]);
  });

  it('the longest client id is its actor whole: not cut to another client’s id', async () => {
    const gil = await nativeSignIn(t, 'gil@example.com');
    const events = await disable(gil.sub, { bearer: await adminClientToken(t, LONGEST) });
    assert.deepEqual(events.map((event) => event.actorId), events.map(() => `client:${LONGEST}`));
    const filtered = await createAuditLog(t.storage.database.db).query({ actorId: `client:${LONGEST}`, limit: 1000 });
    assert.ok(filtered.length >= 1, 'the admin filter finds it by the full id');
    assert.deepEqual(await createAuditLog(t.storage.database.db).query({ actorId: `client:${LONGEST.slice(0, 121)}`, limit: 1000 }), [], 'the 121-character client did nothing');
  });

  it('signing in as B in a browser that holds A’s session: ending A’s session (and its grants) is B’s act, not A’s', async () => {
    const hal = await registerAndSignIn(t, 'hal@example.com');
    const halSession = (await whoami(t, hal)).json() as { user: { id: string }; session: { id: string } };
    await registerAndSignIn(t, 'ivy@example.com');
    const ivyId = (await createSqlUserStore(t.storage.database.db).findByEmail('ivy@example.com'))!.id;
    const { grantId } = await grantFor(t, 'confrt', { userId: halSession.user.id, sessionId: halSession.session.id, scope: ['openid'] });
    const browser = createBrowser(t.app);
    const [name, ...value] = hal.split('=');
    browser.jar.set(name!, value.join('='));
    assert.equal((await browser.submit('/login', '/login', { email: 'ivy@example.com', password: PASSWORD })).statusCode, 303);
    const ended = (await eventsOf(t, 'token-revoked', halSession.user.id)).filter((event) => event.detail.grant_id === grantId);
    assert.equal(ended.length, 1, 'hal’s session-bound grant was revoked with the session');
    assert.equal(ended[0]!.actorId, ivyId);
    assert.deepEqual((await eventsOf(t, 'sign-in', ivyId)).map((event) => event.actorId)[0], ivyId);
  });

  it('a public client revoking its refresh token at /oauth/revoke: no actor (a public client proves nothing); the user stays the subject', async () => {
    const fay = await nativeSignIn(t, 'fay@example.com');
    assert.equal((await revoke(t, fay.refresh_token, 'mobile')).statusCode, 200);
    const revoked = (await eventsOf(t, 'token-revoked', fay.sub)).filter((event) => event.clientId === 'mobile');
    assert.equal(revoked.length, 1, 'one revocation recorded');
    assert.equal(revoked[0]!.actorId, null);
  });

  it('sign-in: a failed attempt has no actor, even from a browser with a live session of someone else; a success is the user’s own act', async () => {
    const carol = await registerAndSignIn(t, 'carol@example.com');
    const carolId = await userIdOf(t, carol);
    const dave = await registerAndSignIn(t, 'dave@example.com');
    const failed = await postJSON(t, '/api/auth/sign-in', { email: 'carol@example.com', password: 'wrong password, clearly' }, { cookie: dave });
    assert.equal(failed.statusCode, 401, failed.body);
    const succeeded = await postJSON(t, '/api/auth/sign-in', { email: 'carol@example.com', password: PASSWORD }, { cookie: dave });
    assert.equal(succeeded.statusCode, 200, succeeded.body);
    assert.equal(await userIdOf(t, sessionCookie(succeeded)), carolId);
    const [success, failure] = await eventsOf(t, 'sign-in', carolId);
    assert.deepEqual([success?.outcome, success?.actorId], ['success', carolId], 'not dave: the browser’s old session did not sign carol in');
    assert.deepEqual([failure?.outcome, failure?.actorId], ['failure', null]);
  });

  it('an unknown email: the failed sign-in has neither subject nor actor', async () => {
    const failed = await postJSON(t, '/api/auth/sign-in', { email: 'nobody-here@example.com', password: 'whatever it is 123' }, { cookie: admin });
    assert.equal(failed.statusCode, 401, failed.body);
    const [event] = await createAuditLog(t.storage.database.db).query({ type: 'sign-in', outcome: 'failure', limit: 1 });
    assert.deepEqual([event?.userId, event?.actorId], [null, null]);
  });

  it('sign-up is anonymous: no actor, even from a browser signed in as the admin (the session does not authorise it)', async () => {
    await registerAndSignIn(t, 'erin@example.com', PASSWORD, { cookie: admin });
    const erinId = (await createSqlUserStore(t.storage.database.db).findByEmail('erin@example.com'))!.id;
    assert.deepEqual((await eventsOf(t, 'sign-up', erinId)).map((event) => event.actorId), [null]);
  });

  it('background work (the signing key created at start-up, outside any request) has no actor', async () => {
    const events = await createAuditLog(t.storage.database.db).query({ type: 'signing-key-rotated', limit: 1000 });
    const background = events.filter((event) => event.requestId === null);
    assert.ok(background.length > 0, 'the start-up key was audited');
    assert.deepEqual(background.map((event) => event.actorId), background.map(() => null));
  });
});

describe('audit actor: the request principal and an explicit actorId', () => {
  let t: TestApp;
  before(async () => {
    // A probe route on the real app (its audit request context and MAC key): an `onRequest`
    // hook names the principal the way the admin access check does, before the context exists.
    let audit: ReturnType<typeof createAuditLog> | undefined;
    t = await createTestApp({
      beforeReady: (app) => {
        app.get<{ Querystring: { as?: string } }>('/probe/audit-actor', {
          onRequest: async (request: FastifyRequest<{ Querystring: { as?: string } }>) => {
            if (request.query.as !== undefined) setAuditActor(request, request.query.as);
          },
        }, async (request) => {
          const tag = request.id;
          await audit!.record({ type: 'profile-update', outcome: 'success', userId: 'subject-1', detail: { tag, case: 'default' } });
          await audit!.record({ type: 'profile-update', outcome: 'success', userId: 'subject-1', actorId: null, detail: { tag, case: 'explicit-null' } });
          await audit!.record({ type: 'profile-update', outcome: 'success', userId: 'subject-1', actorId: 'cli', detail: { tag, case: 'explicit' } });
          return { tag };
        });
      },
    });
    audit = createAuditLog(t.storage.database.db, { macKey: resolveMasterKey(t.config).derive(AUDIT_MAC_PURPOSE) });
  });
  after(() => t.close());

  async function probe(as?: string): Promise<Record<string, string | null>> {
    const response = await t.app.inject({ url: `/probe/audit-actor${as === undefined ? '' : `?as=${encodeURIComponent(as)}`}` });
    assert.equal(response.statusCode, 200, response.body);
    const { tag } = response.json() as { tag: string };
    const events = (await createAuditLog(t.storage.database.db).query({ type: 'profile-update', limit: 1000 })).filter((event) => event.detail.tag === tag);
    assert.equal(events.length, 3);
    return Object.fromEntries(events.map((event) => [String(event.detail.case), event.actorId]));
  }

  it('an actorId given at the call site wins over the request principal, null included', async () => {
    assert.deepEqual(await probe('client:robot'), { default: 'client:robot', 'explicit-null': null, explicit: 'cli' });
  });

  it('the principal belongs to its request only: the next, anonymous request records no actor', async () => {
    assert.equal((await probe('admin-7')).default, 'admin-7');
    assert.deepEqual(await probe(), { default: null, 'explicit-null': null, explicit: 'cli' });
  });
});
