import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { USER_CODE_ALPHABET, generateUserCode, normalizeUserCode } from './user-code.ts';

describe('user codes (RFC 8628 §6.1)', () => {
  it('are eight letters from an alphabet without vowels, digits, O or I, shown as XXXX-XXXX', () => {
    assert.doesNotMatch(USER_CODE_ALPHABET, /[AEIOU0-9]/);
    assert.equal(new Set(USER_CODE_ALPHABET).size, 20);
    const seen = new Set<string>();
    for (let index = 0; index < 2000; index++) {
      const code = generateUserCode();
      assert.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      seen.add(code);
    }
    assert.ok(seen.size > 1990, 'random, not repeating');
  });

  it('compare case-insensitively, ignoring dashes and spaces; anything else is no code', () => {
    assert.equal(normalizeUserCode('bdfh-jklm'), 'BDFHJKLM');
    assert.equal(normalizeUserCode(' BDFH JKLM '), 'BDFHJKLM');
    assert.equal(normalizeUserCode('bdfhjklm'), 'BDFHJKLM');
    for (const typed of ['', 'BDFH-JKL', 'BDFH-JKLMN', 'BDFH-JKL0', 'BDFH-JKLO', 'BDFH-JKL1', 'BDFH-JKLI', 'BDFH-JKLA', 'BDFH_JKLM', 'x'.repeat(100)]) {
      assert.equal(normalizeUserCode(typed), undefined, typed.slice(0, 20));
    }
  });
});
