/** Device cookies (OWASP device-cookie design, SEC-PWD-14): who is trusted and who is not. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostCookie } from '../../http/cookies.ts';
import { createDeviceCookies, DEVICE_COOKIE_NAME, MAX_ENTRIES } from './device-cookie.ts';

const KEY = Buffer.alloc(32, 1);
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

describe('device cookies', () => {
  const devices = createDeviceCookies(KEY);

  it('trusts an issued cookie for its login only; it names no account and is a valid __Host- cookie value', () => {
    const value = devices.issue(undefined, ALICE);
    assert.match(devices.trustedNonce(value, ALICE) ?? '', /^[A-Za-z0-9_-]{22}$/);
    assert.equal(devices.trustedNonce(value, BOB), undefined, 'a cookie for another account is just untrusted');
    assert.doesNotMatch(value, /alice/i);
    assert.doesNotThrow(() => hostCookie(DEVICE_COOKIE_NAME, value));
  });

  it('does not trust forged, altered or foreign-key cookies, or garbage', () => {
    const value = devices.issue(undefined, ALICE);
    const [nonce, signature] = value.split('.') as [string, string];
    const flipped = `${nonce}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const otherNonce = `${'x'.repeat(22)}.${signature}`;
    for (const forged of [flipped, otherNonce, `${nonce}.`, nonce, '', 'x'.repeat(5000), `${value}~${'y'.repeat(400)}`.slice(0, 10)]) {
      assert.equal(devices.trustedNonce(forged, ALICE), undefined, forged.slice(0, 40));
    }
    assert.equal(createDeviceCookies(Buffer.alloc(32, 2)).trustedNonce(value, ALICE), undefined, 'signed with another key');
    assert.equal(devices.trustedNonce(undefined, ALICE), undefined);
  });

  it('issues a fresh nonce at every sign-in and drops the previous entry for that login', () => {
    const first = devices.issue(undefined, ALICE);
    const second = devices.issue(first, ALICE);
    assert.notEqual(devices.trustedNonce(second, ALICE), devices.trustedNonce(first, ALICE));
    assert.equal(second.split('~').length, 1);
  });

  it('remembers a few accounts per device, newest first, at most MAX_ENTRIES', () => {
    let value = devices.issue(undefined, ALICE);
    value = devices.issue(value, BOB);
    assert.ok(devices.trustedNonce(value, ALICE) !== undefined && devices.trustedNonce(value, BOB) !== undefined, 'both accounts trusted');
    for (let index = 0; index < MAX_ENTRIES; index += 1) value = devices.issue(value, `user${index}@example.com`);
    assert.equal(value.split('~').length, MAX_ENTRIES);
    assert.equal(devices.trustedNonce(value, ALICE), undefined, 'the oldest entries drop off');
    assert.ok(devices.trustedNonce(value, `user${MAX_ENTRIES - 1}@example.com`) !== undefined);
  });

  it('refuses a key shorter than 32 bytes', () => {
    assert.throws(() => createDeviceCookies(Buffer.alloc(16)), RangeError);
  });
});
