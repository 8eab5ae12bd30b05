/** Email verification and password reset links (SEC-PWD-15, -16, -18, SEC-REL-05). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../support/app.ts';
import { PASSWORD, linkToken, postJSON, registerAndSignIn, whoami } from '../support/auth.ts';

describe('verification and reset links', () => {
  let t: TestApp;
  let clock = 1_800_000_000_000;
  before(async () => {
    t = await createTestApp({ now: () => clock, env: { GATEHOUSE_PUBLIC_URL: 'https://auth.example.com' } });
  });
  after(() => t.close());

  const NEW = 'a completely new passphrase';

  it('SEC-PWD-18: a verification link works once and marks the address verified', async () => {
    await postJSON(t, '/api/auth/sign-up', { email: 'verify@example.com', password: PASSWORD });
    const token = linkToken(t, 'verify@example.com', '/verify-email');
    assert.equal((await postJSON(t, '/api/auth/verify-email', { token })).statusCode, 200);
    const again = await postJSON(t, '/api/auth/verify-email', { token });
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().error, 'invalid_link');
    const row = await t.storage.database.db.selectFrom('users').select('email_verified_at').where('email', '=', 'verify@example.com').executeTakeFirstOrThrow();
    assert.ok(row.email_verified_at !== null);
  });

  it('SEC-PWD-18: an expired verification link is refused', async () => {
    await postJSON(t, '/api/auth/sign-up', { email: 'late@example.com', password: PASSWORD });
    const token = linkToken(t, 'late@example.com', '/verify-email');
    clock += 86_400_000 + 1000;
    assert.equal((await postJSON(t, '/api/auth/verify-email', { token })).statusCode, 400);
  });

  it('SEC-PWD-15: reset links are single-use, hashed at rest, and end every session', async () => {
    const session = await registerAndSignIn(t, 'reset@example.com');
    assert.equal((await postJSON(t, '/api/auth/forgot-password', { email: 'reset@example.com' })).statusCode, 202);
    const token = linkToken(t, 'reset@example.com', '/reset-password');
    const stored = await t.storage.database.db.selectFrom('one_time_tokens').select('token_hash').execute();
    assert.ok(stored.every((row) => row.token_hash !== token), 'only the hash is stored');
    const used = await postJSON(t, '/api/auth/reset-password', { token, password: NEW });
    assert.equal(used.statusCode, 200, used.body);
    assert.equal((await postJSON(t, '/api/auth/reset-password', { token, password: 'yet another passphrase' })).statusCode, 400, 'second use fails');
    assert.equal((await whoami(t, session)).statusCode, 401, 'SEC-SESS-10: sessions end at reset');
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'reset@example.com', password: NEW })).statusCode, 200);
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'reset@example.com', password: PASSWORD })).statusCode, 401);
    assert.ok(t.mails.some((mail) => mail.to === 'reset@example.com' && /changed/i.test(mail.subject)), 'SEC-PWD-17: the owner is notified');
  });

  it('SEC-PWD-15: a newer reset request invalidates the older link; expired links fail', async () => {
    await registerAndSignIn(t, 'twice@example.com');
    await postJSON(t, '/api/auth/forgot-password', { email: 'twice@example.com' });
    const first = linkToken(t, 'twice@example.com', '/reset-password');
    await postJSON(t, '/api/auth/forgot-password', { email: 'twice@example.com' });
    const second = linkToken(t, 'twice@example.com', '/reset-password');
    assert.notEqual(first, second);
    assert.equal((await postJSON(t, '/api/auth/reset-password', { token: first, password: NEW })).statusCode, 400);
    clock += 3_600_000 + 1000;
    assert.equal((await postJSON(t, '/api/auth/reset-password', { token: second, password: NEW })).statusCode, 400, 'past the 1 h lifetime');
  });

  it('a refused new password does not burn the reset link', async () => {
    await registerAndSignIn(t, 'keeplink@example.com');
    await postJSON(t, '/api/auth/forgot-password', { email: 'keeplink@example.com' });
    const token = linkToken(t, 'keeplink@example.com', '/reset-password');
    assert.equal((await postJSON(t, '/api/auth/reset-password', { token, password: 'short' })).statusCode, 400);
    assert.equal((await postJSON(t, '/api/auth/reset-password', { token, password: NEW })).statusCode, 200);
  });

  it('SEC-PWD-06: reset applies the same policy as sign-up and change — the account\'s own email, name or a common password is refused, and the link survives', async () => {
    await postJSON(t, '/api/auth/sign-up', { email: 'maximiliane.ostermann@example.com', password: PASSWORD, name: 'Maximiliane Ostermann' });
    await postJSON(t, '/api/auth/forgot-password', { email: 'maximiliane.ostermann@example.com' });
    const token = linkToken(t, 'maximiliane.ostermann@example.com', '/reset-password');
    for (const password of ['maximiliane.ostermann@example.com', 'Maximiliane.Ostermann@Example.com', 'maximilianeostermann', 'Ostermann Maximiliane', 'password1234', 'qwertyuiop12', 'gatehouse2024!']) {
      const refused = await postJSON(t, '/api/auth/reset-password', { token, password });
      assert.equal(refused.statusCode, 400, `${password}: ${refused.body}`);
      assert.equal(refused.json().error, 'invalid_password', password);
      assert.ok(!refused.body.includes(password), 'the message never echoes the password');
    }
    assert.equal((await postJSON(t, '/api/auth/reset-password', { token, password: NEW })).statusCode, 200, 'the link still works after refusals');
  });

  it('SEC-PWD-06: change-password also refuses the current password and passwords built on it', async () => {
    const cookie = await registerAndSignIn(t, 'reuse@example.com', 'violet tangerine meadow');
    for (const newPassword of ['violet tangerine meadow', 'violet tangerine meadow1', 'Violet Tangerine Meadow!']) {
      const response = await postJSON(t, '/api/auth/change-password', { current_password: 'violet tangerine meadow', new_password: newPassword }, { cookie });
      assert.equal(response.statusCode, 400, `${newPassword}: ${response.body}`);
      assert.equal(response.json().error, 'invalid_password');
    }
  });

  it('SEC-REL-05: 20 parallel submissions of one reset link change the password exactly once', async () => {
    await registerAndSignIn(t, 'race@example.com');
    await postJSON(t, '/api/auth/forgot-password', { email: 'race@example.com' });
    const token = linkToken(t, 'race@example.com', '/reset-password');
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => postJSON(t, '/api/auth/reset-password', { token, password: `parallel passphrase number ${i}` })));
    const winners = responses.map((response, i) => ({ status: response.statusCode, i })).filter((r) => r.status === 200);
    assert.equal(winners.length, 1);
    const winner = winners[0]!.i;
    assert.equal((await postJSON(t, '/api/auth/sign-in', { email: 'race@example.com', password: `parallel passphrase number ${winner}` })).statusCode, 200);
    const resets = await t.storage.database.db.selectFrom('audit_events').select('id').where('type', '=', 'password-reset').execute();
    assert.ok(resets.length >= 1);
  });

  it('SEC-PWD-16: poisoned Host / X-Forwarded-Host never change the mailed link', async () => {
    await registerAndSignIn(t, 'poison@example.com');
    await postJSON(t, '/api/auth/forgot-password', { email: 'poison@example.com' }, { host: 'evil.example', 'x-forwarded-host': 'evil.example' });
    const mail = [...t.mails].reverse().find((m) => m.to === 'poison@example.com' && m.text.includes('/reset-password'))!;
    assert.match(mail.text, /https:\/\/auth\.example\.com\/reset-password\?token=/);
    assert.ok(!mail.text.includes('evil.example'));
  });

  it('SEC-ASVS-18: link tokens are 256-bit random and distinct', async () => {
    await registerAndSignIn(t, 'entropy-links@example.com');
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      clock += 3_600_000; // stay under the per-account request limit
      await postJSON(t, '/api/auth/forgot-password', { email: 'entropy-links@example.com' });
      seen.add(linkToken(t, 'entropy-links@example.com', '/reset-password'));
    }
    assert.equal(seen.size, 5);
    for (const token of seen) assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  });
});
