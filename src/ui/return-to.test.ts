import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETURN_TO, returnToOrDefault, safeReturnTo } from './return-to.ts';

/** Values an attacker might put in `return_to` to leave this server after sign-in. */
const HOSTILE_RETURN_TO: readonly string[] = [
  '//evil.com',
  '///evil.com',
  '/\\evil.com',
  '\\\\evil.com',
  '/\\/evil.com',
  'https://evil.com',
  'http://evil.com/account',
  'HTTPS://evil.com',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/%2F%2Fevil.com',
  '/%2f%2fevil.com',
  '/%5C%5Cevil.com',
  '/%5cevil.com',
  '\t//evil.com',
  '/\t/evil.com',
  '/\n/evil.com',
  '/\r\n/evil.com',
  ' /account',
  '/account ',
  '/\u0000/evil.com',
  '/\u007f',
  '/\u2028/evil.com',
  '/ﬀ',
  'evil.com',
  './/evil.com',
  '',
  '/' + 'a'.repeat(2000),
];

/** Local paths that must survive unchanged. */
const SAFE_RETURN_TO: readonly string[] = [
  '/',
  '/account',
  '/ok?x=1',
  '/oauth/authorize?client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=a%2Fb',
  '/account#sessions',
  '/a/b/c?d=e&f=g#h',
  '/' + 'a'.repeat(1999),
];

describe('return_to (open-redirect guard)', () => {
  for (const value of HOSTILE_RETURN_TO) {
    it(`refuses ${JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}…(${value.length})` : value)}`, () => {
      assert.equal(safeReturnTo(value), undefined);
      assert.equal(returnToOrDefault(value), DEFAULT_RETURN_TO);
    });
  }

  for (const value of SAFE_RETURN_TO) {
    it(`accepts ${JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}…(${value.length})` : value)}`, () => {
      assert.equal(safeReturnTo(value), value);
    });
  }

  it('refuses anything that is not a string (repeated fields arrive as arrays)', () => {
    for (const value of [undefined, null, 1, ['/account'], { toString: () => '/account' }]) {
      assert.equal(safeReturnTo(value), undefined);
    }
  });

  it('every accepted value resolves to the same origin, whatever the base', () => {
    for (const value of [...SAFE_RETURN_TO, ...HOSTILE_RETURN_TO]) {
      const accepted = safeReturnTo(value);
      if (accepted === undefined) continue;
      assert.equal(new URL(accepted, 'http://localhost:3000/login?x=1').origin, 'http://localhost:3000');
    }
  });
});
