/**
 * An email change is how an account is taken over; the undo link mailed to the previous address
 * is how the owner takes it back (docs/accounts-and-sessions.md, "Changing the email address").
 * These guard the undo: a second change cannot void it, and an undo leaves the taker nothing —
 * no session, no password, no second factor enrolled since, no lockout on the owner.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, linkToken, postJSON, registerAndSignIn, signIn, whoami } from '../support/auth.ts';
import { base32Decode } from '../support/mfa.ts';
import { createOAuthApp } from '../support/oauth.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { createSqlMfaStore } from '../../src/features/mfa/store.ts';
import { UNDO_TTL_MS } from '../../src/features/accounts/self-service/email-change.ts';

const NEW_PASSWORD = 'a brand new passphrase for the owner';

describe('self-service: an undo takes the account back', () => {
  let t: TestApp;
  let clock = Date.UTC(2030, 4, 6, 9, 0, 0);
  const tick = (ms = 1000) => { clock += ms; };
  before(async () => {
    t = await createOAuthApp({ now: () => clock, env: { GATEHOUSE_LOCKOUT_THRESHOLD: '5' } });
  });
  after(() => t.close());

  const origin = () => new URL(t.config.publicUrl).origin;
  function call(url: string, body: unknown, cookie = '', headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', origin: origin(), ...(cookie ? { cookie } : {}), ...headers }, payload: JSON.stringify(body) });
  }
  const userIdOf = async (cookie: string) => ((await whoami(t, cookie)).json() as { user: { id: string } }).user.id;

  /** `from` → `to`, confirmed through the mailed link; the session of whoever asked is returned. */
  async function changeEmail(cookie: string, to: string): Promise<void> {
    const asked = await call('/api/account/email', { new_email: to }, cookie);
    assert.equal(asked.statusCode, 202, asked.body);
    const confirmed = await call('/api/account/email/confirm', { token: linkToken(t, to, '/account/email/confirm') });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    tick();
  }

  async function undo(oldEmail: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const token = linkToken(t, oldEmail, '/account/email/undo');
    const page = await t.app.inject({ url: `/account/email/undo?token=${token}`, headers });
    const csrfToken = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const csrfCookie = String(page.headers['set-cookie']).split(';')[0]!;
    return t.app.inject({
      method: 'POST', url: '/account/email/undo',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin(), cookie: csrfCookie, ...headers },
      payload: new URLSearchParams({ csrf: csrfToken, token }).toString(),
    });
  }

  it('a second change is refused (409 conflict) while the previous address can undo, so its undo link keeps working', async () => {
    const hijacked = await registerAndSignIn(t, 'victim@example.com');
    await changeEmail(hijacked, 'hijacker-b@example.com');
    const undoMails = () => t.mails.filter((mail) => mail.text.includes('/account/email/undo')).length;
    const before = undoMails();

    const second = await call('/api/account/email', { new_email: 'hijacker-c@example.com' }, hijacked);
    assert.equal(second.statusCode, 409, second.body);
    const body = second.json() as { error: string; error_description: string };
    assert.equal(body.error, 'conflict');
    assert.match(body.error_description, /changed recently; it can be changed again once the previous address can no longer undo it/);
    assert.ok(!t.mails.some((mail) => mail.to === 'hijacker-c@example.com'), 'no confirmation link to the third address');
    assert.equal(undoMails(), before, 'no new undo link, so none is voided');

    // The page says the same, in the reader's language, at the address field.
    const account = await t.app.inject({ url: '/account', headers: { cookie: hijacked } });
    const csrfToken = /name="csrf" value="([^"]+)"/.exec(account.body)?.[1] ?? '';
    const csrfCookie = String(account.headers['set-cookie']).split(';')[0]!;
    const page = await t.app.inject({
      method: 'POST', url: '/account/email',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: origin(), cookie: `${hijacked}; ${csrfCookie}`, 'accept-language': 'de' },
      payload: new URLSearchParams({ csrf: csrfToken, new_email: 'hijacker-c@example.com', password: '' }).toString(),
    });
    assert.equal(page.statusCode, 409, page.body);
    assert.match(page.body, /<html lang="de"/);
    assert.match(page.body, /Ihre Adresse wurde vor Kurzem geändert/);

    // The victim's link from the first change still works.
    const undone = await undo('victim@example.com');
    assert.equal(undone.statusCode, 200, undone.body);

    // The undo closed the window: the owner (after setting a new password) may change again.
    const reset = await postJSON(t, '/api/auth/reset-password', { token: linkToken(t, 'victim@example.com', '/reset-password'), password: NEW_PASSWORD });
    assert.equal(reset.statusCode, 200, reset.body);
    const owner = await signIn(t, 'victim@example.com', NEW_PASSWORD);
    assert.equal((await call('/api/account/email', { new_email: 'victim-new@example.com' }, owner)).statusCode, 202);
  });

  it('the window closes when the undo link expires (7 days), read from the database', async () => {
    const cookie = await registerAndSignIn(t, 'patient@example.com');
    await changeEmail(cookie, 'patient-2@example.com');
    assert.equal((await call('/api/account/email', { new_email: 'patient-3@example.com' }, cookie)).statusCode, 409);
    tick(UNDO_TTL_MS + 1000);
    const fresh = await signIn(t, 'patient-2@example.com');
    const later = await call('/api/account/email', { new_email: 'patient-3@example.com' }, fresh);
    assert.equal(later.statusCode, 202, later.body);
  });

  it('undo removes the password, clears the lockout, removes factors enrolled since the change, mails a reset link and audits it', async () => {
    const owner = await registerAndSignIn(t, 'owner@example.com');
    const userId = await userIdOf(owner);
    tick();
    // The taker, who knows the password, moves the address and enrols a second factor of their own.
    await changeEmail(owner, 'taker@example.com');
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie: owner })).json() as { enrolment_id: string; secret: string };
    const enrolled = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(base32Decode(enrolment.secret), clock), name: 'Taker phone' }, { cookie: owner });
    assert.equal(enrolled.statusCode, 200, enrolled.body);
    const mfa = createSqlMfaStore(t.storage.database.db);
    // The owner's own factor, from before the change (a passkey on their laptop).
    await mfa.insertFactor({ id: 'owner-passkey', userId, kind: 'passkey', name: 'Laptop', createdAt: clock - 86_400_000, lastUsedAt: null, secretSealed: null, credentialId: 'Y3JlZA', publicKey: 'cGs', signCount: 0, transports: [], deviceType: 'singleDevice' });
    assert.ok(await mfa.remainingRecoveryCodes(userId) > 0, 'the taker got recovery codes with the first factor');
    // Someone hammers the restored address until it is locked for untrusted devices.
    for (let attempt = 0; attempt < 5; attempt++) assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'owner@example.com', password: 'wrong guess here' })).statusCode, 401);
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'owner@example.com', password: 'wrong guess here' })).statusCode, 429, 'locked before the undo');
    tick();

    const undone = await undo('owner@example.com');
    assert.equal(undone.statusCode, 200, undone.body);
    assert.match(undone.body, /Set a new password/);
    assert.equal((await whoami(t, owner)).statusCode, 401, 'every session ended');

    // The password is gone: the one the taker knew fails like a wrong one (not a 500, not a lockout).
    const withOld = await postJSON(t, '/api/auth/sign-in', { email: 'owner@example.com', password: PASSWORD });
    assert.equal(withOld.statusCode, 401, withOld.body);
    assert.equal((withOld.json() as { error: string }).error, 'invalid_credentials');
    const row = await t.storage.database.db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow();
    assert.equal(row.password_hash, null);

    // Second factors since the change are gone; the owner's older one stays.
    assert.deepEqual((await mfa.listFactors(userId)).map((factor) => factor.name), ['Laptop']);
    assert.equal(await mfa.remainingRecoveryCodes(userId), 0, 'the taker’s recovery codes are gone');

    // The restored address gets a reset link right away; it sets the new password.
    const resetMail = t.mails.findLast((mail) => mail.to === 'owner@example.com' && mail.text.includes('/reset-password?token='));
    assert.ok(resetMail, 'a reset link goes to the restored address');
    assert.ok(!t.mails.some((mail) => mail.to === 'taker@example.com' && mail.text.includes('/reset-password')), 'never to the taker');
    const reset = await postJSON(t, '/api/auth/reset-password', { token: linkToken(t, 'owner@example.com', '/reset-password'), password: NEW_PASSWORD });
    assert.equal(reset.statusCode, 200, reset.body);

    const events = await t.storage.database.db.selectFrom('audit_events').select('detail').where('user_id', '=', userId).where('type', '=', 'email-change').orderBy('id').execute();
    const undoneDetail = JSON.parse(events.at(-1)!.detail) as Record<string, unknown>;
    assert.deepEqual(
      { step: undoneDetail.step, reset: undoneDetail.reset, factors: undoneDetail.second_factors_removed, codes: Number(undoneDetail.recovery_codes_removed) > 0 },
      { step: 'undone', reset: 'password, lockout, second factors', factors: 1, codes: true },
    );
  });

  it('the lockout of the restored address is cleared by the undo itself', async () => {
    const owner = await registerAndSignIn(t, 'locked@example.com');
    await changeEmail(owner, 'locked-taker@example.com');
    for (let attempt = 0; attempt < 5; attempt++) await postJSON(t, '/api/auth/sign-in', { email: 'locked@example.com', password: 'wrong guess here' });
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'locked@example.com', password: 'wrong guess here' })).statusCode, 429);
    assert.equal((await undo('locked@example.com')).statusCode, 200);
    // Not locked any more: the attempt is checked (and fails: no password until the reset).
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'locked@example.com', password: 'wrong guess here' })).statusCode, 401);
  });

  it('the undo notice says to set a new password, in German, French and Spanish', async () => {
    const expected = { de: /neues Passwort fest/, fr: /Définissez un nouveau mot de passe/, es: /Establezca una contraseña nueva/ } as const;
    for (const [locale, text] of Object.entries(expected)) {
      const cookie = await registerAndSignIn(t, `undo-${locale}@example.com`);
      await changeEmail(cookie, `undo-${locale}-taker@example.com`);
      const undone = await undo(`undo-${locale}@example.com`, { 'accept-language': locale });
      assert.equal(undone.statusCode, 200, undone.body);
      assert.match(undone.body, new RegExp(`<html lang="${locale}"`));
      assert.match(undone.body, text);
      assert.match(undone.body, /href="\/forgot-password"/);
    }
  });

  it('change-password and the recent-authentication check share ONE per-session budget of guesses', async () => {
    const cookie = await registerAndSignIn(t, 'budget@example.com');
    for (let attempt = 0; attempt < 5; attempt++) {
      const wrong = await postJSON(t, '/api/auth/change-password', { current_password: 'not the password', new_password: NEW_PASSWORD }, { cookie });
      assert.equal(wrong.statusCode, 401, wrong.body);
    }
    // The same session switching to the email form gets no fresh guesses.
    const switched = await call('/api/account/email', { new_email: 'budget-2@example.com', password: 'not the password either' }, cookie);
    assert.equal(switched.statusCode, 429, switched.body);
  });
});
