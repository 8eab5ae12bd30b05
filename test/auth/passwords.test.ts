/** Black-box password requirements through the JSON API (SEC-PWD-*). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, postJSON, registerAndSignIn, signIn, whoami } from '../support/auth.ts';

describe('passwords (SEC-PWD)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  async function signUpStatus(email: string, password: string): Promise<{ status: number; body: Record<string, string> }> {
    const response = await postJSON(t, '/api/auth/sign-up', { email, password });
    return { status: response.statusCode, body: response.json() };
  }

  async function signInStatus(email: string, password: string): Promise<number> {
    return (await postJSON(t, '/api/auth/sign-in', { email, password })).statusCode;
  }

  it('SEC-PWD-01: passwords shorter than 8 code points are refused; length counts code points, not bytes', async () => {
    const short = await signUpStatus('short@example.com', 'abc1234');
    assert.equal(short.status, 400);
    assert.equal(short.body.error, 'invalid_password');
    assert.match(short.body.error_description!, /8/);
    assert.equal((await signUpStatus('emoji8@example.com', '🦊🐙🦉🐢🦀🐝🦋🐬')).status, 202, '8 emoji (32 bytes) are 8 characters');
    assert.equal((await signUpStatus('emoji6@example.com', '🦊🐙🦉🐢🦀🐝')).status, 400, '6 four-byte characters are 6 characters');
  });

  it('SEC-PWD-02: 64- and 128-character passwords work; over-long ones are refused before hashing', async () => {
    const long64 = 'x7Kq!'.repeat(13).slice(0, 64);
    const long128 = 'Zebra-Quartz-Mango-'.repeat(7).slice(0, 128);
    await registerAndSignIn(t, 'long64@example.com', long64);
    await registerAndSignIn(t, 'long128@example.com', long128);
    assert.equal((await signUpStatus('long300@example.com', 'q'.repeat(300))).status, 400);
    assert.equal(await signInStatus('long64@example.com', 'q'.repeat(300)), 401, 'same generic failure at sign-in');
    const huge = await t.app.inject({ method: 'POST', url: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' }, payload: JSON.stringify({ email: 'long64@example.com', password: 'p'.repeat(1_000_000) }) });
    assert.equal(huge.statusCode, 413, 'a 1 MB password never reaches the hasher');
  });

  it('SEC-PWD-03: no truncation (72-byte bcrypt trap), no case folding', async () => {
    const base = 'A'.repeat(72);
    await registerAndSignIn(t, 'trunc@example.com', `${base}x`);
    assert.equal(await signInStatus('trunc@example.com', `${base}y`), 401);
    assert.equal(await signInStatus('trunc@example.com', `${base}x`), 200);
    const multibyte = 'é'.repeat(40);
    await registerAndSignIn(t, 'trunc2@example.com', `${multibyte}1`);
    assert.equal(await signInStatus('trunc2@example.com', `${multibyte}2`), 401);
    await registerAndSignIn(t, 'case@example.com', 'Horse Battery Staple Correct');
    assert.equal(await signInStatus('case@example.com', 'horse battery staple correct'), 401);
  });

  it('SEC-PWD-04: spaces, emoji and RTL are accepted and significant; no trimming', async () => {
    const password = '  pass phrase 🙂 מילה  ';
    await registerAndSignIn(t, 'spaces@example.com', password);
    assert.equal(await signInStatus('spaces@example.com', password.trim()), 401);
    assert.equal(await signInStatus('spaces@example.com', password), 200);
  });

  it('SEC-PWD-05: passwords are NFKC-normalised on every path; emails are unique after normalisation', async () => {
    await registerAndSignIn(t, 'nfkc@example.com', 'caf\u00e9 au lait tous les jours');
    assert.equal(await signInStatus('nfkc@example.com', 'cafe\u0301 au lait tous les jours'), 200, 'composed and decomposed é are the same password (NFKC)');
    await registerAndSignIn(t, 'Alice@Example.com', PASSWORD);
    assert.equal(await signInStatus('alice@example.com', PASSWORD), 200, 'case-insensitive address');
    assert.equal(await signInStatus('\uff41lice@example.com', PASSWORD), 200, 'full-width ａ folds to a');
    const cyrillic = await signUpStatus('\u0430lice@example.com', PASSWORD);
    assert.equal(cyrillic.status, 400, 'a Cyrillic look-alike address is refused, not a second account');
    const duplicate = await signUpStatus('ALICE@example.com', 'another fine passphrase');
    assert.equal(duplicate.status, 202, 'same answer as a new sign-up');
    assert.equal(await signInStatus('alice@example.com', 'another fine passphrase'), 401, 'no second account was created');
  });

  it('SEC-PWD-06: common and context-specific passwords are refused with a reason', async () => {
    for (const password of ['password1234', 'qwertyuiop12', '12345678', 'iloveyou', 'gatehouse2024!']) {
      const result = await signUpStatus(`common-${Math.random().toString(36).slice(2)}@example.com`, password);
      assert.equal(result.status, 400, password);
      assert.equal(result.body.error, 'invalid_password');
      assert.ok(!result.body.error_description!.includes(password), 'the message never repeats the password');
    }
    const own = await signUpStatus('jonathan.smithers@example.com', 'jonathan.smithers');
    assert.equal(own.status, 400, 'the address itself is refused as a password');
  });

  it('SEC-PWD-07: argon2id m=19456 t=2 p=1 with a unique salt; weaker stored hashes are upgraded at sign-in', async () => {
    await registerAndSignIn(t, 'twin1@example.com', 'identical twin passphrase');
    await registerAndSignIn(t, 'twin2@example.com', 'identical twin passphrase');
    const rows = await t.storage.database.db.selectFrom('users').select(['email', 'password_hash']).where('email', 'in', ['twin1@example.com', 'twin2@example.com']).execute();
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0]!.password_hash, rows[1]!.password_hash);
    for (const row of rows) assert.match(String(row.password_hash), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    // Raise the cost: the next sign-in re-hashes with the new parameters.
    const stronger = await createTestApp({ env: { GATEHOUSE_ARGON2_MEMORY_KIB: '24576', GATEHOUSE_ARGON2_ITERATIONS: '3' } });
    try {
      await registerAndSignIn(stronger, 'upgrade@example.com', 'upgrade me later please');
      await stronger.storage.database.db.updateTable('users').set({ password_hash: rows[0]!.password_hash }).where('email', '=', 'upgrade@example.com').execute();
      assert.equal(await (async () => (await postJSON(stronger, '/api/auth/sign-in', { email: 'upgrade@example.com', password: 'identical twin passphrase' })).statusCode)(), 200);
      const upgraded = await stronger.storage.database.db.selectFrom('users').select('password_hash').where('email', '=', 'upgrade@example.com').executeTakeFirstOrThrow();
      assert.match(String(upgraded.password_hash), /^\$argon2id\$v=19\$m=24576,t=3,p=1\$/);
    } finally {
      await stronger.close();
    }
  });

  it('SEC-PWD-08: changing the password needs the current one; a wrong one changes nothing', async () => {
    const cookie = await registerAndSignIn(t, 'needcurrent@example.com');
    const wrong = await postJSON(t, '/api/auth/change-password', { current_password: 'not my password at all', new_password: 'a different passphrase' }, { cookie });
    assert.equal(wrong.statusCode, 401);
    const missing = await postJSON(t, '/api/auth/change-password', { new_password: 'a different passphrase' }, { cookie });
    assert.equal(missing.statusCode, 400);
    assert.equal(await signInStatus('needcurrent@example.com', PASSWORD), 200, 'the old password still works');
    assert.equal((await whoami(t, cookie)).statusCode, 200);
  });

  it('SEC-PWD-09: unknown account, wrong password and disabled account answer identically', async () => {
    await registerAndSignIn(t, 'enum@example.com');
    await registerAndSignIn(t, 'disabled@example.com');
    await t.storage.database.db.updateTable('users').set({ disabled_at: Date.now() }).where('email', '=', 'disabled@example.com').execute();
    const unknown = await postJSON(t, '/api/auth/sign-in', { email: 'nobody-here@example.com', password: PASSWORD });
    const wrong = await postJSON(t, '/api/auth/sign-in', { email: 'enum@example.com', password: 'wrong password entirely' });
    const disabled = await postJSON(t, '/api/auth/sign-in', { email: 'disabled@example.com', password: PASSWORD });
    for (const response of [wrong, disabled]) {
      assert.equal(response.statusCode, unknown.statusCode);
      assert.equal(response.body, unknown.body);
      assert.equal(response.headers['set-cookie'], unknown.headers['set-cookie']);
    }
    const newcomer = await postJSON(t, '/api/auth/sign-up', { email: 'fresh-enum@example.com', password: PASSWORD });
    const existing = await postJSON(t, '/api/auth/sign-up', { email: 'enum@example.com', password: PASSWORD });
    assert.equal(existing.statusCode, newcomer.statusCode);
    assert.equal(existing.body, newcomer.body);
    assert.ok(t.mails.some((mail) => mail.to === 'enum@example.com' && /sign up/i.test(mail.subject + mail.text)), 'the owner is told someone tried to sign up');
    const forgotKnown = await postJSON(t, '/api/auth/forgot-password', { email: 'enum@example.com' });
    const forgotUnknown = await postJSON(t, '/api/auth/forgot-password', { email: 'nobody-here@example.com' });
    assert.equal(forgotKnown.statusCode, forgotUnknown.statusCode);
    assert.equal(forgotKnown.body, forgotUnknown.body);
  });

  it('a signed-in user can update only their name (SEC-ASVS-03: no mass assignment)', async () => {
    const cookie = await registerAndSignIn(t, 'profile@example.com');
    const hostile = [
      '{"roles":["admin"]}',
      '{"email_verified":true}',
      '{"id":"x"}',
      '{"password_hash":"x"}',
      '{"__proto__":{"admin":true},"name":"x"}',
      '{"constructor":{"prototype":{"admin":true}}}',
    ];
    for (const payload of hostile) {
      const response = await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: { cookie, 'content-type': 'application/json', origin: 'http://localhost:3000' }, payload });
      assert.equal(response.statusCode, 400, payload);
    }
    const ok = await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: { cookie, 'content-type': 'application/json', origin: 'http://localhost:3000' }, payload: JSON.stringify({ name: 'Profile Person' }) });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().user.name, 'Profile Person');
    assert.deepEqual(ok.json().user.roles, []);
    const session = (await whoami(t, cookie)).json();
    assert.deepEqual(session.user.roles, []);
    assert.equal(session.user.name, 'Profile Person');
  });

  it('SEC-ASVS-16: array and object typed credentials are refused with 400', async () => {
    for (const body of [{ email: ['a@example.com', 'b@example.com'], password: PASSWORD }, { email: 'a@example.com', password: { $ne: 1 } }, { email: 'a@example.com', password: [PASSWORD] }]) {
      const response = await postJSON(t, '/api/auth/sign-in', body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.equal(response.json().error, 'invalid_request');
    }
  });

  it('signing in still works after all of the above (sanity)', async () => {
    await registerAndSignIn(t, 'sanity@example.com');
    assert.equal(typeof (await signIn(t, 'sanity@example.com')), 'string');
  });
});
