/**
 * SEC-JWT-13: the one strict JSON-object reader that the server's and the kit's JWT verifiers
 * (and client assertions) share refuses a member named twice at any depth, and accepts
 * everything else JSON.parse accepts as an object.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasDuplicateMember, parseObject } from '../../packages/middleware/src/compact-jws.ts';

const read = (text: string) => parseObject(Buffer.from(text, 'utf8'));

describe('SEC-JWT-13 strict JSON objects (RFC 7515 §5.2, RFC 7519 §4)', () => {
  it('refuses duplicate member names, first or last, nested, or spelled with escapes', () => {
    for (const text of [
      '{"exp":1,"exp":2}',
      '{"alg":"ES256","kid":"k","alg":"none"}',
      '{"a":{"b":1,"b":1}}',
      '{"a":[{"x":1},{"y":2,"y":3}]}',
      '{"\\u0065xp":1,"exp":2}',
      '{"e\\"x":1,"e\\"x":2}',
      '{"a":"{\\"b\\":1,\\"b\\":2}","a":0}',
      '{"act":{"sub":"a","act":{"sub":"b","sub":"c"}}}',
    ]) {
      assert.equal(hasDuplicateMember(text), true, text);
      assert.equal(read(text), undefined, text);
    }
  });

  it('accepts distinct names, equal values, names that only look alike and strings that contain braces', () => {
    for (const text of [
      '{}',
      '{"exp":1,"iat":1}',
      '{"a":{"b":1},"c":{"b":1}}',
      '{"a":[{"x":1},{"x":2}]}',
      '{"exp":1,"Exp":2,"exp ":3}',
      '{"s":"{\\"b\\":1,\\"b\\":2}","t":"[,,]"}',
      '{"a":[1,[2,{"z":[]}],"w"],"z":null}',
      ' { "a" : 1 , "b" : { "a" : 2 } } ',
      '{"k":"\\\\","k2":"\\\\\\""}',
    ]) {
      assert.equal(hasDuplicateMember(text), false, text);
      assert.deepEqual(read(text), JSON.parse(text), text);
    }
  });

  it('a string value that repeats a member name is not a member', () => {
    assert.deepEqual(read('{"exp":"exp","x":"exp"}'), { exp: 'exp', x: 'exp' });
  });

  it('non-objects, bad JSON and invalid UTF-8 are still refused', () => {
    for (const text of ['[]', '1', '"x"', 'null', '{"a":1', '{"a":1}x']) assert.equal(read(text), undefined, text);
    assert.equal(parseObject(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), undefined, 'invalid UTF-8');
  });
});
