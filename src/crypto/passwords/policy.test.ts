import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { checkPassword, type PolicyResult } from './policy.ts';

const POLICY = { minLength: 8, maxLength: 256 };
// A fixed 100-character random string (generated once from a CSPRNG).
const RANDOM_100 = 'ZGHzDb-NJbOA!?K_9YF&X1EhT1OB59S7OW2CW0LOnX!JTMf&^W8a?Lvcj_N~oCgCxp&c+8cZsoY3KAJ2%v3M4JC_EWc0L4XIn4Lk';
const EMOJI_12 = '😀😃😆😉😌😏😒😕😘😛😞😡';

function assertRefused(result: PolicyResult, reason: string, password: string): void {
  assert.equal(result.ok, false, `${JSON.stringify(password)} should be refused`);
  if (result.ok) return;
  assert.equal(result.reason, reason, JSON.stringify(password));
  // Messages are for people and logs: they never echo the password (style §14).
  assert.equal(result.message.includes(password), false);
  assert.equal(result.message.includes(password.normalize('NFKC')), false);
  assert.ok(result.message.length > 20);
}

test('zxcvbn is loaded lazily, on the first check, not at import', () => {
  const require = createRequire(import.meta.url);
  assert.equal(require.cache[require.resolve('@zxcvbn-ts/core')], undefined);
  assert.equal(require.cache[require.resolve('@zxcvbn-ts/language-common')], undefined);
  checkPassword('correct horse battery staple', POLICY);
  assert.notEqual(require.cache[require.resolve('@zxcvbn-ts/core')], undefined);
});

test('common and leaked passwords are refused with a reason (SEC-PWD-06)', () => {
  for (const password of ['password1234', 'qwertyuiop12', '12345678', 'iloveyou', 'P@ssw0rd!', 'trustno1']) {
    const result = checkPassword(password, POLICY);
    assertRefused(result, 'common', password);
    if (!result.ok) assert.match(result.message, /too common|too easy to guess/);
  }
  const leaked = checkPassword('password1234', POLICY);
  assert.equal(
    leaked.ok ? '' : leaked.message,
    'This password is too common: it appears in lists of leaked passwords. Choose a longer, less predictable one.',
  );
});

test('guessable patterns are refused: keyboard rows, sequences, dates, short repeats', () => {
  for (const password of ['zxcvbnm,./', 'abcdefghijkl', '19850415', 'abcabcabcabc', 'aaaaaaaa', '🙂🙂🙂🙂🙂🙂🙂🙂', 'Summer2024!']) {
    assertRefused(checkPassword(password, POLICY), 'common', password);
  }
});

test('the product name is context: gatehouse2024! is refused, also in l33t', () => {
  for (const password of ['gatehouse2024!', 'Gatehouse!', 'g4teh0use2024']) {
    assertRefused(checkPassword(password, POLICY), 'context', password);
  }
});

test("the user's own email and name are refused", () => {
  const context = { email: 'alice.smith@example.com', name: 'Alice Smith' };
  for (const password of ['alice.smith@example.com', 'Alice Smith', 'alicesmith1', 'ALICE.SMITH', 'example123!']) {
    assertRefused(checkPassword(password, POLICY, context), 'context', password);
  }
  // Without that context the same string is judged on its own.
  assert.deepEqual(checkPassword('alice.smith@example.com', POLICY), { ok: true });
});

test('a strong password that merely contains a context word is accepted', () => {
  const context = { email: 'tom@example.com', name: 'Tom' };
  assert.deepEqual(checkPassword('gatehouse correct horse battery', POLICY), { ok: true });
  assert.deepEqual(checkPassword('tomato soup on a rainy tuesday', POLICY, context), { ok: true });
});

test('reasonable passphrases and any characters are accepted, no composition rules (SEC-PWD-04)', () => {
  for (const password of [
    'correct horse battery staple',
    '  pass phrase 🙂 מילה  ',
    EMOJI_12,
    'é'.repeat(40), // SEC-PWD-03's multi-byte fixture (80 bytes)
    RANDOM_100,
    '我的猫喜欢吃鱼和米饭',
    'purple monkey dishwasher lamp',
    'kx9#mPq2', // short and random: the length rule, not the strength rule, is what applies
  ]) {
    assert.deepEqual(checkPassword(password, POLICY), { ok: true }, JSON.stringify(password));
  }
});

test('length is counted in code points after NFKC (SEC-PWD-01)', () => {
  assertRefused(checkPassword('Kx9#mPq', POLICY), 'too_short', 'Kx9#mPq');
  assertRefused(checkPassword('😀😃😆😉😌😏😒', POLICY), 'too_short', '😀😃😆😉😌😏😒');
  assert.deepEqual(checkPassword('😀😃😆😉😌😏😒😕', POLICY), { ok: true }); // 8 emoji, 32 bytes
  // Six 4-byte characters are 24 bytes but 6 code points.
  assertRefused(checkPassword('𠀀𠀁𠀂𠀃𠀄𠀅', POLICY), 'too_short', '𠀀𠀁𠀂𠀃𠀄𠀅');
  // e + U+0301 is one code point after NFKC; the ligature ﬃ is three.
  assertRefused(checkPassword('Kx9#mPe\u0301', POLICY), 'too_short', 'Kx9#mPe\u0301');
  assert.deepEqual(checkPassword('Kx9#m\ufb03Q', POLICY), { ok: true });
  const short = checkPassword('Kx9#mPq', POLICY);
  assert.equal(short.ok ? '' : short.message, 'This password is too short: use at least 8 characters.');
});

test('the maximum length: 64, 128 and 256 code points accepted, 257 refused (SEC-PWD-02)', () => {
  const long256 = (RANDOM_100 + RANDOM_100 + RANDOM_100).slice(0, 256);
  for (const password of [RANDOM_100.slice(0, 64), (RANDOM_100 + RANDOM_100).slice(0, 128), long256]) {
    assert.deepEqual(checkPassword(password, POLICY), { ok: true }, `${password.length} characters`);
  }
  assertRefused(checkPassword(long256 + 'x', POLICY), 'too_long', long256 + 'x');
  assertRefused(checkPassword('🙂'.repeat(257), POLICY), 'too_long', '🙂'.repeat(257));
  const tooLong = checkPassword(long256 + 'x', POLICY);
  assert.equal(tooLong.ok ? '' : tooLong.message, 'This password is too long: use at most 256 characters.');
});

test('the strength estimate reads the first 100 code points; the length rules read everything', () => {
  // The first 100 code points decide: a weak head is refused whatever follows it ...
  const weakHead = 'password'.repeat(13).slice(0, 100) + RANDOM_100.slice(0, 50);
  assertRefused(checkPassword(weakHead, POLICY), 'common', weakHead);
  // ... and a strong head is accepted even if a common word follows at position 101.
  assert.deepEqual(checkPassword(RANDOM_100 + 'password', POLICY), { ok: true });
  // The length limit still sees all of it.
  assertRefused(checkPassword(RANDOM_100.repeat(3), POLICY), 'too_long', RANDOM_100.repeat(3));
});

test('custom minimum and maximum lengths from config are honoured', () => {
  const policy = { minLength: 12, maxLength: 64 };
  assertRefused(checkPassword('kx9#mPq2Zr!', policy), 'too_short', 'kx9#mPq2Zr!');
  assert.deepEqual(checkPassword('kx9#mPq2Zr!w', policy), { ok: true });
  assertRefused(checkPassword(RANDOM_100.slice(0, 65), policy), 'too_long', RANDOM_100.slice(0, 65));
});
