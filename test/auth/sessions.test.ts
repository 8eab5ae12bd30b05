/** Black-box session requirements through the JSON API (SEC-SESS-*). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, sessionCookie, setCookie, signIn, whoami } from '../support/auth.ts';

describe('sessions (SEC-SESS)', () => {
  let t: TestApp;
  let clock = 1_800_000_000_000;
  before(async () => {
    t = await createTestApp({
      now: () => clock,
      env: { GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: '60', GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_SECONDS: '300', GATEHOUSE_SESSION_TOUCH_INTERVAL_SECONDS: '5' },
    });
  });
  after(() => t.close());

  it('SEC-SESS-04: the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, no persistent expiry', async () => {
    await registerAndSignIn(t, 'cookie@example.com');
    const response = await postJSON(t, '/api/auth/sign-in', { email: 'cookie@example.com', password: PASSWORD });
    const cookie = setCookie(response, '__Host-gatehouse');
    assert.ok(cookie);
    const attributes = cookie.split(';').map((part) => part.trim().toLowerCase());
    for (const expected of ['secure', 'httponly', 'samesite=lax', 'path=/']) assert.ok(attributes.includes(expected), `${expected} in ${cookie}`);
    assert.ok(!attributes.some((a) => a.startsWith('domain=')), 'no Domain');
    assert.ok(!attributes.some((a) => a.startsWith('max-age=') || a.startsWith('expires=')), 'a browser-session cookie');
  });

  it('SEC-SESS-03: session tokens are ≥ 256-bit random values, all distinct', async () => {
    await registerAndSignIn(t, 'entropy@example.com');
    const tokens = new Set<string>();
    for (let i = 0; i < 20; i++) tokens.add(sessionCookie(await postJSON(t, '/api/auth/sign-in', { email: 'entropy@example.com', password: PASSWORD })).split('=')[1]!);
    assert.equal(tokens.size, 20);
    for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{43}$/, '43 base64url chars = 256 bits');
  });

  it('SEC-SESS-01: sign-in issues a new session id and never adopts a planted one', async () => {
    await registerAndSignIn(t, 'fixation@example.com');
    const planted = '__Host-gatehouse=' + 'A'.repeat(43);
    const response = await postJSON(t, '/api/auth/sign-in', { email: 'fixation@example.com', password: PASSWORD }, { cookie: planted });
    const issued = sessionCookie(response);
    assert.notEqual(issued, planted);
    assert.equal((await whoami(t, planted)).statusCode, 401, 'the planted id is not a session');
    assert.equal((await whoami(t, issued)).statusCode, 200);
    const again = await signIn(t, 'fixation@example.com', PASSWORD, { cookie: issued });
    assert.notEqual(again, issued, 'signing in again with a live session still rotates');
    assert.equal((await whoami(t, issued)).statusCode, 401, 'and the session it replaced ended server-side');
    assert.equal((await whoami(t, again)).statusCode, 200);
  });

  it('SEC-SESS-05: the session is accepted only from the cookie', async () => {
    const cookie = await registerAndSignIn(t, 'transport@example.com');
    const token = cookie.split('=')[1]!;
    for (const request of [
      { url: `/api/auth/session?sid=${token}` },
      { url: `/api/auth/session?session=${token}` },
      { url: '/api/auth/session', headers: { authorization: `Bearer ${token}` } },
      { url: '/api/auth/session', headers: { session: token, 'x-session-id': token } },
      { url: '/api/auth/session', headers: { cookie: `gatehouse=${token}` } },
    ]) {
      const response = await t.app.inject(request);
      assert.equal(response.statusCode, 401, JSON.stringify(request));
    }
    const body = (await whoami(t, cookie)).body;
    assert.ok(!body.includes(token), 'the session API never echoes the token');
  });

  it('SEC-SESS-14: tampered, truncated and foreign cookies are no session (never a 5xx)', async () => {
    const cookie = await registerAndSignIn(t, 'tamper@example.com');
    const token = cookie.split('=')[1]!;
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    for (const value of [flipped, token.slice(0, 42), `${token}x`, '', '%00', 'A'.repeat(5000), '../../etc/passwd', `x${token.slice(1)}`]) {
      const response = await t.app.inject({ url: '/api/auth/session', headers: { cookie: `__Host-gatehouse=${value}` } });
      assert.equal(response.statusCode, 401, value.slice(0, 20));
    }
  });

  it('SEC-SESS-08: sign-out destroys the session server-side; the replayed cookie is dead', async () => {
    const cookie = await registerAndSignIn(t, 'logout@example.com');
    assert.equal((await whoami(t, cookie)).statusCode, 200);
    const response = await postJSON(t, '/api/auth/sign-out', {}, { cookie });
    assert.equal(response.statusCode, 204);
    const cleared = setCookie(response, '__Host-gatehouse');
    assert.match(String(cleared), /Max-Age=0/);
    assert.equal((await whoami(t, cookie)).statusCode, 401);
  });

  it('SEC-SESS-06: a session idle past the timeout is over; activity keeps it alive', async () => {
    const cookie = await registerAndSignIn(t, 'idle@example.com');
    for (let i = 0; i < 6; i++) {
      clock += 40_000;
      assert.equal((await whoami(t, cookie)).statusCode, 200, `active after ${(i + 1) * 40} s`);
    }
    clock += 61_000;
    assert.equal((await whoami(t, cookie)).statusCode, 401);
  });

  it('SEC-SESS-07: the absolute timeout ends even an active session', async () => {
    const cookie = await registerAndSignIn(t, 'absolute@example.com');
    for (let elapsed = 50; elapsed < 300; elapsed += 50) {
      clock += 50_000;
      assert.equal((await whoami(t, cookie)).statusCode, 200, `alive at ${elapsed} s`);
    }
    clock += 50_000;
    assert.equal((await whoami(t, cookie)).statusCode, 401, 'over at 300 s');
  });

  it('SEC-SESS-11: users list their own sessions and revoke one or all others; other users cannot (SEC-ASVS-02)', async () => {
    const first = await registerAndSignIn(t, 'many@example.com', PASSWORD, { 'user-agent': 'Laptop' });
    const second = await signIn(t, 'many@example.com', PASSWORD, { 'user-agent': 'Phone' });
    const third = await signIn(t, 'many@example.com');
    const mallory = await registerAndSignIn(t, 'mallory@example.com');
    const list = (await t.app.inject({ url: '/api/auth/sessions', headers: { cookie: first } })).json().sessions as { id: string; current: boolean; user_agent: string }[];
    assert.equal(list.length, 3);
    assert.equal(list.filter((s) => s.current).length, 1);
    const phone = list.find((s) => s.user_agent === 'Phone')!;
    const foreign = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${phone.id}`, headers: { cookie: mallory, origin: 'http://localhost:3000' } });
    const unknown = await t.app.inject({ method: 'DELETE', url: '/api/auth/sessions/0000000000000000000000000000000000', headers: { cookie: mallory, origin: 'http://localhost:3000' } });
    assert.equal(foreign.statusCode, 404);
    assert.equal(foreign.body, unknown.body, 'another user’s session id looks exactly like an unknown one');
    assert.equal((await whoami(t, second)).statusCode, 200, 'untouched by mallory');
    const revoked = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${phone.id}`, headers: { cookie: first, origin: 'http://localhost:3000' } });
    assert.equal(revoked.statusCode, 204);
    assert.equal((await whoami(t, second)).statusCode, 401);
    const others = await postJSON(t, '/api/auth/sessions/revoke-others', {}, { cookie: first });
    assert.deepEqual(others.json(), { revoked: 1 });
    assert.equal((await whoami(t, third)).statusCode, 401);
    assert.equal((await whoami(t, first)).statusCode, 200);
  });

  it('SEC-SESS-02 / SEC-SESS-10: a password change renews this session and ends all others', async () => {
    const here = await registerAndSignIn(t, 'change@example.com');
    const elsewhere = await signIn(t, 'change@example.com');
    const response = await postJSON(t, '/api/auth/change-password', { current_password: PASSWORD, new_password: 'a brand new passphrase' }, { cookie: here });
    assert.equal(response.statusCode, 200, response.body);
    const renewed = sessionCookie(response);
    assert.notEqual(renewed, here);
    assert.equal((await whoami(t, here)).statusCode, 401, 'the old id of this browser is dead');
    assert.equal((await whoami(t, elsewhere)).statusCode, 401, 'the other browser is signed out');
    assert.equal((await whoami(t, renewed)).statusCode, 200);
  });

  it('answers 401 JSON without a session', async () => {
    const response = await t.app.inject({ url: '/api/auth/session' });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error, 'unauthenticated');
  });
});
