/**
 * The sign-in page during an OAuth authorization (issue 18): it names the registered client it
 * signs in for ("Sign in to continue to Acme Notes") and speaks the authorization request's
 * `ui_locales`. Through the real app: /oauth/authorize → 303 /login → the page.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { TestApp } from '../support/app.ts';
import { createOAuthApp, fixtureClients } from '../support/oauth.ts';
import { translator } from '../../src/ui/i18n/translate.ts';
import { html, toHtmlString } from '../../src/ui/html.ts';
import { createBrowser, formToken, signUpViaApi, type PageBrowser } from '../../src/ui/test-browser.ts';

const REDIRECT = 'https://notes.example/callback';
const PASSWORD = 'correct horse battery staple';
let t: TestApp;

function browser(): PageBrowser {
  return createBrowser(t.app);
}

function authorizeUrl(extra: Record<string, string> = {}): string {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({ client_id: 'acme-notes', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid email', state: 'st', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
  return `/oauth/authorize?${query}`;
}

/** The "continue to" sentence as the page renders it, in `locale`. */
function continueTo(locale: 'en' | 'de' | 'fr' | 'es', name: string): string {
  return toHtmlString(translator(locale).tHtml('signIn.continueTo', { client: html`<b>${name}</b>` }));
}

before(async () => {
  t = await createOAuthApp({
    clients: fixtureClients({
      extra: [{ client_id: 'acme-notes', name: 'Acme Notes', type: 'public', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [REDIRECT], scopes: ['openid', 'email'], audiences: [] }],
    }),
  });
  await signUpViaApi(t.app, { email: 'oauth-sign-in@example.com', password: PASSWORD });
});
after(() => t.close());

describe('sign-in during an authorization', () => {
  it('names the client: /oauth/authorize sends the browser to a sign-in that says "Sign in to continue to Acme Notes"', async () => {
    const b = browser();
    const start = await b.get(authorizeUrl());
    assert.equal(start.statusCode, 303, start.body);
    const login = String(start.headers.location);
    assert.match(login, /^\/login\?return_to=/);
    const page = await b.get(login);
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(continueTo('en', 'Acme Notes')), 'the client is named');
    // The password form stays the page's primary action and leads back into the authorization.
    const returnTo = /name="return_to" value="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(returnTo?.startsWith('/oauth/authorize/continue?interaction='), returnTo);
    const signedIn = await b.post('/login', { email: 'oauth-sign-in@example.com', password: PASSWORD, return_to: returnTo ?? '', csrf: formToken(page.body) });
    assert.equal(signedIn.statusCode, 303);
    assert.equal(signedIn.headers.location, returnTo);
  });

  it('ui_locales=fr at /oauth/authorize gives a French sign-in page naming the client', async () => {
    const b = browser();
    const start = await b.get(authorizeUrl({ ui_locales: 'fr-CA fr en' }), { 'accept-language': 'de' });
    assert.equal(start.statusCode, 303, start.body);
    const page = await b.get(String(start.headers.location), { 'accept-language': 'de' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html lang="fr"/);
    assert.ok(page.body.includes(continueTo('fr', 'Acme Notes')), 'Connectez-vous pour continuer vers <b>Acme Notes</b>');
    assert.match(page.body, /<h1>Connexion<\/h1>/);
    assert.ok(!page.body.includes('Forgot your password?'));
    // A wrong password on that page keeps French and the client.
    const returnTo = /name="return_to" value="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&') ?? '';
    const refused = await b.post('/login', { email: 'oauth-sign-in@example.com', password: 'not it at all', return_to: returnTo, csrf: formToken(page.body) }, { 'accept-language': 'de' });
    assert.equal(refused.statusCode, 401);
    assert.match(refused.body, /<html lang="fr"/);
    assert.ok(refused.body.includes(translator('fr').t('signIn.error.invalidCredentials')));
    assert.ok(refused.body.includes(continueTo('fr', 'Acme Notes')));
  });

  it('a return_to that is an authorization request names its registered client; unknown clients and other paths name nothing', async () => {
    const b = browser();
    const direct = await b.get(`/login?return_to=${encodeURIComponent(authorizeUrl())}`);
    assert.ok(direct.body.includes(continueTo('en', 'Acme Notes')));
    for (const returnTo of [authorizeUrl({ client_id: 'no-such-client' }), '/account', '/oauth/authorize/continue?interaction=expired-or-forged', '/oauth/authorize?request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc']) {
      const page = await b.get(`/login?return_to=${encodeURIComponent(returnTo)}`);
      assert.equal(page.statusCode, 200, returnTo);
      assert.doesNotMatch(page.body, /class="client-context"/, returnTo);
    }
  });
});
