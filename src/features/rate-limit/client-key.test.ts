import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientKey } from './client-key.ts';

describe('clientKey', () => {
  it('keeps an IPv4 address as it is', () => {
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('127.0.0.1'), '127.0.0.1');
    assert.notEqual(clientKey('203.0.113.7'), clientKey('203.0.113.8'));
  });

  it('groups IPv6 addresses by their /64, in expanded form', () => {
    assert.equal(clientKey('2001:db8::1'), '2001:0db8:0000:0000::/64');
    assert.equal(clientKey('2001:db8::1'), clientKey('2001:db8:0:0:ffff::2'));
    assert.equal(clientKey('2001:DB8::1'), clientKey('2001:0db8:0000:0000:0000:0000:0000:0001'));
    assert.notEqual(clientKey('2001:db8::1'), clientKey('2001:db8:0:1::1'));
    assert.equal(clientKey('2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'), '2001:0db8:aaaa:bbbb::/64');
    assert.equal(clientKey('::1'), '0000:0000:0000:0000::/64');
    assert.equal(clientKey('::'), '0000:0000:0000:0000::/64');
    assert.equal(clientKey('1:2:3:4::'), '0001:0002:0003:0004::/64');
  });

  it('turns an IPv4-mapped IPv6 address into the IPv4 address (dual-stack listeners)', () => {
    assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('::FFFF:127.0.0.1'), '127.0.0.1');
    assert.equal(clientKey('::ffff:cb00:7107'), '203.0.113.7');
    assert.equal(clientKey('0:0:0:0:0:ffff:203.0.113.7'), '203.0.113.7');
  });

  it('does not mistake other IPv6 addresses with a dotted tail for IPv4', () => {
    assert.equal(clientKey('2001:db8::203.0.113.7'), '2001:0db8:0000:0000::/64');
    assert.equal(clientKey('::203.0.113.7'), '0000:0000:0000:0000::/64');
  });

  it('ignores a zone id', () => {
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0000:0000:0000::/64');
    assert.equal(clientKey('fe80::1%eth0'), clientKey('fe80::2%eth1'));
    assert.equal(clientKey('fe80::1%25eth0'), clientKey('fe80::1'));
  });

  it('puts every unparseable value into one stable bucket, without throwing', () => {
    const garbage = [
      '',
      'not-an-ip',
      ' 203.0.113.7',
      '203.0.113.7, 198.51.100.1',
      '203.0.113.256',
      '01.2.3.4',
      '1.2.3.4%eth0',
      '[2001:db8::1]',
      '2001:db8::1/64',
      '2001:db8:::1',
      'fe80::1%',
      'x'.repeat(10_000),
    ];
    for (const value of garbage) assert.equal(clientKey(value), 'invalid:', JSON.stringify(value.slice(0, 40)));
    // At runtime `request.ip` can be missing in odd setups; still no throw.
    assert.equal(clientKey(undefined as unknown as string), 'invalid:');
  });

  it('never collides an IPv4 key with an IPv6 one', () => {
    const keys = new Set([clientKey('0.0.0.0'), clientKey('::'), clientKey('::ffff:0.0.0.0'), clientKey('garbage')]);
    assert.equal(keys.size, 3, 'the mapped address shares the IPv4 key, nothing else collides');
  });
});
