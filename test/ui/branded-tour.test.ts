/**
 * Issue 18, first "done when": with a sample brand configured (name, logos, colours, links,
 * German as the default locale) every page and state and every mail shows it — through the real
 * app and the real flows, a browser that sends no Accept-Language. The pages are checked by
 * assertBrandedPage (German, brand in title and header, logos under /assets/brand/, footer links,
 * no English), the mails by assertBrandedMail (German, brand in subject and signature, the
 * accent colour, no remote image). Then `ui_locales=fr` wins over the German default through a
 * whole authorization (test/ui/oauth-pages.test.ts does the same from the English default).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { translator } from '../../src/ui/i18n/translate.ts';
import { createBrowser, linkFromMail, localPart, signUpViaApi, type PageBrowser } from '../../src/ui/test-browser.ts';
import { postJSON, sessionCookie } from '../support/auth.ts';
import { assertBrandedMail, assertBrandedPage, BRAND, createBrandedApp, englishOn, formFields, NOTES, PAGE_DATA, submitForm, type BrandedApp } from '../support/branded.ts';
import { base32Decode } from '../support/mfa.ts';
import { createSoftAuthenticator } from '../mfa/soft-authenticator.ts';
import { postForm } from '../support/oauth.ts';
import { socialAttempt } from '../support/social.ts';

const PASSWORD = 'a long passphrase with spaces';
const NEW_PASSWORD = 'another long passphrase, new';
let app: BrandedApp;

before(async () => {
  app = await createBrandedApp();
});
after(() => app.close());

const lang = (body: string) => /<html lang="([a-z]+)"/.exec(body)?.[1];

function authorizePath(extra: Record<string, string> = {}): { path: string; verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({ response_type: 'code', client_id: NOTES.client_id, redirect_uri: NOTES.redirect_uris[0], scope: 'openid profile email offline_access', state: 'tour', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
  return { path: `/oauth/authorize?${query}`, verifier };
}

/** GETs `path` (following same-origin redirects) and checks the page it ends on. */
async function visit(b: PageBrowser, path: string, what: string, options: { client?: boolean; status?: number } = {}): Promise<LightMyRequestResponse> {
  let response = await b.get(path);
  for (let hops = 0; (response.statusCode === 302 || response.statusCode === 303) && String(response.headers.location).startsWith('/') && hops < 5; hops++) response = await b.get(String(response.headers.location));
  assertBrandedPage(response, what, options);
  return response;
}

/** Follows a redirect answer to its page (one or more same-origin hops) and checks it. */
async function follow(b: PageBrowser, response: LightMyRequestResponse, what: string, options: { client?: boolean } = {}): Promise<LightMyRequestResponse> {
  assert.ok(response.statusCode === 303 || response.statusCode === 302, `${what}: a redirect, got ${response.statusCode} ${response.body.slice(0, 400)}`);
  return visit(b, String(response.headers.location), what, options);
}

function secretOf(body: string): Buffer {
  const key = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(body)?.[1];
  assert.ok(key, 'the enrolment page shows the secret');
  return base32Decode(key.replace(/ /g, ''));
}

/** A browser that sends no Accept-Language (the German default applies) but asks for HTML, as browsers do. */
function browser(): PageBrowser {
  const inner = createBrowser(app.t.app);
  const accept = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
  return { ...inner, jar: inner.jar, get: (url, headers = {}) => inner.get(url, { ...accept, ...headers }), post: (url, fields, headers = {}) => inner.post(url, fields, { ...accept, ...headers }) };
}

const mailsTo = (to: string) => app.t.mails.filter((mail) => mail.to === to);

describe('the sample brand on every page and state, German by default', () => {
  const email = 'ada@acme.example';
  const b = () => browser();
  let user: PageBrowser;
  let consoleUser: { browser: PageBrowser; question: LightMyRequestResponse; id: string } | undefined;

  it('the checks are not vacuous: the same page in English (Accept-Language) is found out', async () => {
    const english = await app.t.app.inject({ url: '/login', headers: { 'accept-language': 'en' } });
    assert.notDeepEqual(englishOn(english.body, PAGE_DATA), [], 'English is detected');
    assert.throws(() => assertBrandedPage(english, 'English sign-in'), /lang="de"/);
  });

  it('is served: the logo files under /assets/brand/', async () => {
    const page = await app.t.app.inject({ url: '/login' });
    for (const path of [/src="(\/assets\/brand\/logo\.svg\?v=[^"]+)"/.exec(page.body)?.[1], /srcset="(\/assets\/brand\/logo-dark\.svg\?v=[^"]+)"/.exec(page.body)?.[1]]) {
      assert.ok(path);
      const file = await app.t.app.inject({ url: path });
      assert.equal(file.statusCode, 200, path);
      assert.match(String(file.headers['content-type']), /image\/svg\+xml/);
    }
  });

  it('start, sign-in (errors, wrong password, lockout), sign-up (errors, sent, already registered), verify, forgot/reset, errors, device', async () => {
    const guest = b();
    await visit(guest, '/', 'start');
    const login = await visit(guest, '/login', 'sign-in');
    assertBrandedPage(await submitForm(guest, login, '/login', { email: '', password: '' }), 'sign-in: field errors', { status: 400 });
    assertBrandedPage(await submitForm(guest, login, '/login', { email: 'nobody@acme.example', password: 'not the password' }), 'sign-in: wrong password', { status: 401 });
    await signUpViaApi(app.t.app, { email: 'locked@acme.example', password: PASSWORD });
    let locked: LightMyRequestResponse | undefined;
    for (let tries = 0; tries < 6 && locked?.statusCode !== 429; tries++) locked = await submitForm(guest, login, '/login', { email: 'locked@acme.example', password: 'not the password' });
    assertBrandedPage(locked!, 'sign-in: lockout', { status: 429 });

    const signup = await visit(guest, '/signup', 'sign-up');
    assertBrandedPage(await submitForm(guest, signup, '/signup', { email: 'not-an-email', password: 'short' }), 'sign-up: field errors', { status: 400 });
    const sent = await submitForm(guest, signup, '/signup', { name: 'Ada Lovelace', email, password: PASSWORD });
    const inbox = sent.statusCode === 303 ? await follow(guest, sent, 'sign-up: check your inbox') : sent;
    assertBrandedPage(inbox, 'sign-up: check your inbox');
    await submitForm(guest, await guest.get('/signup'), '/signup', { email, password: PASSWORD });

    const verify = await visit(guest, localPart(await linkFromMail(app.t.mails, email, '/verify-email')), 'verify: confirm the link');
    const verified = await submitForm(guest, verify, '/verify-email');
    await (verified.statusCode === 303 ? follow(guest, verified, 'verify: confirmed') : Promise.resolve(assertBrandedPage(verified, 'verify: confirmed')));
    await visit(guest, '/verify-email', 'verify: incomplete link', { status: 400 });

    const forgot = await visit(guest, '/forgot-password', 'forgot password');
    assertBrandedPage(await submitForm(guest, forgot, '/forgot-password', { email: 'not-an-email' }), 'forgot password: field errors', { status: 400 });
    const asked = await submitForm(guest, forgot, '/forgot-password', { email });
    asked.statusCode === 303 ? await follow(guest, asked, 'forgot password: sent') : assertBrandedPage(asked, 'forgot password: sent');
    const reset = await visit(guest, localPart(await linkFromMail(app.t.mails, email, '/reset-password')), 'reset password');
    assertBrandedPage(await submitForm(guest, reset, '/reset-password', { password: 'short' }), 'reset password: field errors', { status: 400 });
    const done = await submitForm(guest, reset, '/reset-password', { password: PASSWORD });
    done.statusCode === 303 ? await follow(guest, done, 'reset password: done') : assertBrandedPage(done, 'reset password: done');
    const invalid = await guest.get('/reset-password?token=not-a-real-token-0123456789');
    assertBrandedPage(invalid.statusCode < 400 ? await submitForm(guest, invalid, '/reset-password', { password: NEW_PASSWORD }) : invalid, 'reset password: invalid link');

    await visit(guest, '/no-such-page', 'error: not found', { status: 404 });
    await visit(guest, `/oauth/authorize?response_type=code&client_id=no-such-client&redirect_uri=${encodeURIComponent(NOTES.redirect_uris[0])}&scope=openid`, 'error: unknown client');
    await visit(guest, '/account', 'account, signed out (sign in first)');
    const device = await visit(guest, '/device', 'device: enter the code');
    assertBrandedPage(await submitForm(guest, device, '/device', { user_code: 'WXYZ-BCDF' }), 'device: wrong code', { status: 400 });
  });

  it('sign-in for the branded client, consent, the code; sign-out confirmation; device confirmation', async () => {
    user = b();
    const { path } = authorizePath();
    const login = await visit(user, path, 'sign-in for an application', { client: true });
    const consent = await follow(user, await submitForm(user, login, '/login', { email, password: PASSWORD }), 'consent', { client: true });
    const answer = await submitForm(user, consent, '/oauth/authorize/consent', { decision: 'allow' });
    assert.ok(String(answer.headers.location).startsWith(`${NOTES.redirect_uris[0]}?code=`), `the code at the redirect URI: ${answer.headers.location}`);
    await visit(user, `/oauth/end-session?client_id=${NOTES.client_id}&post_logout_redirect_uri=${encodeURIComponent(NOTES.post_logout_redirect_uris[0])}`, 'sign-out: an application asks', { client: true });
    await visit(user, '/login', 'sign-in: already signed in');

    const started = await postForm(app.t, '/oauth/device_authorization', { client_id: 'tv', scope: 'openid profile' });
    const { user_code: userCode } = started.json() as { user_code: string };
    const confirm = await follow(user, await submitForm(user, await user.get('/device'), '/device', { user_code: userCode }), 'device: confirm');
    assertBrandedPage(await submitForm(user, confirm, '/device/confirm', { decision: 'allow' }), 'device: connected');
  });

  it('the account page, changing the address (confirm, undo), the MFA pages (enrol, codes, second step, remove)', async () => {
    const account = await visit(user, '/account', 'account');
    assertBrandedPage(await submitForm(user, account, '/account/email', { new_email: 'not-an-email', password: 'not the password' }), 'account: change email refused');
    const asked = await submitForm(user, account, '/account/email', { new_email: 'ada.new@acme.example', password: PASSWORD });
    asked.statusCode === 303 ? await follow(user, asked, 'account: change email sent') : assertBrandedPage(asked, 'account: change email sent');
    const confirm = await visit(user, localPart(await linkFromMail(app.t.mails, 'ada.new@acme.example', '/account/email/confirm')), 'account: confirm the new address');
    const changed = await submitForm(user, confirm, '/account/email/confirm');
    changed.statusCode === 303 ? await follow(user, changed, 'account: address changed') : assertBrandedPage(changed, 'account: address changed');
    const undo = await visit(user, localPart(await linkFromMail(app.t.mails, email, '/account/email/undo')), 'account: undo the change');
    const undone = await submitForm(user, undo, '/account/email/undo');
    undone.statusCode === 303 ? await follow(user, undone, 'account: change undone') : assertBrandedPage(undone, 'account: change undone');
    // The undo removed the password (docs/accounts-and-sessions.md): set it again with the link mailed to the restored address.
    const newPassword = await visit(user, localPart(await linkFromMail(app.t.mails, email, '/reset-password')), 'account: set a new password after the undo');
    const passwordSet = await submitForm(user, newPassword, '/reset-password', { password: PASSWORD });
    passwordSet.statusCode === 303 ? await follow(user, passwordSet, 'account: new password set') : assertBrandedPage(passwordSet, 'account: new password set');

    const signedIn = b();
    await signedIn.post('/login', { ...formFields((await signedIn.get('/login')).body, '/login'), email, password: PASSWORD });
    const mfa = await visit(signedIn, '/account/mfa', 'mfa: overview without factors');
    assertBrandedPage(await submitForm(signedIn, mfa, '/account/mfa/passkey'), 'mfa: add a passkey');
    const enrol = await submitForm(signedIn, mfa, '/account/mfa/totp');
    assertBrandedPage(enrol, 'mfa: enrol an authenticator app');
    const wrong = await submitForm(signedIn, enrol, '/account/mfa/totp/confirm', { name: 'Telefon', code: '000000' === totp(secretOf(enrol.body), Date.now()) ? '111111' : '000000' });
    assertBrandedPage(wrong, 'mfa: enrolment, wrong code');
    const secret = secretOf(wrong.body);
    const codes = await submitForm(signedIn, wrong, '/account/mfa/totp/confirm', { name: 'Telefon', code: totp(secret, Date.now()) });
    assertBrandedPage(codes, 'mfa: recovery codes', { status: 200 });
    const recoveryCode = /<pre class="recovery-codes">\s*([^\s<]+)/.exec(codes.body)?.[1];
    assert.ok(recoveryCode, 'a recovery code');
    await visit(signedIn, '/account/mfa', 'mfa: overview with a factor');

    // A sign-in with the second factor: the recovery code makes it a recent one, for the sensitive MFA actions.
    const second = b();
    const first = await submitForm(second, await second.get('/login'), '/login', { email, password: PASSWORD });
    const step = await follow(second, first, 'mfa: second step');
    assertBrandedPage(await submitForm(second, step, '/login/mfa', { method: 'totp', code: '000000' === totp(secret, Date.now()) ? '111111' : '000000' }), 'mfa: second step, wrong code');
    assert.equal((await submitForm(second, step, '/login/mfa', { method: 'recovery_code', code: recoveryCode })).statusCode, 303, 'a recovery code signs in');
    const overview = await visit(second, '/account/mfa', 'mfa: overview after a recovery code');
    assertBrandedPage(await submitForm(second, overview, '/account/mfa/recovery-codes'), 'mfa: new recovery codes', { status: 200 });
    const factorId = /action="\/account\/mfa\/factors\/([^/"]+)\/remove"/.exec(overview.body)?.[1];
    assert.ok(factorId);
    const removed = await submitForm(second, await second.get('/account/mfa'), `/account/mfa/factors/${factorId}/remove`);
    assert.equal(removed.statusCode, 303, 'the factor is removed');
    await follow(second, removed, 'mfa: factor removed');
  });

  it('social sign-in for an existing address: the "prove it is yours" pages; a social-only account cannot remove its only method', async () => {
    const social = b();
    app.idp.nextIdentity = { sub: 'acme-ada', email, email_verified: true, name: 'Ada' };
    const attempt = await socialAttempt(social, 'acmeid', (url) => app.idp.approve(url));
    const link = await follow(social, attempt.response, 'social: link the account');
    assertBrandedPage(await submitForm(social, link, '/login/social/link', { password: 'not the password' }), 'social: link, wrong password');
    const mailed = await submitForm(social, link, '/login/social/link/email');
    mailed.statusCode === 303 ? await follow(social, mailed, 'social: link mailed') : assertBrandedPage(mailed, 'social: link mailed');
    await visit(social, localPart(await linkFromMail(app.t.mails, email, '/login/social/link/confirm')), 'social: confirm the link');

    // A new address makes a social-only account: removing its one sign-in method is refused, by error code, in German.
    const only = b();
    app.idp.nextIdentity = { sub: 'acme-solo', email: 'solo@acme.example', email_verified: true, name: 'Solo' };
    const created = await socialAttempt(only, 'acmeid', (url) => app.idp.approve(url));
    const account = await follow(only, created.response, 'account of a social-only user');
    const identity = await app.t.storage.database.db.selectFrom('user_identities').select('id').where('subject', '=', 'acme-solo').executeTakeFirstOrThrow();
    const refused = await only.post(`/account/identities/${identity.id}/unlink`, { csrf: formFields(account.body, '/account/profile').csrf ?? '' });
    assertBrandedPage(refused, 'account: removing the only sign-in method', { status: 409 });
    assert.ok(refused.body.includes(translator('de').t('signIn.social.unlinkLast').replaceAll('“', '&#8220;').slice(0, 20)) || refused.body.includes('Dies ist Ihre einzige Möglichkeit'), 'the refusal translated by its code');

  });

  it('a passkey (JSON API, software authenticator); the admin console, resetting MFA; deleting the account', async () => {
    const cookie = sessionCookie(await postJSON(app.t, '/api/auth/sign-in', { email, password: PASSWORD }));
    const options = await postJSON(app.t, '/api/auth/mfa/passkeys/options', {}, { cookie });
    assert.equal(options.statusCode, 200, options.body);
    const credential = createSoftAuthenticator({ origin: new URL(app.t.config.publicUrl).origin }).register(options.json().options);
    const added = await postJSON(app.t, '/api/auth/mfa/passkeys', { credential, name: 'Laptop' }, { cookie });
    assert.ok(added.statusCode < 300, added.body);

    const users = createSqlUserStore(app.t.storage.database.db);
    await signUpViaApi(app.t.app, { email: 'admin@acme.example', password: PASSWORD });
    await users.markEmailVerified((await users.findByEmail('admin@acme.example'))!.id, Date.now());
    const admin = await users.findByEmail('admin@acme.example');
    await users.setRoles(admin!.id, ['admin'], Date.now());
    const ada = await users.findByEmail(email);
    const operator = b();
    assert.equal((await submitForm(operator, await operator.get('/login'), '/login', { email: 'admin@acme.example', password: PASSWORD })).statusCode, 303, 'the admin signs in');
    // The operator's MFA reset, through the console's two steps (its pages are checked below).
    const detail = await operator.get(`/admin/users/${ada!.id}`);
    const question = await submitForm(operator, detail, `/admin/users/${ada!.id}/reset-mfa`);
    assert.equal(question.statusCode, 200, 'the confirmation step');
    assert.equal((await submitForm(operator, question, `/admin/users/${ada!.id}/reset-mfa`)).statusCode, 303, 'MFA reset');
    consoleUser = { browser: operator, question, id: admin!.id };

    const leaving = b();
    assert.equal((await submitForm(leaving, await leaving.get('/login'), '/login', { email, password: PASSWORD })).statusCode, 303, 'signed in without a second factor after the reset');
    const page = await visit(leaving, '/account/delete', 'account: delete');
    assertBrandedPage(await submitForm(leaving, page, '/account/delete', { password: 'not the password' }), 'account: delete, wrong password');
    const deleted = await submitForm(leaving, page, '/account/delete', { password: PASSWORD });
    deleted.statusCode === 303 ? await follow(leaving, deleted, 'account: deleted') : assertBrandedPage(deleted, 'account: deleted');
  });

  it('the admin console pages, a confirmation and a refused form', async () => {
    assert.ok(consoleUser, 'the operator signed in above');
    const { browser: operator, question, id } = consoleUser;
    assertBrandedPage(question, 'admin: confirm the MFA reset');
    for (const path of ['/admin', '/admin/users', `/admin/users/${id}`, '/admin/clients', `/admin/clients/${NOTES.client_id}`, '/admin/clients/new', '/admin/identity-providers', '/admin/roles', '/admin/keys', '/admin/audit', '/admin/branding']) {
      const page = await operator.get(path);
      assert.equal(page.statusCode, 200, `admin: ${path} (${String(page.headers.location ?? '')})`);
      assertBrandedPage(page, `admin: ${path}`);
    }
    const refused = await submitForm(operator, await operator.get('/admin/clients/new'), '/admin/clients', { name: 'Broken client', redirect_uris: 'not a url' });
    assertBrandedPage(refused, 'admin: new client refused');
  });

  it('every mail the server sent is German and branded: each template at least once', () => {
    const subjects = new Map<string, number>();
    for (const mail of app.t.mails) {
      assertBrandedMail(mail, `${mail.to}: ${mail.subject}`, ['Ada Lovelace', 'Telefon', 'Laptop', 'ada.new@acme.example', 'ada@acme.example']);
      subjects.set(mail.subject, (subjects.get(mail.subject) ?? 0) + 1);
    }
    const german = translator('de');
    const t = german.t.bind(german);
    const expected = [
      t('mail.verification.title'), t('mail.alreadyRegistered.title'), t('mail.passwordReset.title'), t('mail.passwordChanged.title'), t('mail.lockout.title'),
      t('mail.linkIdentity.title', { provider: 'Acme ID' }), t('mail.emailChangeConfirm.title'), t('mail.emailChanged.title'), t('mail.accountDeleted.title'),
      t('mail.factor.totpAdded.title'), t('mail.factor.passkeyAdded.title'), t('mail.factor.factorRemoved.title'), t('mail.factor.recoveryCodesRegenerated.title'),
      t('mail.factor.recoveryCodeUsed.title'), t('mail.factor.mfaReset.title'),
    ].map((title) => t('mail.subject', { product: BRAND.name, title }));
    assert.deepEqual(expected.filter((subject) => !subjects.has(subject)), [], `every template was sent; got ${[...subjects.keys()].join(' | ')}`);
    assert.equal(mailsTo('locked@acme.example').length >= 2, true, 'verification and lockout to the locked account');
  });
});

describe('ui_locales=fr over the German default, through a whole authorization', () => {
  it('French sign-in and consent for the branded client, the code at the redirect URI', async () => {
    const email = 'camille@acme.example';
    await signUpViaApi(app.t.app, { email, password: PASSWORD });
    const b = browser();
    const verify = await b.get(localPart(await linkFromMail(app.t.mails, email, '/verify-email')));
    await submitForm(b, verify, '/verify-email');
    const { path } = authorizePath({ ui_locales: 'fr' });
    let page = await b.get(path);
    while (page.statusCode === 303 && String(page.headers.location).startsWith('/')) page = await b.get(String(page.headers.location));
    assert.equal(lang(page.body), 'fr', 'the sign-in page is French');
    assert.match(page.body, /<title>[^<]+ · Acme Cloud<\/title>/);
    assert.ok(page.body.includes(translator('fr').t('common.support')), 'the footer in French');
    let consent = await submitForm(b, page, '/login', { email, password: PASSWORD });
    while (consent.statusCode === 303 && String(consent.headers.location).startsWith('/')) consent = await b.get(String(consent.headers.location));
    assert.equal(lang(consent.body), 'fr', `the consent page is French: ${consent.statusCode}`);
    assert.match(consent.body, /<span class="client-name">Acme Notes<\/span>/);
    assert.ok(consent.body.includes(translator('fr').t('oauth.consent.allow')), 'the French allow button');
    const answer = await submitForm(b, consent, '/oauth/authorize/consent', { decision: 'allow' });
    const redirect = new URL(String(answer.headers.location));
    assert.equal(`${redirect.origin}${redirect.pathname}`, NOTES.redirect_uris[0]);
    assert.ok(redirect.searchParams.get('code'), 'the code at the redirect URI');
  });
});
