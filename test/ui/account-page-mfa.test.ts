/**
 * The MFA pages translated, with field-level errors: adding an authenticator app on
 * /account/mfa (empty and wrong codes next to the code field, the typed name kept), renaming a
 * factor, and the second step of a sign-in at /login/mfa — in German, through `app.inject()`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { base32Decode } from '../support/mfa.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { createBrowser, formToken, signUpViaApi, type PageBrowser } from '../../src/ui/test-browser.ts';

const PASSWORD = 'correct horse battery staple';
const GERMAN = { 'accept-language': 'de' };
let t: TestApp;

function browser(headers: Record<string, string>): PageBrowser {
  const b = createBrowser(t.app);
  return {
    jar: b.jar,
    get: (url, extra = {}) => b.get(url, { ...headers, ...extra }),
    post: (url, fields, extra = {}) => b.post(url, fields, { ...headers, ...extra }),
    submit: async (formUrl, action, fields) => b.post(action, { ...fields, csrf: formToken((await b.get(formUrl, headers)).body) }, headers),
  };
}

function hidden(body: string, name: string): string {
  const value = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(body)?.[1];
  assert.ok(value !== undefined, `hidden ${name}`);
  return value;
}

before(async () => {
  t = await createTestApp({ env: { GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '1000', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '1000' } });
});
after(() => t.close());

describe('MFA pages in German with field errors', () => {
  const email = 'mfa-pages@example.com';
  let secret: Buffer;
  let b: PageBrowser;

  it('/account/mfa → add an authenticator app: an empty code and a wrong one are shown next to the code field, the name kept', async () => {
    await signUpViaApi(t.app, { email, password: PASSWORD });
    b = browser(GERMAN);
    assert.equal((await b.submit('/login', '/login', { email, password: PASSWORD })).statusCode, 303);
    const overview = await b.get('/account/mfa');
    assert.match(overview.body, /<html lang="de"/);
    assert.match(overview.body, /<h1>Zwei-Faktor-Authentifizierung<\/h1>/);
    assert.match(overview.body, /<button type="submit">Authenticator-App hinzufügen<\/button>/);
    assert.match(overview.body, /<p>Noch keine\.<\/p>/);

    const start = await b.post('/account/mfa/totp', { csrf: formToken(overview.body) });
    assert.equal(start.statusCode, 200);
    assert.match(start.body, /<h1>Authenticator-App hinzufügen<\/h1>/);
    assert.match(start.body, /alt="QR-Code für Ihre Authenticator-App"/);
    const key = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(start.body)?.[1];
    assert.ok(key);
    secret = base32Decode(key.replace(/ /g, ''));
    let enrolmentId = hidden(start.body, 'enrolment_id');

    const empty = await b.post('/account/mfa/totp/confirm', { csrf: hidden(start.body, 'csrf'), enrolment_id: enrolmentId, name: 'Mein Telefon', code: '' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /<h2 id="error-summary-title">Es gibt ein Problem<\/h2>/);
    assert.match(empty.body, /<p class="field-error" id="code-error">Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein\.<\/p>\n<input id="code" [^>]* aria-invalid="true" aria-describedby="code-error">/);
    assert.match(empty.body, /<input id="name" name="name" type="text" autocomplete="off" value="Mein Telefon"/, 'the typed name is kept');
    const scan = (body: string) => {
      const key = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(body)?.[1];
      assert.ok(key);
      return { secret: base32Decode(key.replace(/ /g, '')), enrolmentId: hidden(body, 'enrolment_id') };
    };
    ({ secret, enrolmentId } = scan(empty.body));

    const current = totp(secret, Date.now());
    const wrong = await b.post('/account/mfa/totp/confirm', { csrf: hidden(empty.body, 'csrf'), enrolment_id: enrolmentId, name: 'Mein Telefon', code: current === '000000' ? '111111' : '000000' });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /<p class="field-error" id="code-error">Dieser Code ist nicht richtig\./);
    assert.doesNotMatch(wrong.body, /That code is not correct/, 'never the service\'s English text');
    ({ secret, enrolmentId } = scan(wrong.body));

    const done = await b.post('/account/mfa/totp/confirm', { csrf: hidden(wrong.body, 'csrf'), enrolment_id: enrolmentId, name: 'Mein Telefon', code: totp(secret, Date.now()) });
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /<h1>Authenticator-App hinzugefügt<\/h1>/);
    assert.match(done.body, /<h2>Ihre Wiederherstellungscodes<\/h2>/);
    assert.match(done.body, /<pre class="recovery-codes">/);
  });

  it('lists the factor in German (kind, times, recovery codes left, plural); an empty rename is refused next to that field', async () => {
    const overview = await b.get('/account/mfa?notice=totp-added');
    assert.match(overview.body, /role="status"><p>Die Authenticator-App wurde hinzugefügt\.<\/p>/);
    assert.match(overview.body, /<strong>Mein Telefon<\/strong> <span class="ua">Authenticator-App<\/span>/);
    assert.match(overview.body, /Hinzugefügt: <time datetime=/);
    assert.match(overview.body, /<p>10 von 10 unbenutzt\./);
    const factorId = /action="\/account\/mfa\/factors\/([^/]+)\/rename"/.exec(overview.body)?.[1];
    assert.ok(factorId);
    const refused = await b.post(`/account/mfa/factors/${factorId}/rename`, { csrf: formToken(overview.body), name: '   ' });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, new RegExp(`<li><a href="#name-${factorId}">Geben Sie einen Namen ein\\.</a></li>`));
    assert.match(refused.body, new RegExp(`<input id="name-${factorId}" [^>]* aria-invalid="true" aria-describedby="name-${factorId}-error">`));
  });

  it('the second step of a sign-in: an empty and a wrong code next to the code field, in German; the right one signs in', async () => {
    const next = browser(GERMAN);
    const first = await next.submit('/login', '/login', { email, password: PASSWORD });
    assert.equal(first.statusCode, 303);
    assert.match(String(first.headers.location), /^\/login\/mfa/);
    const page = await next.get('/login/mfa');
    assert.match(page.body, /<h1>Zwei-Faktor-Authentifizierung<\/h1>/);
    assert.match(page.body, /<summary>Stattdessen einen Wiederherstellungscode verwenden<\/summary>/);

    const empty = await next.post('/login/mfa', { csrf: formToken(page.body), method: 'totp', code: '' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /<p class="field-error" id="code-error">Geben Sie den 6-stelligen Code/);
    const recovery = await next.post('/login/mfa', { csrf: formToken(page.body), method: 'recovery_code', code: 'nope-nope' });
    assert.equal(recovery.statusCode, 401);
    assert.match(recovery.body, /<details open>/, 'the recovery form is shown open');
    assert.match(recovery.body, /<p class="field-error" id="recovery-code-error">Dieser Wiederherstellungscode ist nicht richtig/);
    const signedIn = await next.post('/login/mfa', { csrf: formToken(page.body), method: 'totp', code: totp(secret, Date.now() + 30_000) });
    assert.equal(signedIn.statusCode, 303, signedIn.body.slice(-2000));
    assert.match((await next.get('/account')).body, /<h1>Ihr Konto<\/h1>/);
  });
});
