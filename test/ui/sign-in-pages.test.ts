/**
 * The sign-in family of pages (issue 18) through the real app: complete German, French and
 * Spanish pages with the right `<html lang>`, every form problem at once on its own field
 * (aria-invalid, aria-describedby, a summary linking each field), values kept except passwords,
 * one generic answer to a wrong password, the lockout page's wait in words and Retry-After, and
 * the language picker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../support/app.ts';
import { translator } from '../../src/ui/i18n/translate.ts';
import type { Locale, MessageKey } from '../../src/ui/i18n/index.ts';
import { createBrowser, formToken, linkFromMail, localPart, setCookies, signUpViaApi, type PageBrowser } from '../../src/ui/test-browser.ts';

const PASSWORD = 'correct horse battery staple';
const LOCKOUT_THRESHOLD = 3;
const LOCKOUT_SECONDS = 240;
let t: TestApp;
let counter = 0;

function browser(): PageBrowser {
  return createBrowser(t.app);
}

async function newUser(): Promise<{ email: string; password: string }> {
  counter += 1;
  const user = { email: `sign-in-pages-${counter}@example.com`, password: PASSWORD };
  await signUpViaApi(t.app, user);
  return user;
}

/** The text a reader sees: no stylesheet, no tags, entities decoded. */
function visibleText(body: string): string {
  return body
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ');
}

/** The element with `id` and its text, or undefined. */
function elementText(body: string, id: string): string | undefined {
  const match = new RegExp(`<([a-z0-9]+)[^>]* id="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(body);
  return match ? visibleText(match[2]!).trim() : undefined;
}

function inputTag(body: string, name: string): string {
  const tag = new RegExp(`<input [^>]*name="${name}"[^>]*>`).exec(body)?.[0];
  assert.ok(tag, `an input named ${name}`);
  return tag;
}

/** The field carries the error: aria-invalid, described by an element holding `message`, and the summary links to it. */
function assertFieldError(body: string, name: string, message: string): void {
  const tag = inputTag(body, name);
  const id = /id="([^"]+)"/.exec(tag)?.[1];
  assert.ok(id, `${name} has an id`);
  assert.match(tag, /aria-invalid="true"/, `${name} is marked invalid`);
  const described = /aria-describedby="([^"]+)"/.exec(tag)?.[1]?.split(' ') ?? [];
  assert.ok(described.some((ref) => elementText(body, ref) === message), `${name} is described by "${message}" (got ${described.map((ref) => elementText(body, ref)).join(' | ')})`);
  const summary = /<div class="alert error-summary"[^>]*role="alert"[\s\S]*?<\/div>/.exec(body)?.[0] ?? '';
  assert.ok(summary.includes(`<a href="#${id}">`), `the summary links to #${id}`);
  assert.ok(visibleText(summary).includes(message), `the summary lists "${message}"`);
}

function assertFieldValid(body: string, name: string): void {
  assert.doesNotMatch(inputTag(body, name), /aria-invalid/, `${name} is not marked invalid`);
}

const LOCALES_OTHER: readonly Exclude<Locale, 'en'>[] = ['de', 'fr', 'es'];
const english = translator('en');

/** Each page of the family and message keys it shows. */
const PAGES: readonly { url: string; keys: readonly MessageKey[] }[] = [
  { url: '/', keys: ['signIn.start.intro', 'signIn.start.account', 'signIn.start.accountHint', 'signIn.title', 'signIn.signUp.title'] },
  { url: '/login', keys: ['signIn.title', 'signIn.email', 'signIn.password', 'signIn.forgotPassword', 'signIn.createOne'] },
  { url: '/login?notice=signed-out', keys: ['signIn.notice.signedOut', 'signIn.submit'] },
  { url: '/login?notice=password-reset', keys: ['signIn.notice.passwordReset'] },
  { url: '/signup', keys: ['signIn.signUp.title', 'signIn.signUp.name', 'signIn.signUp.emailHint', 'signIn.signUp.submit'] },
  { url: '/forgot-password', keys: ['signIn.forgot.title', 'signIn.forgot.intro', 'signIn.forgot.submit', 'signIn.backToSignIn'] },
  { url: '/reset-password?token=abc', keys: ['signIn.reset.title', 'signIn.reset.password', 'signIn.reset.submit', 'signIn.reset.signsOut'] },
  { url: '/verify-email?token=abc', keys: ['signIn.verify.title', 'signIn.verify.intro', 'signIn.verify.submit'] },
];

/** The page shows every key's translation and none of the English text of the keys it shows. */
function assertTranslated(body: string, locale: Locale, keys: readonly MessageKey[], what: string): void {
  const tr = translator(locale);
  assert.match(body, new RegExp(`<html lang="${locale}"`), `${what}: <html lang="${locale}">`);
  const text = visibleText(body);
  for (const key of keys) {
    const translated = visibleText(tr.t(key, { min: t.config.passwordMinLength, count: 1 })).trim();
    assert.ok(text.includes(translated), `${what}: shows ${key} in ${locale} ("${translated}")`);
    const original = english.t(key, { min: t.config.passwordMinLength, count: 1 });
    if (original !== translated) assert.ok(!text.includes(original), `${what}: no English "${original}" (${key})`);
  }
}

before(async () => {
  t = await createTestApp({
    env: {
      GATEHOUSE_ENV: 'development',
      GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '1000',
      GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '1000',
      GATEHOUSE_LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD),
      GATEHOUSE_LOCKOUT_BASE_DELAY_SECONDS: String(LOCKOUT_SECONDS),
    },
  });
});
after(() => t.close());

describe('sign-in pages: translations', () => {
  for (const locale of LOCALES_OTHER) {
    it(`every page of the family in ${locale} (Accept-Language): <html lang>, translated text, no English`, async () => {
      const b = browser();
      for (const page of PAGES) {
        const response = await b.get(page.url, { 'accept-language': `${locale};q=1, en;q=0.5`, accept: 'text/html' });
        assert.equal(response.statusCode, 200, page.url);
        assertTranslated(response.body, locale, page.keys, page.url);
      }
    });
  }

  it('the page titles are translated', async () => {
    const response = await browser().get('/signup', { 'accept-language': 'de' });
    assert.match(response.body, /<title>Konto anlegen · /);
    assert.match((await browser().get('/login?ui_locales=es')).body, /<title>Iniciar sesión · /);
  });

  it('ui_locales in the query outranks Accept-Language; English stays the default', async () => {
    const french = await browser().get('/login?ui_locales=fr', { 'accept-language': 'de' });
    assertTranslated(french.body, 'fr', ['signIn.title', 'signIn.forgotPassword'], 'ui_locales=fr');
    const plain = await browser().get('/login');
    assert.match(plain.body, /<html lang="en"/);
    assert.match(plain.body, /<h1>Sign in<\/h1>/);
  });

  it('the result pages (sign-up sent, reset sent) and a dead reset link are translated', async () => {
    const b = browser();
    const headers = { 'accept-language': 'es' };
    const signUpForm = await b.get('/signup', headers);
    const sent = await b.post('/signup', { email: 'nuevo@example.com', password: PASSWORD, csrf: formToken(signUpForm.body) }, headers);
    assert.equal(sent.statusCode, 200);
    assertTranslated(sent.body, 'es', ['signIn.checkInbox', 'signIn.title'], 'sign-up sent');
    const forgotForm = await b.get('/forgot-password', headers);
    const forgotSent = await b.post('/forgot-password', { email: 'nuevo@example.com', csrf: formToken(forgotForm.body) }, headers);
    assertTranslated(forgotSent.body, 'es', ['signIn.checkInbox', 'signIn.backToSignIn'], 'reset sent');
    const resetForm = await b.get('/reset-password?token=not-a-real-token', headers);
    const dead = await b.post('/reset-password', { token: 'not-a-real-token', password: 'a long and unusual passphrase 42', csrf: formToken(resetForm.body) }, headers);
    assert.equal(dead.statusCode, 400);
    assertTranslated(dead.body, 'es', ['signIn.reset.linkInvalid', 'signIn.reset.requestNew'], 'dead reset link');
  });
});

describe('sign-in pages: field errors', () => {
  it('sign-in with nothing typed: both fields marked, each message next to its field and in the summary', async () => {
    const b = browser();
    const response = await b.submit('/login', '/login', { email: '', password: '' });
    assert.equal(response.statusCode, 400);
    assertFieldError(response.body, 'email', english.t('signIn.error.emailMissing'));
    assertFieldError(response.body, 'password', english.t('signIn.error.passwordMissing'));
    assert.match(response.body, /There are 2 problems/);
  });

  it('sign-in without a password keeps the email and marks only the password (in German too)', async () => {
    const b = browser();
    const form = await b.get('/login', { 'accept-language': 'de' });
    const response = await b.post('/login', { email: 'someone@example.com', password: '', csrf: formToken(form.body) }, { 'accept-language': 'de' });
    assert.equal(response.statusCode, 400);
    assertFieldValid(response.body, 'email');
    assert.match(inputTag(response.body, 'email'), /value="someone@example.com"/);
    assertFieldError(response.body, 'password', translator('de').t('signIn.error.passwordMissing'));
  });

  it('a wrong password is one generic message, the same for an existing and an unknown email, on no field', async () => {
    const user = await newUser();
    const texts: string[] = [];
    for (const email of [user.email, 'nobody-here@example.com']) {
      const response = await browser().submit('/login', '/login', { email, password: 'not the password at all' });
      assert.equal(response.statusCode, 401);
      assertFieldValid(response.body, 'email');
      assertFieldValid(response.body, 'password');
      const alert = /<div class="alert" role="alert">([\s\S]*?)<\/div>/.exec(response.body)?.[1] ?? '';
      texts.push(visibleText(alert).trim());
    }
    assert.equal(texts[0], english.t('signIn.error.invalidCredentials'));
    assert.equal(texts[0], texts[1], 'no enumeration through the message');
    const german = await browser().submit('/login?ui_locales=de', '/login', { email: user.email, password: 'nope nope nope', ui_locales: 'de' });
    assert.ok(visibleText(german.body).includes('E-Mail-Adresse oder Passwort ist falsch.'));
  });

  it('sign-up reports every problem at once (email and short password), keeps name and email, never the password', async () => {
    const b = browser();
    const response = await b.submit('/signup', '/signup', { name: 'Ada Lovelace', email: 'not-an-address', password: 'short' });
    assert.equal(response.statusCode, 400);
    assertFieldError(response.body, 'email', english.t('signIn.error.emailInvalid'));
    const tooShort = english.t('signIn.password.tooShort', { min: t.config.passwordMinLength });
    assert.ok(tooShort.includes(String(t.config.passwordMinLength)), 'the message says the minimum');
    assertFieldError(response.body, 'password', tooShort);
    assertFieldValid(response.body, 'name');
    assert.match(inputTag(response.body, 'name'), /value="Ada Lovelace"/);
    assert.match(inputTag(response.body, 'email'), /value="not-an-address"/);
    assert.doesNotMatch(inputTag(response.body, 'password'), /value=/);
    assert.ok(!response.body.includes('"short"'), 'the typed password is not echoed');
  });

  it('sign-up: an empty email and a guessable password, both named (French); a leaked password alone on its field', async () => {
    const b = browser();
    const headers = { 'accept-language': 'fr' };
    const form = await b.get('/signup', headers);
    const both = await b.post('/signup', { name: '', email: '', password: 'password1234', csrf: formToken(form.body) }, headers);
    assert.equal(both.statusCode, 400);
    const fr = translator('fr');
    assertFieldError(both.body, 'email', fr.t('signIn.error.emailMissing'));
    assertFieldError(both.body, 'password', fr.t('signIn.password.common'));
    assert.match(both.body, /Il y a 2 problèmes/);
    const again = await b.post('/signup', { email: 'leaked@example.com', password: 'password1234', csrf: formToken(both.body) }, headers);
    assert.equal(again.statusCode, 400);
    assertFieldValid(again.body, 'email');
    assertFieldError(again.body, 'password', fr.t('signIn.password.common'));
    const context = await b.post('/signup', { email: 'marguerite.yourcenar@example.com', password: 'marguerite.yourcenar', csrf: formToken(again.body) }, headers);
    assertFieldError(context.body, 'password', fr.t('signIn.password.context'));
  });

  it('reset password: a refused password on its field, the link still usable', async () => {
    const user = await newUser();
    const b = browser();
    await b.submit('/forgot-password', '/forgot-password', { email: user.email });
    const link = localPart(await linkFromMail(t.mails, user.email, '/reset-password'));
    const form = await b.get(link, { 'accept-language': 'de' });
    const token = new URL(link, 'https://x.invalid').searchParams.get('token') ?? '';
    const refused = await b.post('/reset-password', { token, password: 'kurz', csrf: formToken(form.body) }, { 'accept-language': 'de' });
    assert.equal(refused.statusCode, 400);
    assertFieldError(refused.body, 'password', translator('de').t('signIn.password.tooShort', { min: t.config.passwordMinLength }));
    const done = await b.post('/reset-password', { token, password: 'a brand new passphrase for this account', csrf: formToken(refused.body) });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/login?notice=password-reset');
  });

  it('forgot password: a malformed address on its field', async () => {
    const response = await browser().submit('/forgot-password', '/forgot-password', { email: 'nope' });
    assert.equal(response.statusCode, 400);
    assertFieldError(response.body, 'email', english.t('signIn.error.emailInvalid'));
    assert.match(inputTag(response.body, 'email'), /value="nope"/);
  });
});

describe('sign-in pages: lockout', () => {
  it('the lockout page says how long to wait, in words and in Retry-After, in the page language', async () => {
    const user = await newUser();
    let locked: LightMyRequestResponse | undefined;
    for (let attempt = 0; attempt <= LOCKOUT_THRESHOLD && !locked; attempt += 1) {
      const response = await browser().submit('/login', '/login', { email: user.email, password: `wrong guess ${attempt}` });
      if (response.statusCode === 429) locked = response;
    }
    assert.ok(locked, 'the account locks');
    const seconds = Number(locked.headers['retry-after']);
    assert.ok(seconds > 0 && seconds <= LOCKOUT_SECONDS, `Retry-After ${locked.headers['retry-after']}`);
    const text = visibleText(locked.body);
    const wait = english.duration(seconds);
    assert.match(wait, /minute/);
    assert.ok(text.includes(english.t('signIn.error.tooManyAttempts', { wait })), `"${wait}" in the text: ${text}`);
    assert.match(inputTag(locked.body, 'email'), new RegExp(`value="${user.email}"`));

    const b = browser();
    const form = await b.get('/login', { 'accept-language': 'es' });
    const spanish = await b.post('/login', { email: user.email, password: PASSWORD, csrf: formToken(form.body) }, { 'accept-language': 'es' });
    assert.equal(spanish.statusCode, 429);
    const es = translator('es');
    const esSeconds = Number(spanish.headers['retry-after']);
    assert.ok(esSeconds > 0);
    assert.ok(visibleText(spanish.body).includes(es.t('signIn.error.tooManyAttempts', { wait: es.duration(esSeconds) })), visibleText(spanish.body));
  });
});

describe('sign-in pages: the language picker', () => {
  it('/login and / offer the four languages by their own names, in a POST form with the CSRF token', async () => {
    for (const url of ['/login', '/']) {
      const body = (await browser().get(url, { accept: 'text/html' })).body;
      const form = /<form method="post" action="\/language"[\s\S]*?<\/form>/.exec(body)?.[0];
      assert.ok(form, `${url}: a language form`);
      assert.match(form, /name="csrf"/);
      for (const [locale, name] of [['de', 'Deutsch'], ['fr', 'Français'], ['es', 'Español']]) {
        assert.ok(form.includes(`name="locale" value="${locale}" lang="${locale}">${name}</button>`), `${url}: ${name}`);
      }
      assert.match(form, /<span lang="en" aria-current="true">English/);
    }
  });

  it('choosing a language sets the cookie and returns to the same sign-in, now in that language', async () => {
    const b = browser();
    const page = await b.get(`/login?return_to=${encodeURIComponent('/account')}`);
    const back = /name="back" value="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
    assert.equal(back, '/login?return_to=%2Faccount');
    const chosen = await b.post('/language', { locale: 'de', back: back ?? '', csrf: formToken(page.body) });
    assert.equal(chosen.statusCode, 303);
    assert.equal(chosen.headers.location, back);
    const cookie = setCookies(chosen).find((set) => set.name === '__Host-gatehouse_lang');
    assert.ok(cookie && cookie.value === 'de' && cookie.attributes.includes('Secure') && cookie.attributes.includes('Path=/'));
    const german = await b.get(back ?? '/login');
    assertTranslated(german.body, 'de', ['signIn.title', 'signIn.email'], 'after choosing Deutsch');
    assert.match(german.body, /<span lang="de" aria-current="true">Deutsch/);
  });

  it('an explicit choice replaces ui_locales in the page it returns to (also inside its return_to)', async () => {
    const b = browser();
    const back = `/login?ui_locales=fr&return_to=${encodeURIComponent('/oauth/authorize?client_id=x&ui_locales=fr')}`;
    const page = await b.get(back);
    assert.match(page.body, /<html lang="fr"/);
    const chosen = await b.post('/language', { locale: 'es', back, csrf: formToken(page.body) });
    assert.equal(chosen.statusCode, 303);
    const location = new URL(String(chosen.headers.location), 'https://x.invalid');
    assert.equal(location.pathname, '/login');
    assert.equal(location.searchParams.get('ui_locales'), 'es');
    assert.equal(new URL(location.searchParams.get('return_to') ?? '', 'https://x.invalid').searchParams.get('ui_locales'), 'es');
    assert.match((await b.get(String(chosen.headers.location))).body, /<html lang="es"/);
  });

  it('refuses a POST without the CSRF token; an unknown language or a foreign back address changes nothing', async () => {
    const b = browser();
    const page = await b.get('/login');
    assert.equal((await b.post('/language', { locale: 'de', back: '/login' })).statusCode, 403);
    const unknown = await b.post('/language', { locale: 'xx', back: '/login', csrf: formToken(page.body) });
    assert.equal(unknown.statusCode, 303);
    assert.equal(setCookies(unknown).some((set) => set.name === '__Host-gatehouse_lang'), false);
    const foreign = await b.post('/language', { locale: 'fr', back: 'https://evil.example/', csrf: formToken(page.body) });
    assert.equal(foreign.statusCode, 303);
    assert.equal(foreign.headers.location, '/');
  });
});
