/**
 * The account page in every shipped language, its sections, the session list's device names,
 * field-level errors on the change-password form, and the language setting (a preference cookie
 * that outranks Accept-Language, below `ui_locales`) — through the real app with `app.inject()`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createBrowser, formToken, setCookies, signUpViaApi, type PageBrowser } from '../../src/ui/test-browser.ts';

const PASSWORD = 'correct horse battery staple';
const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
let t: TestApp;
let counter = 0;

/** A browser whose every request carries `headers` (its language, its user agent). */
function browser(headers: Record<string, string> = {}): PageBrowser {
  const b = createBrowser(t.app);
  return {
    jar: b.jar,
    get: (url, extra = {}) => b.get(url, { ...headers, ...extra }),
    post: (url, fields, extra = {}) => b.post(url, fields, { ...headers, ...extra }),
    submit: async (formUrl, action, fields) => {
      const page = await b.get(formUrl, headers);
      assert.equal(page.statusCode, 200, `GET ${formUrl}`);
      return b.post(action, { ...fields, csrf: formToken(page.body) }, headers);
    },
  };
}

async function signedIn(headers: Record<string, string> = {}): Promise<{ b: PageBrowser; email: string }> {
  counter += 1;
  const email = `account-page-${counter}@example.com`;
  await signUpViaApi(t.app, { email, password: PASSWORD });
  const b = browser(headers);
  const response = await b.submit('/login', '/login', { email, password: PASSWORD });
  assert.equal(response.statusCode, 303, response.body);
  return { b, email };
}

/** The text of every h2 and h3 in `main`, in order. */
function headings(body: string): string[] {
  const main = body.slice(body.indexOf('<main'));
  return [...main.matchAll(/<h([23])[^>]*>([^<]*)<\/h\1>/g)].map((match) => match[2]!);
}

before(async () => {
  t = await createTestApp({ env: { GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '1000', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '1000' } });
});
after(() => t.close());

describe('account page translations and sections', () => {
  it('in German: <html lang="de">, every section heading and the navigation translated, no English heading left', async () => {
    const { b } = await signedIn({ 'accept-language': 'de-DE,de;q=0.9,en;q=0.5', 'user-agent': CHROME_LINUX });
    const page = await b.get('/account');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html lang="de" dir="ltr">/);
    assert.match(page.body, /<title>Ihr Konto · /);
    assert.match(page.body, /<h1>Ihr Konto<\/h1>/);
    const found = headings(page.body);
    for (const heading of ['Profil', 'E-Mail-Adresse', 'Sicherheit', 'Passwort ändern', 'Zwei-Faktor-Authentifizierung', 'Wo Sie angemeldet sind', 'Abmelden', 'Anwendungen', 'Verknüpfte Konten', 'Sprache', 'Gefahrenbereich']) {
      assert.ok(found.includes(heading), `heading "${heading}" in ${JSON.stringify(found)}`);
    }
    for (const english of ['Profile', 'Security', 'Change password', 'Two-step verification', 'Where you are signed in', 'Applications', 'Linked accounts', 'Language', 'Danger zone']) {
      assert.ok(!found.includes(english), `no English heading "${english}"`);
    }
    assert.match(page.body, /<nav class="account-nav" aria-label="Bereiche Ihres Kontos">/);
    for (const [id, text] of [['profile', 'Profil'], ['security', 'Sicherheit'], ['applications', 'Anwendungen'], ['language', 'Sprache'], ['danger-zone', 'Gefahrenbereich']]) {
      assert.match(page.body, new RegExp(`<li><a href="#${id}">${text}</a></li>`));
      assert.match(page.body, new RegExp(`id="${id}"`), `the link target #${id} exists`);
    }
    // The session list: a short device name, this device marked, times through Intl, the full string on demand.
    assert.match(page.body, /<strong>Chrome unter Linux<\/strong> <span class="tag">Dieses Gerät<\/span>/);
    assert.match(page.body, /Angemeldet: <time datetime="\d{4}-\d\d-\d\dT[^"]+">[^<]+ UTC<\/time>/);
    assert.match(page.body, /Zuletzt aktiv: <time datetime=/);
    assert.match(page.body, /<summary>Browserdetails<\/summary>\n<p class="ua">Mozilla\/5\.0 \(X11; Linux x86_64\)/);
    assert.match(page.body, /<button type="submit" class="danger">Dieses Gerät abmelden<\/button>/);
  });

  it('in French and Spanish (Accept-Language), with the page language selected in the Language section', async () => {
    for (const [language, title, security] of [['fr', 'Votre compte', 'Sécurité'], ['es', 'Su cuenta', 'Seguridad']] as const) {
      const { b } = await signedIn({ 'accept-language': language });
      const page = await b.get('/account');
      assert.match(page.body, new RegExp(`<html lang="${language}" dir="ltr">`));
      assert.match(page.body, new RegExp(`<h1>${title}</h1>`));
      assert.ok(headings(page.body).includes(security));
      assert.match(page.body, new RegExp(`<option value="${language}" lang="${language}" selected>`));
    }
  });

  it('names each session\'s device; an unknown one is "Unknown device", translated', async () => {
    const { b, email } = await signedIn({ 'user-agent': CHROME_LINUX });
    const phone = browser({ 'user-agent': SAFARI_IPHONE });
    assert.equal((await phone.submit('/login', '/login', { email, password: PASSWORD })).statusCode, 303);
    const bare = browser({ 'user-agent': '' });
    assert.equal((await bare.submit('/login', '/login', { email, password: PASSWORD })).statusCode, 303);
    const page = await b.get('/account');
    assert.match(page.body, /<strong>Chrome on Linux<\/strong> <span class="tag">This device<\/span>/);
    assert.match(page.body, /<strong>Safari on iPhone<\/strong><\/p>/);
    assert.match(page.body, /<strong>Unknown device<\/strong><\/p>/);
    const german = await b.get('/account', { 'accept-language': 'de' });
    assert.match(german.body, /<strong>Safari auf dem iPhone<\/strong><\/p>/);
    assert.match(german.body, /<strong>Chrome unter Linux<\/strong> <span class="tag">Dieses Gerät<\/span>/);
    assert.match(german.body, /<strong>Unbekanntes Gerät<\/strong><\/p>/);
  });
});

describe('change password: every problem at once, next to its field', () => {
  it('both fields empty → 400, two errors, each next to its field (aria-invalid, aria-describedby), a summary linking to both', async () => {
    const { b } = await signedIn();
    const response = await b.submit('/account', '/account/password', { current_password: '', new_password: '' });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /<h2 id="error-summary-title">There are 2 problems<\/h2>/);
    assert.match(response.body, /<li><a href="#current-password">Enter your current password\.<\/a><\/li>\n?<li><a href="#new-password">Enter a new password\.<\/a><\/li>/);
    assert.match(response.body, /<input id="current-password" name="current_password" type="password"[^>]* aria-invalid="true" aria-describedby="current-password-error">/);
    assert.match(response.body, /<input id="new-password" name="new_password" type="password"[^>]* aria-invalid="true" aria-describedby="new-password-error new-password-hint">/);
  });

  it('in German, a short new password and no current one: both translated; the typed password is never sent back', async () => {
    const { b } = await signedIn({ 'accept-language': 'de' });
    const response = await b.submit('/account', '/account/password', { current_password: '', new_password: 'kurz' });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /<h2 id="error-summary-title">Es gibt 2 Probleme<\/h2>/);
    assert.match(response.body, /<p class="field-error" id="current-password-error">Geben Sie Ihr aktuelles Passwort ein\.<\/p>/);
    assert.match(response.body, /<p class="field-error" id="new-password-error">Das neue Passwort ist zu kurz: Verwenden Sie mindestens 8 Zeichen\.<\/p>/);
    assert.doesNotMatch(response.body, /value="kurz"/);
  });

  it('a wrong current password → 401 next to that field; a guessable new one → 400 next to the new one; the right pair works', async () => {
    const { b, email } = await signedIn({ 'accept-language': 'fr' });
    const wrong = await b.submit('/account', '/account/password', { current_password: 'not my password', new_password: 'a brand new passphrase' });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /<p class="field-error" id="current-password-error">Le mot de passe actuel est incorrect\.<\/p>/);
    assert.doesNotMatch(wrong.body, /id="new-password-error"/);
    const guessable = await b.submit('/account', '/account/password', { current_password: PASSWORD, new_password: `${email.split('@')[0]}` });
    assert.equal(guessable.statusCode, 400);
    assert.match(guessable.body, /<p class="field-error" id="new-password-error">Le nouveau mot de passe est trop facile à deviner/);
    const changed = await b.submit('/account', '/account/password', { current_password: PASSWORD, new_password: 'a brand new passphrase' });
    assert.equal(changed.statusCode, 303);
    const page = await b.get(String(changed.headers.location));
    assert.match(page.body, /role="status"><p>Votre mot de passe a été modifié/);
  });
});

describe('language setting', () => {
  it('POST /account/language sets the preference cookie; it then outranks Accept-Language on every page, below ui_locales', async () => {
    const { b } = await signedIn({ 'accept-language': 'de' });
    assert.match((await b.get('/account')).body, /<html lang="de"/);
    const saved = await b.submit('/account', '/account/language', { locale: 'fr' });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, '/account?notice=language-saved#language');
    const cookie = setCookies(saved).find((set) => set.name === '__Host-gatehouse_lang');
    assert.ok(cookie, 'the preference cookie is set');
    assert.equal(cookie.value, 'fr');
    assert.ok(cookie.attributes.includes('Secure') && cookie.attributes.includes('Path=/'), cookie.raw);

    const page = await b.get('/account?notice=language-saved');
    assert.match(page.body, /<html lang="fr" dir="ltr">/, 'the cookie wins over Accept-Language: de');
    assert.match(page.body, /role="status"><p>Votre langue a été enregistrée pour ce navigateur\.<\/p>/);
    assert.match(page.body, /<option value="fr" lang="fr" selected>Français<\/option>/);
    assert.match((await b.get('/account/mfa')).body, /<html lang="fr"/, 'and on the other pages');
    assert.match((await b.get('/account?ui_locales=es')).body, /<html lang="es"/, 'ui_locales still comes first');

    const back = await b.submit('/account', '/account/language', { locale: 'en' });
    assert.equal(setCookies(back).find((set) => set.name === '__Host-gatehouse_lang')?.value, 'en');
    assert.match((await b.get('/account')).body, /<html lang="en"/);
  });

  it('refuses an unknown language (400, translated, no cookie) and a POST without the CSRF token (403)', async () => {
    const { b } = await signedIn({ 'accept-language': 'es' });
    const unknown = await b.submit('/account', '/account/language', { locale: 'xx' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /Elija uno de los idiomas de la lista\./);
    assert.equal(setCookies(unknown).some((set) => set.name === '__Host-gatehouse_lang'), false);
    const forged = await b.post('/account/language', { locale: 'fr' });
    assert.equal(forged.statusCode, 403);
    assert.equal(setCookies(forged).some((set) => set.name === '__Host-gatehouse_lang'), false);
  });

  it('a signed-out browser is sent to sign in', async () => {
    const b = browser();
    const token = formToken((await b.get('/login')).body);
    const response = await b.post('/account/language', { locale: 'de', csrf: token });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/login?return_to=%2Faccount');
  });
});
