/**
 * Error pages take their title and text from the error code, not the status (issue 18): the
 * unknown-client page is "Unknown application", not the 401's "Sign in first"; every text is in
 * the page's language (never the English description on a German page); the one link leads
 * somewhere that makes sense (the start page for an OAuth error that cannot go back to the client).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { apiError } from '../../src/errors/catalog.ts';
import { pageErrorHandler } from '../../src/ui/error-page.ts';
import { PAGE_GET } from '../../src/ui/routes.ts';
import type { TestApp } from '../support/app.ts';
import { authorize, authzQuery, createOidcApp, pkce, REDIRECT } from '../support/oidc.ts';

const h1 = (body: string) => /<h1>([^<]*)<\/h1>/.exec(body)?.[1];
const alertText = (body: string) => /<div class="alert" role="alert"><p>([^<]*)<\/p>/.exec(body)?.[1];
const link = (body: string) => /<p class="links"><a href="([^"]*)">([^<]*)<\/a><\/p>/.exec(body)?.slice(1, 3);
const lang = (body: string) => /<html lang="([a-z]+)"/.exec(body)?.[1];

describe('error pages: title and text from the error code', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify({ logger: false });
    app.setErrorHandler(pageErrorHandler);
    app.get('/unknown-client', PAGE_GET, async () => {
      throw apiError('invalid_client', 'This application is not registered.');
    });
    app.get('/bad-redirect', PAGE_GET, async () => {
      throw apiError('invalid_redirect_uri', 'The redirect_uri is not registered for this application.');
    });
    app.get('/limited', PAGE_GET, async () => {
      throw apiError('too_many_requests', 'Too many attempts. Try again in 2 minutes.', { headers: { 'retry-after': '90' } });
    });
    app.get('/conflict', PAGE_GET, async () => {
      throw apiError('conflict', 'Already there.');
    });
    app.get('/account/thing', PAGE_GET, async () => {
      throw apiError('forbidden', 'Not yours.');
    });
    await app.ready();
  });
  after(() => app.close());

  it('an unknown client is headed "Unknown application" (not "Sign in first" from its 401) and links to the start page', async () => {
    const response = await app.inject({ url: '/unknown-client' });
    assert.equal(response.statusCode, 401);
    assert.equal(h1(response.body), 'Unknown application');
    assert.doesNotMatch(response.body, /Sign in first/);
    assert.equal(alertText(response.body), 'This application is not registered.');
    assert.deepEqual(link(response.body), ['/', 'Go to the start page']);
    assert.doesNotMatch(response.body, /href="\/account"/);
  });

  it('an unregistered redirect URI is headed "Unknown return address"', async () => {
    const response = await app.inject({ url: '/bad-redirect' });
    assert.equal(h1(response.body), 'Unknown return address');
  });

  it('German, French and Spanish pages: the translated title and text of the code, never the English description', async () => {
    const expected = {
      de: { title: 'Unbekannte Anwendung', text: /nicht registriert/ },
      fr: { title: 'Application inconnue', text: /n’est pas enregistrée/ },
      es: { title: 'Aplicación desconocida', text: /no está registrada/ },
    } as const;
    for (const [locale, want] of Object.entries(expected)) {
      const response = await app.inject({ url: '/unknown-client', headers: { 'accept-language': locale } });
      assert.equal(lang(response.body), locale);
      assert.equal(h1(response.body), want.title, locale);
      assert.match(alertText(response.body) ?? '', want.text, locale);
      assert.doesNotMatch(response.body, /This application is not registered/, `${locale}: no English description`);
    }
    const french = await app.inject({ url: '/unknown-client?ui_locales=fr' });
    assert.equal(h1(french.body), 'Application inconnue', 'ui_locales picks the language too');
    assert.deepEqual(link(french.body), ['/', 'Aller à la page d’accueil']);
  });

  it('too many attempts: the wait from Retry-After, in the page language', async () => {
    const german = await app.inject({ url: '/limited', headers: { 'accept-language': 'de' } });
    assert.equal(german.statusCode, 429);
    assert.equal(german.headers['retry-after'], '90');
    assert.equal(h1(german.body), 'Zu viele Versuche');
    assert.equal(alertText(german.body), 'Zu viele Versuche. Versuchen Sie es in 2 Minuten erneut.');
  });

  it('a code without its own entry falls back to its status; account pages link back to the account', async () => {
    const conflict = await app.inject({ url: '/conflict', headers: { 'accept-language': 'fr' } });
    assert.equal(conflict.statusCode, 409);
    assert.equal(h1(conflict.body), 'Une erreur s’est produite');
    const account = await app.inject({ url: '/account/thing', headers: { 'accept-language': 'es' } });
    assert.equal(h1(account.body), 'Solicitud rechazada');
    assert.deepEqual(link(account.body), ['/account', 'Ir a su cuenta']);
  });

  it('the 500 page is translated and shows only the request reference', async () => {
    const boom = Fastify({ logger: false });
    boom.setErrorHandler(pageErrorHandler);
    boom.get('/boom', PAGE_GET, async () => {
      throw new Error('secret detail');
    });
    const response = await boom.inject({ url: '/boom', headers: { 'accept-language': 'es' } });
    await boom.close();
    assert.equal(response.statusCode, 500);
    assert.equal(h1(response.body), 'Algo ha salido mal');
    assert.match(response.body, /Referencia: <code>/);
    assert.doesNotMatch(response.body, /secret detail/);
  });
});

describe('error pages of the authorization endpoint (real app)', () => {
  let t: TestApp;
  before(async () => {
    t = await createOidcApp();
  });
  after(() => t.close());

  it('an unknown client_id: "Unknown application", a link to the start page (no redirect back to an unverified client)', async () => {
    const response = await authorize(t, authzQuery({ clientId: 'nobody', challenge: pkce().challenge }));
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers.location, undefined);
    assert.equal(h1(response.body), 'Unknown application');
    assert.deepEqual(link(response.body), ['/', 'Go to the start page']);
    assert.doesNotMatch(response.body, new RegExp(`href="${REDIRECT}`));
  });

  it('with ui_locales=fr the same page is French', async () => {
    const response = await authorize(t, authzQuery({ clientId: 'nobody', challenge: pkce().challenge, extra: { ui_locales: 'fr-CA fr' } }));
    assert.equal(lang(response.body), 'fr');
    assert.equal(h1(response.body), 'Application inconnue');
    assert.doesNotMatch(response.body, /not registered/);
  });

  it('an expired continuation: the context message in the page language', async () => {
    const response = await t.app.inject({ url: '/oauth/authorize/continue?interaction=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&ui_locales=de' });
    assert.equal(response.statusCode, 400);
    assert.equal(h1(response.body), 'Mit der Anfrage stimmt etwas nicht');
    assert.equal(alertText(response.body), 'Diese Anmeldeanfrage ist abgelaufen. Beginnen Sie in der Anwendung neu.');
  });

  it('the not-found page in Spanish', async () => {
    const response = await t.app.inject({ url: '/no-such-page', headers: { accept: 'text/html', 'accept-language': 'es' } });
    assert.equal(response.statusCode, 404);
    assert.equal(h1(response.body), 'Página no encontrada');
  });
});
