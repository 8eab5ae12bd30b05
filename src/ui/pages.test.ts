/**
 * The HTML pages through `app.inject()`: headers on every page (SEC-ASVS-10), CSRF on every
 * POST including login (SEC-ASVS-07), session cookie and fixation (SEC-SESS-01/04/05),
 * server-side logout (SEC-SESS-08), usable password forms (SEC-PWD-04), open-redirect guard,
 * output escaping.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { CSRF_COOKIE } from '../http/csrf.ts';
import { createBrowser, formToken, setCookies, signUpViaApi, type PageBrowser } from './test-browser.ts';

const PASSWORD = 'correct horse battery staple';
let t: TestApp;
let origin: string;
let sessionCookie: string;
/** Every response of the file, scanned at the end for secrets (SEC-SESS-05). */
const responses: LightMyRequestResponse[] = [];
/** Every session-cookie and CSRF-cookie value handed out during the file. */
const secrets = new Set<string>();
let counter = 0;

function browser(): PageBrowser {
  return createBrowser(t.app, (response) => {
    responses.push(response);
    for (const cookie of setCookies(response)) if (cookie.value !== '') secrets.add(cookie.value);
  });
}

async function newUser(name?: string): Promise<{ email: string; password: string }> {
  counter += 1;
  const user = { email: `pages-${counter}@example.com`, password: PASSWORD };
  await signUpViaApi(t.app, { ...user, ...(name === undefined ? {} : { name }) });
  return user;
}

async function signedIn(user?: { email: string; password: string }): Promise<{ browser: PageBrowser; email: string; password: string }> {
  const account = user ?? (await newUser());
  const b = browser();
  const response = await b.submit('/login', '/login', { email: account.email, password: account.password });
  assert.equal(response.statusCode, 303, response.body);
  assert.ok(b.jar.get(sessionCookie), 'signed in');
  return { browser: b, ...account };
}

async function sessionStatus(cookieValue: string): Promise<number> {
  const response = await t.app.inject({ url: '/api/auth/session', headers: { cookie: `${sessionCookie}=${cookieValue}` } });
  return response.statusCode;
}

function assertPageHeaders(response: LightMyRequestResponse, what: string): void {
  assert.match(String(response.headers['content-type']), /^text\/html; charset=utf-8$/, what);
  const csp = String(response.headers['content-security-policy']);
  const nonce = /style-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
  assert.ok(nonce && Buffer.from(nonce, 'base64').length === 16, `${what}: a 128-bit nonce in the CSP`);
  assert.ok(response.body.includes(`<style nonce="${nonce}">`), `${what}: the <style> carries the header's nonce`);
  for (const directive of ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'", "form-action 'self'"]) {
    assert.ok(csp.includes(directive), `${what}: CSP has ${directive}`);
  }
  assert.equal(response.headers['x-frame-options'], 'DENY', what);
  assert.equal(response.headers['cache-control'], 'no-store', what);
  assert.equal(response.headers['x-content-type-options'], 'nosniff', what);
  assert.equal(response.headers['referrer-policy'], 'no-referrer', what);
  // Scripts only where a WebAuthn ceremony needs them: external files of ours, each with the
  // response's nonce, allowed by a script-src nonce; never an inline script or handler.
  const scripts = [...response.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)];
  for (const [, attributes = '', body = ''] of scripts) {
    assert.match(attributes, new RegExp(`nonce="${nonce.replace(/[+/=]/g, '\\$&')}" src="/assets/[a-z-]+\\.js"`), `${what}: a script carries the nonce and loads one of our files`);
    assert.equal(body.trim(), '', `${what}: no inline script`);
  }
  if (scripts.length > 0) assert.ok(csp.includes(`script-src 'nonce-${nonce}'`), `${what}: script-src allows only the nonce`);
  else assert.ok(!csp.includes('script-src') || csp.includes("script-src 'none'"), `${what}: no script, no script-src`);
  assert.doesNotMatch(response.body, /\son[a-z]+=/i, `${what}: no inline event handler`);
  assert.match(response.body, /<html lang="en"[ >]/);
  assert.match(response.body, /<meta name="referrer" content="no-referrer">/);
  assert.match(response.body, /<main>/);
}

/** Every visible input has a `<label for>` naming its id. */
function assertLabelled(body: string, what: string): void {
  for (const match of body.matchAll(/<input ([^>]*)>/g)) {
    const attributes = match[1] ?? '';
    if (/type="hidden"|\shidden(\s|$)/.test(attributes)) continue;
    const id = /id="([^"]+)"/.exec(attributes)?.[1];
    assert.ok(id, `${what}: input has an id: ${attributes}`);
    assert.ok(body.includes(`<label for="${id}">`), `${what}: a label for #${id}`);
  }
}

before(async () => {
  // Many accounts and sign-ins from one test IP: the limits themselves are tested in rate-limit.
  t = await createTestApp({ env: { GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '1000', GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '1000' } });
  origin = new URL(t.config.publicUrl).origin;
  sessionCookie = t.config.sessionCookieName;
});
after(() => t.close());

describe('pages: headers and markup', () => {
  it('SEC-ASVS-10: every page GET is HTML with a per-response CSP nonce, no framing, no-store, no script; forms carry a csrf field (SEC-ASVS-07)', async () => {
    const { browser: b } = await signedIn();
    const nonces = new Set<string>();
    for (const url of ['/login', '/login?return_to=%2Faccount', '/signup', '/forgot-password', '/reset-password?token=abc', '/verify-email?token=abc', '/account']) {
      const response = await b.get(url);
      assert.equal(response.statusCode, 200, url);
      assertPageHeaders(response, url);
      assertLabelled(response.body, url);
      nonces.add(String(response.headers['content-security-policy']));
      const forms = response.body.match(/<form /g) ?? [];
      const tokens = response.body.match(/name="csrf"/g) ?? [];
      assert.ok(forms.length > 0 && tokens.length === forms.length, `${url}: every form has a csrf field`);
    }
    assert.equal(nonces.size, 7, 'a new nonce on every response');
  });

  it('SEC-ASVS-10: error pages (403, 400, 415) carry the same headers', async () => {
    const b = browser();
    await b.get('/login');
    const refused = await b.post('/login', { email: 'a@example.com', password: 'x' });
    assert.equal(refused.statusCode, 403);
    assertPageHeaders(refused, 'csrf 403');
    assert.match(refused.body, /role="alert"/);
    assertPageHeaders(await b.get('/reset-password'), 'reset without token');
    const wrongType = await b.post('/login', { email: 'a@example.com' }, { 'content-type': 'text/plain' });
    assert.equal(wrongType.statusCode, 415);
    assertPageHeaders(wrongType, 'text/plain 415');
  });

  it('SEC-PWD-04: password fields are type=password with current-password / new-password autocomplete, never prefilled', async () => {
    const { browser: b } = await signedIn();
    const expect: Record<string, string[]> = {
      '/login': ['password:current-password'],
      '/signup': ['password:new-password'],
      '/reset-password?token=abc': ['password:new-password'],
      '/account': ['current_password:current-password', 'new_password:new-password'],
    };
    for (const [url, fields] of Object.entries(expect)) {
      const body = (await b.get(url)).body;
      for (const spec of fields) {
        const [name, autocomplete] = spec.split(':');
        const tag = new RegExp(`<input [^>]*name="${name}"[^>]*>`).exec(body)?.[0] ?? '';
        assert.match(tag, /type="password"/, `${url} ${name}`);
        assert.match(tag, new RegExp(`autocomplete="${autocomplete}"`), `${url} ${name}`);
        assert.doesNotMatch(tag, /value=|maxlength=|onpaste/, `${url} ${name}: empty, no length cap, paste allowed`);
      }
    }
  });
});

describe('pages: CSRF (SEC-ASVS-07)', () => {
  it('SEC-ASVS-07: POST /login without a token → 403 and no session', async () => {
    const user = await newUser();
    const b = browser();
    await b.get('/login');
    const response = await b.post('/login', { ...user });
    assert.equal(response.statusCode, 403);
    assert.equal(b.jar.get(sessionCookie), undefined);
  });

  it('SEC-ASVS-07: a valid token with Origin https://evil.example → 403', async () => {
    const user = await newUser();
    const b = browser();
    const csrf = formToken((await b.get('/login')).body);
    const response = await b.post('/login', { ...user, csrf }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(response.statusCode, 403);
    assert.equal(b.jar.get(sessionCookie), undefined);
  });

  it('SEC-ASVS-07: Origin: null (what no-referrer pages send) is judged by Sec-Fetch-Site: cross-site / same-site → 403, same-origin → allowed', async () => {
    const user = await newUser();
    for (const site of ['cross-site', 'same-site']) {
      const b = browser();
      const csrf = formToken((await b.get('/login')).body);
      const response = await b.post('/login', { ...user, csrf }, { origin: 'null', 'sec-fetch-site': site });
      assert.equal(response.statusCode, 403, site);
      assert.equal(b.jar.get(sessionCookie), undefined);
    }
    const b = browser();
    const csrf = formToken((await b.get('/login')).body);
    assert.equal((await b.post('/login', { ...user, csrf }, { origin: 'null', 'sec-fetch-site': 'same-origin' })).statusCode, 303);
  });

  it('SEC-ASVS-07: the real Origin of this server is accepted too (browsers with another referrer policy)', async () => {
    const user = await newUser();
    const b = browser();
    const csrf = formToken((await b.get('/login')).body);
    assert.equal((await b.post('/login', { ...user, csrf }, { origin, 'sec-fetch-site': 'same-origin' })).statusCode, 303);
  });

  it('SEC-ASVS-07: Sec-Fetch-Site: cross-site without Origin → 403', async () => {
    const user = await newUser();
    const b = browser();
    const csrf = formToken((await b.get('/login')).body);
    const response = await b.post('/login', { ...user, csrf }, { origin: undefined, 'sec-fetch-site': 'cross-site' });
    assert.equal(response.statusCode, 403);
    assert.equal(b.jar.get(sessionCookie), undefined);
  });

  it("SEC-ASVS-07: login CSRF — the attacker's own token does not work in the victim's browser", async () => {
    const attacker = await newUser();
    const attackerBrowser = browser();
    const attackerToken = formToken((await attackerBrowser.get('/login')).body);
    const victim = browser();
    await victim.get('/login'); // the victim has a CSRF cookie of their own
    assert.notEqual(victim.jar.get(CSRF_COOKIE), attackerBrowser.jar.get(CSRF_COOKIE));
    const response = await victim.post('/login', { ...attacker, csrf: attackerToken });
    assert.equal(response.statusCode, 403);
    assert.equal(victim.jar.get(sessionCookie), undefined, 'the victim is not signed in to the attacker account');
    const fresh = browser(); // and a browser with no CSRF cookie at all
    assert.equal((await fresh.post('/login', { ...attacker, csrf: attackerToken })).statusCode, 403);
  });

  it('SEC-ASVS-07: every state-changing page refuses a POST without token, and one from another origin, without changing anything', async () => {
    const { browser: b, email, password } = await signedIn();
    const other = await signedIn({ email, password });
    const sessionsBefore = (await b.get('/api/auth/sessions')).json().sessions.length;
    const targets: [string, Record<string, string>][] = [
      ['/account/profile', { name: 'Changed' }],
      ['/account/password', { current_password: password, new_password: 'another long passphrase' }],
      ['/account/sessions/revoke-others', {}],
      [`/account/sessions/${encodeURIComponent((await other.browser.get('/api/auth/session')).json().session.id)}/revoke`, {}],
      ['/account/verify-email/resend', {}],
      ['/logout', {}],
      ['/signup', { email: 'csrf-new@example.com', password: PASSWORD }],
      ['/forgot-password', { email }],
      ['/reset-password', { token: 'x', password: PASSWORD }],
      ['/verify-email', { token: 'x' }],
    ];
    const token = formToken((await b.get('/account')).body);
    for (const [url, fields] of targets) {
      assert.equal((await b.post(url, fields)).statusCode, 403, `${url} without token`);
      assert.equal((await b.post(url, { ...fields, csrf: 'forged' })).statusCode, 403, `${url} forged token`);
      assert.equal((await b.post(url, { ...fields, csrf: token }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).statusCode, 403, `${url} cross-origin`);
      assert.equal((await b.post(url, { ...fields, csrf: token }, { origin: undefined, 'sec-fetch-site': 'same-site' })).statusCode, 403, `${url} same-site (sibling subdomain)`);
      assert.equal((await b.post(url, { ...fields, csrf: token }, { origin: 'null', 'sec-fetch-site': 'cross-site' })).statusCode, 403, `${url} opaque origin from another site`);
    }
    const after = await b.get('/api/auth/session');
    assert.equal(after.statusCode, 200, 'still signed in');
    assert.equal(after.json().user.name, null, 'profile unchanged');
    assert.equal((await b.get('/api/auth/sessions')).json().sessions.length, sessionsBefore, 'no session ended');
    assert.equal((await b.submit('/login', '/login', { email, password })).statusCode, 303, 'password unchanged');
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/sign-in', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'csrf-new@example.com', password: PASSWORD }) })).statusCode, 401, 'no account was created');
  });

  it('SEC-ASVS-07: a form body that is not urlencoded is refused (415), and repeated fields are refused (400)', async () => {
    const user = await newUser();
    const b = browser();
    const csrf = formToken((await b.get('/login')).body);
    assert.equal((await b.post('/login', { email: 'a@example.com' }, { 'content-type': 'text/plain' })).statusCode, 415);
    const json = await t.app.inject({ method: 'POST', url: '/login', headers: { origin, cookie: `${CSRF_COOKIE}=${b.jar.get(CSRF_COOKIE)}`, 'content-type': 'application/json' }, payload: JSON.stringify({ ...user, csrf }) });
    assert.equal(json.statusCode, 415);
    const repeated = await b.post('/login', { email: [user.email, 'other@example.com'], password: user.password, csrf });
    assert.equal(repeated.statusCode, 400);
    assert.match(repeated.body, /role="alert"/);
    assert.equal((await b.post('/login', { ...user, csrf: [csrf, csrf] })).statusCode, 400);
    assert.equal(b.jar.get(sessionCookie), undefined);
  });
});

describe('pages: sign-in, cookies and sign-out', () => {
  it('SEC-SESS-04: form sign-in sets a __Host- session cookie (Secure, HttpOnly, SameSite=Lax, Path=/, no Domain) and a NEW csrf cookie', async () => {
    const user = await newUser();
    const b = browser();
    await b.get('/login');
    const before = b.jar.get(CSRF_COOKIE);
    assert.ok(before);
    const response = await b.post('/login', { ...user, csrf: formToken((await b.get('/login')).body) });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/account');
    const cookies = setCookies(response);
    const session = cookies.find((cookie) => cookie.name === sessionCookie);
    assert.ok(session, 'a session cookie');
    assert.match(session.name, /^__Host-/);
    for (const attribute of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) assert.ok(session.attributes.includes(attribute), attribute);
    assert.ok(!session.attributes.some((attribute) => /^(Domain|Expires|Max-Age)=/i.test(attribute)), 'no Domain, a browser-session cookie');
    const csrf = cookies.find((cookie) => cookie.name === CSRF_COOKIE);
    assert.ok(csrf && csrf.value !== before, 'the CSRF binding is renewed at sign-in');
    for (const attribute of ['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(csrf.attributes.includes(attribute), `csrf ${attribute}`);
    assert.equal((await b.get('/account')).statusCode, 200);
  });

  it('SEC-SESS-01: a planted session cookie is not adopted, and a previous session ends at sign-in', async () => {
    const user = await newUser();
    const planted = randomBytes(32).toString('base64url');
    const b = browser();
    b.jar.set(sessionCookie, planted);
    assert.equal((await b.get('/account')).statusCode, 303, 'the planted value is not a session');
    const response = await b.post('/login', { ...user, csrf: formToken((await b.get('/login')).body) });
    assert.equal(response.statusCode, 303);
    const issued = b.jar.get(sessionCookie);
    assert.ok(issued && issued !== planted, 'a server-issued id, not the planted one');
    assert.equal(await sessionStatus(planted), 401);
    assert.equal(await sessionStatus(issued), 200);
    // Signing in again from the same browser: S1 → S2, and S1 is dead server-side.
    const again = await b.post('/login', { ...user, csrf: formToken((await b.get('/login')).body) });
    assert.equal(again.statusCode, 303);
    const next = b.jar.get(sessionCookie);
    assert.ok(next && next !== issued);
    assert.equal(await sessionStatus(issued), 401);
    assert.equal(await sessionStatus(next), 200);
  });

  it('SEC-SESS-05: the session id is not accepted from a query string or form field', async () => {
    const { browser: b } = await signedIn();
    const token = b.jar.get(sessionCookie) ?? '';
    const anonymous = browser();
    assert.equal((await anonymous.get(`/account?session=${token}&sid=${token}`)).statusCode, 303);
    assert.notEqual((await anonymous.get(`/account;jsessionid=${token}`)).statusCode, 200);
  });

  it('wrong credentials: 401 page with role=alert, the typed email kept, the password never echoed', async () => {
    const user = await newUser();
    const b = browser();
    const response = await b.submit('/login', '/login', { email: user.email, password: 'wrong password typed here' });
    assert.equal(response.statusCode, 401);
    assert.match(response.body, /<div class="alert" role="alert">/);
    assert.match(response.body, new RegExp(`name="email" type="email" autocomplete="username webauthn" value="${user.email}"`));
    assert.doesNotMatch(response.body, /wrong password typed here/);
    assertPageHeaders(response, 'login 401');
  });

  it('SEC-SESS-08: GET /logout is not allowed (405); POST /logout with the token ends the session server-side', async () => {
    const { browser: b } = await signedIn();
    const cookie = b.jar.get(sessionCookie) ?? '';
    const viaGet = await b.get('/logout');
    assert.equal(viaGet.statusCode, 405);
    assert.equal(await sessionStatus(cookie), 200, 'a GET does not sign out');
    const response = await b.post('/logout', { csrf: formToken((await b.get('/account')).body) });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/login?notice=signed-out');
    const cleared = setCookies(response).find((set) => set.name === sessionCookie);
    assert.ok(cleared && cleared.value === '' && cleared.attributes.includes('Max-Age=0'), 'the cookie is expired');
    assert.equal(await sessionStatus(cookie), 401, 'the copied cookie no longer works');
    const replay = await t.app.inject({ url: '/account', headers: { cookie: `${sessionCookie}=${cookie}` } });
    assert.equal(replay.statusCode, 303);
    assert.equal(replay.headers.location, '/login?return_to=%2Faccount');
  });

  it('/account without a session → 303 to /login?return_to=%2Faccount', async () => {
    const response = await browser().get('/account');
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/login?return_to=%2Faccount');
  });
});

describe('pages: return_to through the real /login flow', () => {
  const hostile = ['//evil.com', '/\\evil.com', 'https://evil.com', 'javascript:alert(1)', '/%2F%2Fevil.com', '\t//evil.com', '/\t/evil.com', '///evil.com', `/${'a'.repeat(2001)}`];
  const safe = ['/ok?x=1', '/account', '/oauth/authorize?redirect_uri=https%3A%2F%2Fapp.example%2Fcb'];

  it('hostile return_to values are never echoed into the form and redirect to /account', async () => {
    const user = await newUser();
    for (const value of hostile) {
      const b = browser();
      const page = await b.get(`/login?return_to=${encodeURIComponent(value)}`);
      assert.doesNotMatch(page.body, /name="return_to"/, `${JSON.stringify(value)} is not kept in the form`);
      const response = await b.post('/login', { ...user, return_to: value, csrf: formToken(page.body) });
      assert.equal(response.statusCode, 303, JSON.stringify(value));
      assert.equal(response.headers.location, '/account', JSON.stringify(value));
    }
  });

  it('local paths survive the round trip', async () => {
    const user = await newUser();
    for (const value of safe) {
      const b = browser();
      const page = await b.get(`/login?return_to=${encodeURIComponent(value)}`);
      const kept = /name="return_to" value="([^"]*)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
      assert.equal(kept, value);
      const response = await b.post('/login', { ...user, return_to: kept ?? '', csrf: formToken(page.body) });
      assert.equal(response.headers.location, value);
    }
  });
});

describe('pages: escaping and secrets', () => {
  it('a name with <script> renders escaped on /account', async () => {
    const name = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const { browser: b } = await signedIn(await newUser(name));
    const page = await b.get('/account');
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes('value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"'));
    // The layout may load its own scripts (/assets/…, nonce): what must never appear is the name as markup.
    assert.doesNotMatch(page.body, /<script>alert|<img src=x/);
  });

  it('SEC-SESS-05: no page or redirect ever contained a session token or a CSRF cookie value', () => {
    assert.ok(responses.length > 50 && secrets.size > 10, 'the file made enough requests to mean something');
    for (const response of responses) {
      const visible = `${response.body}\n${String(response.headers.location ?? '')}`;
      for (const secret of secrets) assert.ok(!visible.includes(secret), 'a cookie value appeared in a body or Location');
    }
  });
});
