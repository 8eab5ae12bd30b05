import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, linkToken, postJSON, registerAndSignIn, signIn, whoami } from '../support/auth.ts';
import { createOAuthApp, nativeSignIn, refresh } from '../support/oauth.ts';
import { userinfo } from '../support/oidc.ts';
import { selfService } from './self-service-instance.ts';

/** A JSON call the way the first-party browser app makes it, to the instance serving self-service. */
function call(t: TestApp, app: FastifyInstance, url: string, body: unknown, cookie = ''): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', origin: new URL(t.config.publicUrl).origin, ...(cookie ? { cookie } : {}) }, payload: JSON.stringify(body) });
}

async function auditSteps(t: TestApp, userId: string): Promise<string[]> {
  const rows = await t.storage.database.db.selectFrom('audit_events').select(['type', 'outcome', 'detail']).where('user_id', '=', userId).where('type', '=', 'email-change').orderBy('id').execute();
  return rows.map((row) => `${(JSON.parse(row.detail) as { step: string }).step}:${row.outcome}`);
}

describe('self-service: changing the email address', () => {
  let t: TestApp;
  let app: FastifyInstance;
  before(async () => {
    t = await createOAuthApp();
    app = await selfService(t);
  });
  after(() => t.close());

  it('verifies the new address first, keeps sessions and tokens, moves the email claim, and the old address can undo', async () => {
    const native = await nativeSignIn(t, 'old@example.com');
    const cookie = native.cookie;
    const userId = native.sub;

    const asked = await call(t, app, '/api/account/email', { new_email: 'New@Example.com' }, cookie);
    assert.equal(asked.statusCode, 202, asked.body);
    // Nothing changes before the new address proves itself.
    assert.equal(((await whoami(t, cookie)).json() as { user: { email: string } }).user.email, 'old@example.com');
    const pending = await app.inject({ url: '/api/account/email', headers: { cookie } });
    assert.deepEqual(pending.json(), { email: 'old@example.com', pending_email: 'new@example.com' });

    const confirmMail = t.mails.findLast((mail) => mail.to === 'new@example.com');
    assert.ok(confirmMail?.html?.includes('/account/email/confirm?token='), 'the link goes to the NEW address');
    const token = linkToken(t, 'new@example.com', '/account/email/confirm');
    const confirmed = await call(t, app, '/api/account/email/confirm', { token });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    assert.equal((await call(t, app, '/api/account/email/confirm', { token })).statusCode, 400, 'the link works once');

    // Sessions and tokens are kept; the session, userinfo and sign-in see the new address.
    const session = (await whoami(t, cookie)).json() as { user: { email: string; email_verified: boolean } };
    assert.equal(session.user.email, 'new@example.com');
    const claims = (await userinfo(t, native.access_token)).json() as { email: string; email_verified: boolean };
    assert.equal(claims.email, 'new@example.com');
    assert.equal(claims.email_verified, true);
    const refreshed = await refresh(t, 'mobile', native.refresh_token);
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const { refresh_token: refreshToken } = refreshed.json() as { refresh_token: string };
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'old@example.com', password: PASSWORD })).statusCode, 401);
    await signIn(t, 'new@example.com');

    // The old address is told, with an undo link; undo restores it and ends everything.
    const notice = t.mails.findLast((mail) => mail.to === 'old@example.com');
    assert.match(notice?.subject ?? '', /email address was changed/);
    assert.ok(notice?.text.includes('new@example.com'));
    const undo = await call(t, app, '/api/account/email/undo', { token: linkToken(t, 'old@example.com', '/account/email/undo') });
    assert.equal(undo.statusCode, 200, undo.body);
    assert.equal((await whoami(t, cookie)).statusCode, 401, 'every session ended');
    assert.equal((await refresh(t, 'mobile', refreshToken)).statusCode, 400, 'every refresh token revoked');
    // The undo also removed the password (the taker may know it): the restored address got a reset link.
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'old@example.com', password: PASSWORD })).statusCode, 401);
    assert.equal((await postJSON(t, '/api/auth/reset-password', { token: linkToken(t, 'old@example.com', '/reset-password'), password: PASSWORD })).statusCode, 200);
    await signIn(t, 'old@example.com');
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'new@example.com', password: PASSWORD })).statusCode, 401);

    assert.deepEqual(await auditSteps(t, userId), ['requested:success', 'confirmed:success', 'undone:success']);
  });

  it('re-checks the address at confirmation: taken meanwhile → 409 and nothing changes', async () => {
    const cookie = await registerAndSignIn(t, 'racer@example.com');
    assert.equal((await call(t, app, '/api/account/email', { new_email: 'contested@example.com' }, cookie)).statusCode, 202);
    const token = linkToken(t, 'contested@example.com', '/account/email/confirm');
    // Someone else signs up with that address before the link is opened.
    await registerAndSignIn(t, 'contested@example.com');
    const confirmed = await call(t, app, '/api/account/email/confirm', { token });
    assert.equal(confirmed.statusCode, 409, confirmed.body);
    assert.equal((confirmed.json() as { error: string }).error, 'conflict');
    assert.equal(((await whoami(t, cookie)).json() as { user: { email: string } }).user.email, 'racer@example.com');
    await signIn(t, 'contested@example.com');
  });

  it('does not tell whether an address is taken when the change is asked for', async () => {
    await registerAndSignIn(t, 'taken@example.com');
    const cookie = await registerAndSignIn(t, 'prober@example.com');
    const sent = t.mails.length;
    const taken = await call(t, app, '/api/account/email', { new_email: 'taken@example.com' }, cookie);
    const free = await call(t, app, '/api/account/email', { new_email: 'free@example.com' }, cookie);
    assert.equal(taken.statusCode, 202);
    assert.deepEqual(taken.json(), free.json());
    assert.ok(!t.mails.slice(sent).some((mail) => mail.to === 'taken@example.com' && mail.text.includes('/account/email/confirm')), 'no link to an address with an account');
  });

  it('the confirmation mail is in the language of the request that asked for it', async () => {
    const cookie = await registerAndSignIn(t, 'deutsch@example.com');
    const asked = await app.inject({ method: 'POST', url: '/api/account/email', headers: { 'content-type': 'application/json', origin: new URL(t.config.publicUrl).origin, cookie, 'accept-language': 'de-DE,de;q=0.9' }, payload: JSON.stringify({ new_email: 'neu@example.com' }) });
    assert.equal(asked.statusCode, 202, asked.body);
    const mail = t.mails.findLast((item) => item.to === 'neu@example.com');
    assert.equal(mail?.subject, 'Gatehouse: Bestätigen Sie Ihre neue E-Mail-Adresse');
    assert.match(mail?.html ?? '', /<html lang="de"/);
  });

  it('refuses bad input with 4xx: invalid address, the same address, no session, missing token', async () => {
    const cookie = await registerAndSignIn(t, 'input@example.com');
    assert.equal((await call(t, app, '/api/account/email', { new_email: 'not-an-address' }, cookie)).statusCode, 400);
    assert.equal((await call(t, app, '/api/account/email', { new_email: 'INPUT@example.com' }, cookie)).statusCode, 400);
    assert.equal((await call(t, app, '/api/account/email', { new_email: 'x@example.com' })).statusCode, 401);
    assert.equal((await call(t, app, '/api/account/email/confirm', { token: 'x'.repeat(43) })).statusCode, 400);
    assert.equal((await call(t, app, '/api/account/email/undo', {})).statusCode, 400);
  });

  it('the mailed links open a button page (a GET never uses the link), in the reader’s language', async () => {
    const cookie = await registerAndSignIn(t, 'pages@example.com');
    assert.equal((await call(t, app, '/api/account/email', { new_email: 'pages2@example.com' }, cookie)).statusCode, 202);
    const token = linkToken(t, 'pages2@example.com', '/account/email/confirm');
    const page = await app.inject({ url: `/account/email/confirm?token=${token}`, headers: { 'accept-language': 'de' } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html lang="de"/);
    assert.match(page.body, /Bestätigen Sie Ihre neue E-Mail-Adresse/);
    const csrfToken = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    const csrfCookie = String(page.headers['set-cookie']).split(';')[0]!;
    assert.ok(csrfToken);
    const posted = await app.inject({
      method: 'POST', url: '/account/email/confirm',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(t.config.publicUrl).origin, cookie: csrfCookie, 'accept-language': 'fr' },
      payload: new URLSearchParams({ csrf: csrfToken, token }).toString(),
    });
    assert.equal(posted.statusCode, 200, posted.body);
    assert.match(posted.body, /Adresse e-mail modifiée/);
    assert.match(posted.body, /pages2@example\.com/);
    const again = await app.inject({
      method: 'POST', url: '/account/email/confirm',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(t.config.publicUrl).origin, cookie: csrfCookie },
      payload: new URLSearchParams({ csrf: csrfToken, token }).toString(),
    });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /invalid, expired or already used/);
  });
});
