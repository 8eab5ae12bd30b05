import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, whoami } from '../support/auth.ts';
import { createOAuthApp, nativeSignIn, refresh } from '../support/oauth.ts';
import { selfService } from './self-service-instance.ts';

function call(t: TestApp, app: FastifyInstance, url: string, body: unknown, cookie = ''): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', origin: new URL(t.config.publicUrl).origin, ...(cookie ? { cookie } : {}) }, payload: JSON.stringify(body) });
}

describe('self-service: recent authentication and deleting the account', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let clock = Date.UTC(2030, 0, 3, 12, 0, 0);
  const later = (ms: number) => { clock += ms; };
  before(async () => {
    t = await createOAuthApp({ now: () => clock });
    app = await selfService(t, { now: () => clock });
  });
  after(() => t.close());

  it('a sign-in older than five minutes needs the password again: 403 without, 401 wrong, then it goes through', async () => {
    const cookie = await registerAndSignIn(t, 'stale@example.com');
    later(6 * 60_000);
    const without = await call(t, app, '/api/account/email', { new_email: 'stale2@example.com' }, cookie);
    assert.equal(without.statusCode, 403, without.body);
    assert.equal((without.json() as { error: string }).error, 'forbidden');
    const wrong = await call(t, app, '/api/account/delete', { password: 'not the password at all' }, cookie);
    assert.equal(wrong.statusCode, 401, wrong.body);
    assert.equal((wrong.json() as { error: string }).error, 'invalid_credentials');
    assert.equal((await whoami(t, cookie)).statusCode, 200, 'nothing was deleted');
    assert.equal((await call(t, app, '/api/account/email', { new_email: 'stale2@example.com', password: PASSWORD }, cookie)).statusCode, 202);
  });

  it('deletes as the admin delete does: sign-in fails, sessions and refresh tokens are dead, a mail confirms, the audit keeps only the id', async () => {
    const native = await nativeSignIn(t, 'leaving@example.com');
    const userId = native.sub;
    const deleted = await call(t, app, '/api/account/delete', {}, native.cookie);
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.match(String(deleted.headers['set-cookie']), /__Host-gatehouse=;/);

    assert.equal((await whoami(t, native.cookie)).statusCode, 401);
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'leaving@example.com', password: PASSWORD })).statusCode, 401);
    const refreshed = await refresh(t, 'mobile', native.refresh_token);
    assert.equal(refreshed.statusCode, 400, refreshed.body);
    assert.equal((refreshed.json() as { error: string }).error, 'invalid_grant');

    const db = t.storage.database.db;
    assert.equal(await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst(), undefined);
    const events = await db.selectFrom('audit_events').select(['type', 'user_id', 'actor_id']).where('user_id', '=', userId).execute();
    assert.ok(events.some((event) => event.type === 'user-deleted' && event.actor_id === userId), 'the deletion is audited, by the user themself');
    const trail = JSON.stringify(await db.selectFrom('audit_events').selectAll().where('user_id', '=', userId).execute());
    assert.doesNotMatch(trail, /leaving@example\.com/, 'the trail keeps the pseudonymous id, not the address');

    const mail = t.mails.findLast((item) => item.to === 'leaving@example.com');
    assert.match(mail?.subject ?? '', /account was deleted/);
    assert.doesNotMatch(mail?.text ?? '', /https?:\/\//, 'a notice only');
  });

  it('the delete page asks for confirmation and, after five minutes, for the password — with the error next to the field', async () => {
    const cookie = await registerAndSignIn(t, 'page-delete@example.com');
    const page = await app.inject({ url: '/account/delete', headers: { cookie, 'accept-language': 'es' } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html lang="es"/);
    assert.match(page.body, /Eliminar mi cuenta definitivamente/);
    const csrfToken = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const csrfCookie = String(page.headers['set-cookie']).split(';')[0]!;
    later(6 * 60_000);
    const post = (password: string) => app.inject({
      method: 'POST', url: '/account/delete',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(t.config.publicUrl).origin, cookie: `${cookie}; ${csrfCookie}` },
      payload: new URLSearchParams({ csrf: csrfToken, password }).toString(),
    });
    const refused = await post('');
    assert.equal(refused.statusCode, 403);
    assert.match(refused.body, /aria-invalid="true"/);
    assert.match(refused.body, /Enter your current password/);
    const done = await post(PASSWORD);
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, /Your account was deleted/);
    assert.equal((await whoami(t, cookie)).statusCode, 401);
  });

  it('refuses without a session and cross-site', async () => {
    assert.equal((await call(t, app, '/api/account/delete', {})).statusCode, 401);
    const cookie = await registerAndSignIn(t, 'cross@example.com');
    const cross = await app.inject({ method: 'POST', url: '/api/account/delete', headers: { 'content-type': 'application/json', origin: 'https://evil.example', cookie }, payload: '{}' });
    assert.equal(cross.statusCode, 403);
    assert.equal((await whoami(t, cookie)).statusCode, 200);
  });
});
