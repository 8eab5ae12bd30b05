import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base32Encode, hotp, matchTotp, otpauthUri, totp, totpStep } from './totp.ts';

// RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to the hash's key length.
const SEED_SHA1 = Buffer.from('12345678901234567890', 'ascii');
const SEED_SHA256 = Buffer.from('12345678901234567890123456789012', 'ascii');
const SEED_SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii');

const VECTORS: readonly [seconds: number, sha1: string, sha256: string, sha512: string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP generator: RFC 6238 Appendix B test vectors (SEC-ASVS-09)', () => {
  for (const [seconds, sha1, sha256, sha512] of VECTORS) {
    it(`T=${seconds}s`, () => {
      assert.equal(totp(SEED_SHA1, seconds * 1000, { digits: 8 }), sha1);
      assert.equal(totp(SEED_SHA256, seconds * 1000, { digits: 8, algorithm: 'sha256' }), sha256);
      assert.equal(totp(SEED_SHA512, seconds * 1000, { digits: 8, algorithm: 'sha512' }), sha512);
    });
  }

  it('RFC 4226 Appendix D HOTP values (6 digits, SHA-1)', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expected.forEach((code, counter) => assert.equal(hotp(SEED_SHA1, counter), code));
  });
});

describe('TOTP verification window (SEC-ASVS-09)', () => {
  const secret = Buffer.from('0123456789abcdef0123', 'ascii');
  const now = 1_700_000_000_000;
  const step = totpStep(now);
  const at = (offset: number) => (step + offset) * 30_000 + 1;

  it('accepts the current step and ±1 step, reporting which step matched', () => {
    assert.equal(matchTotp(secret, totp(secret, now), now), step);
    assert.equal(matchTotp(secret, totp(secret, at(-1)), now), step - 1);
    assert.equal(matchTotp(secret, totp(secret, at(1)), now), step + 1);
  });

  it('refuses ±2 steps, other digits and malformed input', () => {
    assert.equal(matchTotp(secret, totp(secret, at(-2)), now), undefined);
    assert.equal(matchTotp(secret, totp(secret, at(2)), now), undefined);
    const code = totp(secret, now);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    assert.equal(matchTotp(secret, wrong, now), undefined);
    for (const bad of ['', '12345', '1234567', '12a456', ` ${code}`]) assert.equal(matchTotp(secret, bad, now), undefined);
  });
});

describe('otpauth URI and base32', () => {
  it('encodes RFC 4648 base32 test vectors without padding', () => {
    assert.equal(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI');
    assert.equal(base32Encode(Buffer.from('f')), 'MY');
  });
  it('names issuer, account and the parameters', () => {
    const uri = new URL(otpauthUri({ issuer: 'Gatehouse', account: 'a@example.com', secret: Buffer.from('foobar') }));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), 'MZXW6YTBOI');
    assert.equal(uri.searchParams.get('issuer'), 'Gatehouse');
    assert.equal(uri.searchParams.get('period'), '30');
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.host, 'totp');
    assert.equal(uri.pathname, '/Gatehouse:a%40example.com');
  });
});
