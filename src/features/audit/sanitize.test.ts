import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanText, cleanUserAgent, isAuditSecretName, sanitizeDetail } from './sanitize.ts';

describe('audit sanitizing (SEC-ASVS-14)', () => {
  it('removes whole terminal escape sequences, not just the ESC byte', () => {
    assert.equal(cleanText('evil\r\nINFO fake\u001b[31m', 100), 'evilINFO fake');
    assert.equal(cleanText('a\u001b[1;31mred\u001b[0m b', 100), 'ared b');
    assert.equal(cleanText('title\u001b]0;pwned\u0007 x', 100), 'title x');
    assert.equal(cleanText('c1\u009b2Jx', 100), 'c1x');
    assert.equal(cleanText('lone\u001b', 100), 'lone');
  });

  it('removes C0/C1 controls, DEL, Unicode line separators and bidi overrides; keeps other text', () => {
    assert.equal(cleanText('a\u0000b\tc\u007fd\u0085e\u2028f\u2029g\u202eh\u2066i', 100), 'abcdefghi');
    assert.equal(cleanText('Müller 日本 🙂', 100), 'Müller 日本 🙂');
  });

  it('cuts after cleaning and never splits a surrogate pair', () => {
    assert.equal(cleanText('\r\n'.repeat(10) + 'abc', 3), 'abc');
    assert.equal(cleanText('ab🙂', 3), 'ab');
    assert.equal(cleanUserAgent('u'.repeat(600))?.length, 512);
    assert.equal(cleanUserAgent('\r\n'), null);
    assert.equal(cleanUserAgent(undefined), null);
  });

  it('treats the logging rules’ secret names and any *code / *hash* name as secret', () => {
    for (const name of ['password', 'newPassword', 'token', 'access_token', 'secret', 'client_secret', 'cookie', 'code', 'auth_code', 'otpCode', 'hash', 'password_hash', 'tokenHash', 'code_verifier', 'api_key']) {
      assert.equal(isAuditSecretName(name), true, name);
    }
    for (const name of ['reason', 'method', 'session_id', 'client_id', 'grant_type', 'scope', 'retry_after_seconds']) {
      assert.equal(isAuditSecretName(name), false, name);
    }
  });

  it('keeps flat primitives only and stays plain data', () => {
    const detail = JSON.parse('{"__proto__": "x", "ok": 1}') as Record<string, unknown>;
    const clean = sanitizeDetail({ ...detail, nan: Number.NaN, inf: Number.POSITIVE_INFINITY, nested: { token: 'x' }, list: ['a'], fn: () => 1, flag: true, none: null, skipped: undefined });
    assert.deepEqual(Object.keys(clean).sort(), ['__proto__', 'flag', 'inf', 'nan', 'none', 'ok']);
    assert.equal(Object.getPrototypeOf(clean), Object.prototype);
    assert.equal(clean.nan, null);
    assert.equal(clean.inf, null);
    assert.equal(JSON.stringify(clean), '{"__proto__":"x","ok":1,"nan":null,"inf":null,"flag":true,"none":null}');
  });

  it('bounds the number of fields and the length of names', () => {
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`field${i}`, i]));
    assert.equal(Object.keys(sanitizeDetail(many)).length, 32);
    const [name] = Object.keys(sanitizeDetail({ ['n'.repeat(200)]: 1 }));
    assert.equal(name?.length, 64);
  });
});
