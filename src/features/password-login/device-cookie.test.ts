/** Device cookies (OWASP device-cookie design, SEC-PWD-14): who is trusted and who is not. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostCookie } from '../../http/cookies.ts';
import { createDeviceCookies, credentialEpoch, DEVICE_COOKIE_MAX_AGE_SECONDS, DEVICE_COOKIE_NAME, MAX_ENTRIES } from './device-cookie.ts';

const KEY = Buffer.alloc(32, 1);
const account = (login: string, passwordHash: string | null = `$argon2id$${login}`) => ({ login, epoch: credentialEpoch(passwordHash) });
const ALICE = account('alice@example.com');
const BOB = account('bob@example.com');
const user = (index: number) => account(`user${index}@example.com`);

describe('device cookies', () => {
  let clock = 1_800_000_000_000;
  const devices = createDeviceCookies(KEY, () => clock);

  it('trusts an issued cookie for its login only; it names no account and is a valid __Host- cookie value', () => {
    const value = devices.issue(undefined, ALICE);
    assert.match(devices.trustedNonce(value, ALICE) ?? '', /^[A-Za-z0-9_-]{22}$/);
    assert.equal(devices.trustedNonce(value, BOB), undefined, 'a cookie for another account is just untrusted');
    assert.doesNotMatch(value, /alice/i);
    assert.doesNotThrow(() => hostCookie(DEVICE_COOKIE_NAME, value));
  });

  it('does not trust forged, altered or foreign-key cookies, or garbage', () => {
    const value = devices.issue(undefined, ALICE);
    const [nonce, issued, signature] = value.split('.') as [string, string, string];
    const flipped = `${nonce}.${issued}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const otherNonce = `${'x'.repeat(22)}.${issued}.${signature}`;
    const laterIssue = `${nonce}.${(Number.parseInt(issued, 36) + 1).toString(36)}.${signature}`;
    for (const forged of [flipped, otherNonce, laterIssue, `${nonce}.${signature}`, `${nonce}.${issued}.`, nonce, '', 'x'.repeat(5000), `${value}~${'y'.repeat(400)}`.slice(0, 10)]) {
      assert.equal(devices.trustedNonce(forged, ALICE), undefined, forged.slice(0, 40));
    }
    assert.equal(createDeviceCookies(Buffer.alloc(32, 2), () => clock).trustedNonce(value, ALICE), undefined, 'signed with another key');
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
    for (let index = 0; index < MAX_ENTRIES; index += 1) value = devices.issue(value, user(index));
    assert.equal(value.split('~').length, MAX_ENTRIES);
    assert.equal(devices.trustedNonce(value, ALICE), undefined, 'the oldest entries drop off');
    assert.ok(devices.trustedNonce(value, user(MAX_ENTRIES - 1)) !== undefined);
  });

  it('an entry stops being trusted when the account\'s password changes (a reset or change revokes every device)', () => {
    const value = devices.issue(undefined, ALICE);
    assert.ok(devices.trustedNonce(value, ALICE) !== undefined);
    assert.equal(devices.trustedNonce(value, account('alice@example.com', '$argon2id$new-password')), undefined, 'another password hash: another epoch');
    assert.equal(devices.trustedNonce(value, account('alice@example.com', null)), undefined, 'the password removed');
  });

  it('the server refuses an entry older than its lifetime, whatever the browser kept', () => {
    const issuedAt = clock;
    const value = devices.issue(undefined, ALICE);
    clock = issuedAt + (DEVICE_COOKIE_MAX_AGE_SECONDS - 1) * 1000;
    assert.ok(devices.trustedNonce(value, ALICE) !== undefined, 'just inside its lifetime');
    clock = issuedAt + DEVICE_COOKIE_MAX_AGE_SECONDS * 1000;
    assert.equal(devices.trustedNonce(value, ALICE), undefined, 'expired');
    clock = issuedAt - 120_000;
    assert.equal(devices.trustedNonce(value, ALICE), undefined, 'issued in the future (beyond clock skew)');
    clock = issuedAt;
  });

  it('refuses a key shorter than 32 bytes', () => {
    assert.throws(() => createDeviceCookies(Buffer.alloc(16)), RangeError);
  });
});
