/**
 * The OAuth pages in the user's language and naming the application (issue 18): the consent
 * page (client name, plain scope descriptions), the sign-out confirmation ("Web App asks to sign
 * you out" when client_id identifies it), the device pages, and one whole authorization in
 * French from `ui_locales=fr` — sign-in, consent, the code at the redirect URI, the token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createBrowser } from '../../src/ui/test-browser.ts';
import { translator } from '../../src/ui/i18n/index.ts';
import { scopeDescriptions } from '../../src/ui/scopes.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { postForm } from '../support/oauth.ts';
import { deviceClients } from '../support/device.ts';
import { authorize, authorizeUrl, authzQuery, browse, clientAuth, createOidcApp, hidden, isConsentPage, pkce, redeem, redirectParams, REDIRECT, signInOnPage } from '../support/oidc.ts';

const h1 = (body: string) => /<h1>(.*?)<\/h1>/s.exec(body)?.[1];
const lang = (body: string) => /<html lang="([a-z]+)"/.exec(body)?.[1];
const items = (body: string) => [...body.matchAll(/<li>([^<]*)<\/li>/g)].map((match) => match[1]);

describe('scope descriptions (src/ui/scopes.ts)', () => {
  it('plain words for the standard and admin scopes, "Access: <scope>" for custom ones, in every language', () => {
    assert.deepEqual(scopeDescriptions(translator('en'), ['openid', 'email', 'offline_access', 'admin:users', 'admin:future', 'files:read']), [
      'Know who you are (your account ID)',
      'See your email address',
      'Stay signed in when you are not using it',
      'Manage user accounts',
      'Administer: future',
      'Access: files:read',
    ]);
    assert.deepEqual(scopeDescriptions(translator('de'), ['profile', 'files:read']), ['Ihren Namen sehen', 'Zugriff: files:read']);
    assert.deepEqual(scopeDescriptions(translator('fr'), ['email', 'roles']), ['Voir votre adresse e-mail', 'Voir vos rôles']);
    assert.deepEqual(scopeDescriptions(translator('es'), ['profile', 'toString']), ['Ver su nombre', 'Acceso: toString']);
  });
});

describe('OAuth pages: translated, naming the client', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = await createOidcApp({ clients: deviceClients() });
    cookie = await registerAndSignIn(t, 'pages-user@example.com');
  });
  after(() => t.close());

  it('the consent page in German, French and Spanish: the client by name, plain scope descriptions, <html lang>', async () => {
    const cases = [
      { locale: 'de', heading: '<strong>Web App</strong> den Zugriff auf Ihr Konto erlauben?', scopes: ['Wissen, wer Sie sind (Ihre Konto-ID)', 'Ihren Namen sehen', 'Ihre E-Mail-Adresse sehen'], allow: 'Erlauben' },
      { locale: 'fr', heading: 'Autoriser <strong>Web App</strong> à utiliser votre compte ?', scopes: ['Savoir qui vous êtes (l’identifiant de votre compte)', 'Voir votre nom', 'Voir votre adresse e-mail'], allow: 'Autoriser' },
      { locale: 'es', heading: '¿Permitir que <strong>Web App</strong> use su cuenta?', scopes: ['Saber quién es usted (el identificador de su cuenta)', 'Ver su nombre', 'Ver su dirección de correo electrónico'], allow: 'Permitir' },
    ];
    for (const want of cases) {
      const page = await t.app.inject({ url: authorizeUrl(authzQuery({ challenge: pkce().challenge, scope: 'openid profile email' })), headers: { cookie, 'accept-language': `${want.locale};q=0.9, en;q=0.1` } });
      assert.ok(isConsentPage(page), `${want.locale}: the consent page: ${page.statusCode}`);
      assert.equal(lang(page.body), want.locale);
      assert.equal(h1(page.body), want.heading);
      assert.deepEqual(items(page.body).filter((item) => want.scopes.includes(item!)), want.scopes, want.locale);
      assert.match(page.body, new RegExp(`value="allow">${want.allow}</button>`));
      assert.doesNotMatch(page.body, /See your|Allow<\/button>/, `${want.locale}: no English left`);
      assert.match(page.body, /Web App/, 'the layout shows the client');
    }
    const english = await authorize(t, authzQuery({ challenge: pkce().challenge }), cookie);
    assert.equal(h1(english.body), 'Allow <strong>Web App</strong> to use your account?');
    assert.ok(items(english.body).includes('See your email address'));
  });

  it('sign-out names the client that client_id identifies; the generic text only when nothing does', async () => {
    const named = await t.app.inject({ url: '/oauth/end-session?client_id=webapp', headers: { cookie } });
    assert.equal(named.statusCode, 200);
    assert.match(named.body, /<strong>Web App<\/strong> asks to sign you out of Gatehouse\./);
    assert.doesNotMatch(named.body, /An application asks/);
    const anonymous = await t.app.inject({ url: '/oauth/end-session', headers: { cookie } });
    assert.match(anonymous.body, /An application asks to sign you out of Gatehouse\./);
    const unknown = await t.app.inject({ url: '/oauth/end-session?client_id=nobody', headers: { cookie } });
    assert.match(unknown.body, /An application asks to sign you out/, 'an unregistered client_id names nobody');

    const french = await t.app.inject({ url: '/oauth/end-session?client_id=webapp&ui_locales=fr', headers: { cookie } });
    assert.equal(lang(french.body), 'fr');
    assert.equal(h1(french.body), 'Se déconnecter ?');
    assert.match(french.body, /<strong>Web App<\/strong> demande à vous déconnecter de Gatehouse\./);
    assert.match(french.body, />Se déconnecter<\/button>/);
    assert.match(french.body, />Rester connecté<\/a>/);
    assert.equal(hidden(french.body, 'ui_locales'), 'fr', 'the confirmation keeps the language');

    const refused = await t.app.inject({ url: '/oauth/end-session?client_id=webapp&id_token_hint=not-a-token&ui_locales=de', headers: { cookie } });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /ein ID-Token, das dieser Dienst nicht ausgestellt hat/);
  });

  it('the device pages: the code form in Spanish, then a confirmation naming the client in German', async () => {
    const b = createBrowser(t.app);
    const [name, value] = cookie.split('=') as [string, string];
    b.jar.set(name, value);
    const started = await postForm(t, '/oauth/device_authorization', { client_id: 'tv', scope: 'openid profile offline_access' });
    assert.equal(started.statusCode, 200, started.body);
    const { user_code: userCode } = started.json() as { user_code: string };

    const spanish = await b.get('/device', { 'accept-language': 'es' });
    assert.equal(h1(spanish.body), 'Conectar un dispositivo');
    const wrong = await b.post('/device', { user_code: 'BBBB-BBBB', csrf: hidden(spanish.body, 'csrf') }, { 'accept-language': 'es' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /aria-invalid="true"/);
    assert.match(wrong.body, /Ese código no es válido o ha caducado/);

    const form = await b.get('/device', { 'accept-language': 'de' });
    const entered = await b.post('/device', { user_code: userCode, csrf: hidden(form.body, 'csrf') }, { 'accept-language': 'de' });
    assert.equal(entered.statusCode, 303);
    const confirm = await b.get(String(entered.headers.location), { 'accept-language': 'de' });
    assert.equal(confirm.statusCode, 200, confirm.body.slice(0, 300));
    assert.equal(h1(confirm.body), '<strong>Living Room TV</strong> auf Ihrem Gerät erlauben?');
    assert.ok(items(confirm.body).includes('Angemeldet bleiben, auch wenn Sie die Anwendung nicht nutzen'));
    assert.match(confirm.body, /class="user-code">/);
    const done = await b.post('/device/confirm', { interaction: hidden(confirm.body, 'interaction'), decision: 'allow', csrf: hidden(confirm.body, 'csrf') }, { 'accept-language': 'de' });
    assert.equal(done.statusCode, 200);
    assert.equal(h1(done.body), 'Gerät verbunden');
    assert.match(done.body, /Living Room TV macht von selbst weiter/);

    const again = await b.post('/device/confirm', { interaction: hidden(confirm.body, 'interaction'), decision: 'allow', csrf: hidden(confirm.body, 'csrf') }, { 'accept-language': 'de' });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /Dieser Code ist abgelaufen oder wurde bereits verwendet/);
    assert.match(again.body, /<a href="\/device">Code eingeben<\/a>/);
  });
});

describe('ui_locales=fr through a whole authorization', () => {
  let t: TestApp;
  before(async () => {
    t = await createOidcApp();
    await registerAndSignIn(t, 'french-user@example.com');
  });
  after(() => t.close());

  it('French sign-in page, French consent page, the code at the redirect URI, a token for it; French errors after', async () => {
    const b = createBrowser(t.app);
    const { verifier, challenge } = pkce();
    const signInPage = await browse(t, b, authorizeUrl(authzQuery({ challenge, state: 'fr-1', extra: { ui_locales: 'fr-FR' } })));
    assert.equal(lang(signInPage.body), 'fr', 'the sign-in page is French');
    const returnTo = hidden(signInPage.body, 'return_to');
    assert.match(returnTo, /^\/oauth\/authorize\/continue\?interaction=[A-Za-z0-9_-]+&ui_locales=fr$/, 'return_to carries the language');

    const consent: LightMyRequestResponse = await signInOnPage(t, b, signInPage, 'french-user@example.com', PASSWORD);
    assert.ok(isConsentPage(consent), `the consent page: ${consent.statusCode} ${consent.body.slice(0, 300)}`);
    assert.equal(lang(consent.body), 'fr');
    assert.equal(h1(consent.body), 'Autoriser <strong>Web App</strong> à utiliser votre compte ?');
    assert.ok(items(consent.body).includes('Voir votre adresse e-mail'));
    assert.match(consent.body, /vous serez redirigé vers <strong>app\.example<\/strong>/);

    const fields = { interaction: hidden(consent.body, 'interaction'), ui_locales: hidden(consent.body, 'ui_locales'), decision: 'allow', csrf: hidden(consent.body, 'csrf') };
    const answer = await b.post('/oauth/authorize/consent', fields);
    const params = redirectParams(t, answer, REDIRECT);
    assert.equal(params.get('state'), 'fr-1');
    const code = params.get('code');
    assert.ok(code);
    const token = await redeem(t, 'webapp', code, verifier);
    assert.equal(token.statusCode, 200, token.body);

    // The same consent answered again: the error page is French too.
    const replay = await b.post('/oauth/authorize/consent', fields);
    assert.equal(replay.statusCode, 400);
    assert.equal(lang(replay.body), 'fr');
    assert.match(replay.body, /Cette demande d’autorisation n’est plus valable\. Recommencez depuis l’application\./);
    assert.match(replay.body, /<a href="\/">Aller à la page d’accueil<\/a>/);
  });

  it('a pushed request (RFC 9126) with ui_locales=fr: the consent page is French too', async () => {
    const b = createBrowser(t.app);
    // Another client than the test above: that one's consent is remembered.
    const credentials = clientAuth('webapp2');
    const push = await postForm(t, '/oauth/par', { ...credentials.params, ...authzQuery({ clientId: 'webapp2', challenge: pkce().challenge, extra: { ui_locales: 'fr' } }) }, credentials.headers);
    assert.equal(push.statusCode, 201, push.body);
    const { request_uri: requestUri } = push.json() as { request_uri: string };
    const signInPage = await browse(t, b, authorizeUrl({ client_id: 'webapp2', request_uri: requestUri }));
    assert.equal(lang(signInPage.body), 'fr', 'the sign-in page of a pushed request is French');
    const consent = await signInOnPage(t, b, signInPage, 'french-user@example.com', PASSWORD);
    assert.ok(isConsentPage(consent), `the consent page: ${consent.statusCode}`);
    assert.equal(lang(consent.body), 'fr');
    assert.equal(h1(consent.body), 'Autoriser <strong>Web App Two</strong> à utiliser votre compte ?');
  });
});
