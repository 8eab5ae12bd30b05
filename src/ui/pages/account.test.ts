/**
 * The account page and the mail-link pages through `app.inject()`: sessions list and revoke,
 * password change, profile, email verification (GET never consumes the link) and password
 * reset (SEC-PWD-16), and service errors shown in place with their status (429 + Retry-After).
 * Translations, field errors and the language setting: test/ui/account-page.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/app.ts';
import { createBrowser, formToken, linkFromMail, localPart, signUpViaApi, type PageBrowser } from '../test-browser.ts';

const PASSWORD = 'correct horse battery staple';
let t: TestApp;
let counter = 0;

function browser(userAgent?: string): PageBrowser {
  const b = createBrowser(t.app);
  if (userAgent === undefined) return b;
  // Every request of this browser carries the user agent.
  return {
    jar: b.jar,
    get: (url, headers = {}) => b.get(url, { 'user-agent': userAgent, ...headers }),
    post: (url, fields, headers = {}) => b.post(url, fields, { 'user-agent': userAgent, ...headers }),
    submit: async (formUrl, action, fields) => {
      const page = await b.get(formUrl, { 'user-agent': userAgent });
      return b.post(action, { ...fields, csrf: formToken(page.body) }, { 'user-agent': userAgent });
    },
  };
}

async function newUser(): Promise<{ email: string; password: string }> {
  counter += 1;
  const user = { email: `account-${counter}@example.com`, password: PASSWORD };
  await signUpViaApi(t.app, user);
  return user;
}

async function signIn(user: { email: string; password: string }, userAgent?: string): Promise<PageBrowser> {
  const b = browser(userAgent);
  const response = await b.submit('/login', '/login', user);
  assert.equal(response.statusCode, 303, response.body);
  return b;
}

async function accountAction(b: PageBrowser, action: string, fields: Record<string, string> = {}) {
  return b.submit('/account', action, fields);
}

before(async () => {
  t = await createTestApp({ env: { GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '1000', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '1000', GATEHOUSE_LOCKOUT_THRESHOLD: '3' } });
});
after(() => t.close());

describe('account page', () => {
  it('lists my sessions with device, IP, times and a "this device" marker', async () => {
    const user = await newUser();
    const laptop = await signIn(user, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36');
    await signIn(user, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1');
    const page = await laptop.get('/account');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Chrome on Linux<\/strong> <span class="tag">This device<\/span>/);
    assert.match(page.body, /Safari on iPhone<\/strong><\/p>/);
    assert.match(page.body, /<details>\n<summary>Browser details<\/summary>\n<p class="ua">Mozilla\/5\.0 \(iPhone;/, 'the full string on demand');
    assert.equal(page.body.match(/This device/g)?.length, 1);
    assert.match(page.body, /IP address: 127\.0\.0\.1/);
    assert.match(page.body, /<time datetime="\d{4}-\d\d-\d\dT/);
    assert.match(page.body, new RegExp(`<strong>${user.email}</strong> — not confirmed yet`));
    assert.match(page.body, /action="\/account\/verify-email\/resend"/);
    assert.match(page.body, /Sign out everywhere else/);
  });

  it('revokes another session (SEC-ASVS-07 token checked), then signs out everywhere else', async () => {
    const user = await newUser();
    const mine = await signIn(user);
    const phone = await signIn(user);
    const tablet = await signIn(user);
    const phoneId = (await phone.get('/api/auth/session')).json().session.id as string;
    const revoked = await accountAction(mine, `/account/sessions/${phoneId}/revoke`);
    assert.equal(revoked.statusCode, 303);
    assert.equal(revoked.headers.location, '/account?notice=session-revoked');
    assert.equal((await phone.get('/account')).statusCode, 303, 'the revoked browser is signed out');
    assert.match((await mine.get('/account?notice=session-revoked')).body, /role="status"><p>That session was signed out/);
    const unknown = await accountAction(mine, `/account/sessions/${phoneId}/revoke`);
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.body, /role="alert"><p>That session no longer exists/);
    const others = await accountAction(mine, '/account/sessions/revoke-others');
    assert.equal(others.headers.location, '/account?notice=others-signed-out');
    assert.equal((await tablet.get('/account')).statusCode, 303);
    assert.equal((await mine.get('/account')).statusCode, 200);
  });

  it("cannot revoke another user's session", async () => {
    const alice = await signIn(await newUser());
    const bob = await signIn(await newUser());
    const bobId = (await bob.get('/api/auth/session')).json().session.id as string;
    assert.equal((await accountAction(alice, `/account/sessions/${bobId}/revoke`)).statusCode, 404);
    assert.equal((await bob.get('/account')).statusCode, 200);
  });

  it('revoking this device signs this browser out', async () => {
    const b = await signIn(await newUser());
    const id = (await b.get('/api/auth/session')).json().session.id as string;
    const response = await accountAction(b, `/account/sessions/${id}/revoke`);
    assert.equal(response.headers.location, '/login?notice=signed-out');
    assert.equal((await b.get('/account')).statusCode, 303);
  });

  it('saves the profile name, escaped on display', async () => {
    const b = await signIn(await newUser());
    const name = '"><script>alert(1)</script>';
    const response = await accountAction(b, '/account/profile', { name });
    assert.equal(response.headers.location, '/account?notice=profile-saved');
    const page = await b.get('/account?notice=profile-saved');
    assert.ok(page.body.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
    assert.doesNotMatch(page.body, /<script>alert/);
    const tooLong = await accountAction(b, '/account/profile', { name: 'x'.repeat(201) });
    assert.equal(tooLong.statusCode, 400);
    assert.match(tooLong.body, /role="alert"/);
    assert.match(tooLong.body, /<p class="field-error" id="name-error">The name can be at most 200 characters\.<\/p>\n<input id="name" [^>]*value="x{201}"[^>]* aria-invalid="true" aria-describedby="name-error">/, 'the error next to the field, the typed value kept');
  });

  it('changes the password: wrong current password → 401 in place; success rotates this session and ends the others', async () => {
    const user = await newUser();
    const b = await signIn(user);
    const other = await signIn(user);
    const wrong = await accountAction(b, '/account/password', { current_password: 'not it', new_password: 'a brand new passphrase' });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /<p class="field-error" id="current-password-error">The current password is not correct\.<\/p>\n<input id="current-password" [^>]* aria-invalid="true" aria-describedby="current-password-error">/);
    assert.match(wrong.body, /data-error-summary[^>]*>\n<h2 id="error-summary-title">There is a problem<\/h2>\n<ul>\n<li><a href="#current-password">/);
    assert.doesNotMatch(wrong.body, /not it|a brand new passphrase/);
    const before = b.jar.get(t.config.sessionCookieName);
    const changed = await accountAction(b, '/account/password', { current_password: PASSWORD, new_password: 'a brand new passphrase' });
    assert.equal(changed.statusCode, 303);
    assert.equal(changed.headers.location, '/account?notice=password-changed');
    assert.notEqual(b.jar.get(t.config.sessionCookieName), before, 'the session id changed');
    assert.equal((await b.get('/account')).statusCode, 200);
    assert.equal((await other.get('/account')).statusCode, 303, 'other sessions ended');
    const stale = await t.app.inject({ url: '/account', headers: { cookie: `${t.config.sessionCookieName}=${before}` } });
    assert.equal(stale.statusCode, 303, 'the old cookie no longer works');
  });

  it('a POST with a valid token but no session goes to the sign-in page', async () => {
    const b = browser();
    const token = formToken((await b.get('/login')).body);
    const response = await b.post('/account/profile', { name: 'x', csrf: token });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/login?return_to=%2Faccount');
  });
});

describe('email verification page', () => {
  it('GET shows a confirm button and does not use the link up; POST confirms; a second POST is refused', async () => {
    const user = await newUser();
    const link = localPart(await linkFromMail(t.mails, user.email, '/verify-email'));
    const b = await signIn(user);
    for (let scan = 0; scan < 3; scan += 1) {
      const page = await b.get(link); // link scanners and previews
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<button type="submit">Confirm my email address<\/button>/);
    }
    const page = await b.get(link);
    const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const confirmed = await b.post('/verify-email', { token, csrf: formToken(page.body) });
    assert.equal(confirmed.statusCode, 303);
    assert.equal(confirmed.headers.location, '/account?notice=email-verified');
    assert.match((await b.get('/account')).body, /— confirmed/);
    const again = await b.post('/verify-email', { token, csrf: formToken(page.body) });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /role="alert"><p>This verification link is invalid, expired or already used/);
  });

  it('sends a new link from the account page', async () => {
    const user = await newUser();
    const b = await signIn(user);
    const before = t.mails.length;
    const response = await accountAction(b, '/account/verify-email/resend');
    assert.equal(response.headers.location, '/account?notice=verification-sent');
    await linkFromMail(t.mails.slice(before), user.email, '/verify-email');
  });
});

describe('password reset pages (SEC-PWD-16)', () => {
  it('forgot → mail → reset form (no-referrer, token kept) → new password; all sessions end', async () => {
    const user = await newUser();
    const signedIn = await signIn(user);
    const b = browser();
    const sent = await b.submit('/forgot-password', '/forgot-password', { email: user.email });
    assert.equal(sent.statusCode, 200);
    assert.match(sent.body, /If an account exists for/);
    const unknown = await b.submit('/forgot-password', '/forgot-password', { email: 'nobody-here@example.com' });
    assert.equal(unknown.body.replace(/nonce[^"]*"[^"]*"|nobody-here@example\.com|account-\d+@example\.com/g, ''), sent.body.replace(/nonce[^"]*"[^"]*"|nobody-here@example\.com|account-\d+@example\.com/g, ''), 'same page for unknown addresses');

    const link = localPart(await linkFromMail(t.mails, user.email, '/reset-password'));
    const form = await b.get(link);
    assert.equal(form.statusCode, 200);
    assert.equal(form.headers['referrer-policy'], 'no-referrer');
    assert.doesNotMatch(form.body, /(src|href)="https?:/, 'nothing loaded from elsewhere');
    const token = /name="token" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    assert.ok(token);

    const tooShort = await b.post('/reset-password', { token, password: 'short', csrf: formToken(form.body) });
    assert.equal(tooShort.statusCode, 400);
    assert.match(tooShort.body, /role="alert"/);
    assert.match(tooShort.body, /name="token"/, 'the form is shown again: a refused password does not burn the link');

    const done = await b.post('/reset-password', { token, password: 'my new reset passphrase', csrf: formToken(form.body) });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/login?notice=password-reset');
    assert.equal((await signedIn.get('/account')).statusCode, 303, 'sessions ended by the reset');
    assert.equal((await b.submit('/login', '/login', { email: user.email, password: 'my new reset passphrase' })).statusCode, 303);

    // Signing in renewed the CSRF binding: take a fresh form token.
    const reused = await b.post('/reset-password', { token, password: 'yet another passphrase', csrf: formToken((await b.get('/forgot-password')).body) });
    assert.equal(reused.statusCode, 400);
    assert.match(reused.body, /href="\/forgot-password"/);
  });

  it('a reset link without token is a 400 page', async () => {
    const response = await browser().get('/reset-password');
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /role="alert"/);
    assert.equal((await browser().get('/reset-password?token=a&token=b')).statusCode, 400);
  });
});

describe('service errors on pages', () => {
  it('429 from the lockout keeps Retry-After and shows the message in place', async () => {
    const user = await newUser();
    const b = browser();
    let response = await b.submit('/login', '/login', { email: user.email, password: 'wrong 0' });
    for (let attempt = 1; attempt < 10 && response.statusCode !== 429; attempt += 1) {
      response = await b.submit('/login', '/login', { email: user.email, password: `wrong ${attempt}` });
    }
    assert.equal(response.statusCode, 429);
    assert.match(String(response.headers['retry-after']), /^\d+$/);
    assert.match(response.body, /role="alert"/);
    assert.match(response.body, /<form method="post" action="\/login"/);
  });
});
