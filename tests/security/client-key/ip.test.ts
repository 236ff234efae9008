import { isIP, isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  addressKey,
  formatIp,
  isIPv4Mapped,
  normalizeIp,
  parseIp,
  unmapIPv4,
} from '../../../src/security/client-key/index.js';

/** A deterministic pseudo-random generator, so failures reproduce. */
function prng(seed: number) {
  return () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32;
  };
}

describe('parseIp', () => {
  it.each([
    ['0.0.0.0', [0]],
    ['255.255.255.255', [0xffffffff]],
    ['10.1.2.3', [0x0a010203]],
    ['192.168.0.1', [0xc0a80001]],
  ])('reads IPv4 %s', (text, words) => {
    expect(parseIp(text)).toEqual({ family: 4, words });
  });

  it.each([
    ['::', [0, 0, 0, 0]],
    ['::1', [0, 0, 0, 1]],
    ['1::', [0x00010000, 0, 0, 0]],
    ['2001:db8::1', [0x20010db8, 0, 0, 1]],
    ['2001:DB8:0:0:0:0:0:1', [0x20010db8, 0, 0, 1]],
    ['fe80::1:2:3:4', [0xfe800000, 0, 0x00010002, 0x00030004]],
    ['::ffff:192.0.2.128', [0, 0, 0xffff, 0xc0000280]],
    ['64:ff9b::192.0.2.33', [0x0064ff9b, 0, 0, 0xc0000221]],
    ['1:2:3:4:5:6:7:8', [0x00010002, 0x00030004, 0x00050006, 0x00070008]],
    ['fe80::1%eth0', [0xfe800000, 0, 0, 1]],
  ])('reads IPv6 %s', (text, words) => {
    expect(parseIp(text)).toEqual({ family: 6, words });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '1..2.3',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '0x7f.0.0.1',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':::',
    '1:',
    ':1',
    '12345::',
    'g::1',
    '::ffff:1.2.3',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1%',
    '%eth0',
    '[::1]',
    '1.2.3.4:80',
    'unknown',
    'a'.repeat(100),
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('agrees with node:net on what is an address (a few thousand random candidates)', () => {
    const random = prng(42);
    const pick = (chars: string, n: number) =>
      Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join('');
    const candidates: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const kind = i % 3;
      if (kind === 0) {
        candidates.push(
          Array.from({ length: 3 + Math.floor(random() * 3) }, () =>
            String(Math.floor(random() * 300)),
          ).join('.'),
        );
      } else if (kind === 1) {
        candidates.push(pick('0123456789abcdef:', 2 + Math.floor(random() * 38)));
      } else {
        const groups = Array.from({ length: 8 }, () => Math.floor(random() * 65_536).toString(16));
        const cut = Math.floor(random() * 8);
        const len = Math.floor(random() * (8 - cut));
        candidates.push(
          len > 1
            ? `${groups.slice(0, cut).join(':')}::${groups.slice(cut + len).join(':')}`
            : groups.join(':'),
        );
      }
    }
    for (const text of candidates) {
      const parsed = parseIp(text);
      expect(parsed?.family ?? 0, text).toBe(isIP(text));
    }
  });
});

describe('formatIp and normalizeIp', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['FE80::A', 'fe80::a'],
    ['::ffff:198.51.100.4', '198.51.100.4'],
    ['::ffff:c633:6404', '198.51.100.4'],
    ['10.0.0.1', '10.0.0.1'],
  ])('writes %s as %s (RFC 5952, IPv4-mapped as IPv4)', (text, expected) => {
    expect(normalizeIp(text)).toBe(expected);
    expect(isIPv4(expected) || isIPv6(expected)).toBe(true);
  });

  it('round-trips random IPv6 addresses through text', () => {
    const random = prng(7);
    for (let i = 0; i < 1_000; i++) {
      const words = Array.from({ length: 4 }, () =>
        random() < 0.3 ? 0 : Math.floor(random() * 2 ** 32),
      );
      const text = formatIp({ family: 6, words });
      expect(parseIp(text), text).toEqual({ family: 6, words });
      expect(isIPv6(text), text).toBe(true);
    }
  });

  it('reads IPv4-mapped addresses as IPv4', () => {
    const mapped = parseIp('::ffff:203.0.113.9')!;
    expect(isIPv4Mapped(mapped)).toBe(true);
    expect(unmapIPv4(mapped)).toEqual(parseIp('203.0.113.9'));
    expect(isIPv4Mapped(parseIp('::203.0.113.9')!)).toBe(false);
    expect(normalizeIp('nope')).toBeUndefined();
  });
});

describe('addressKey', () => {
  it('keys IPv4 by address and IPv6 by its /64, IPv4-mapped as IPv4', () => {
    expect(addressKey('198.51.100.4')).toBe('198.51.100.4');
    expect(addressKey('::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:ffff::9'));
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
  });

  it('groups by other prefix lengths on request', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::/48');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 56)).toBe('2001:db8:1::/56');
    expect(addressKey('2001:db8:1:ff:3:4:5:6', 56)).toBe('2001:db8:1::/56');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 127)).toBe('2001:db8:1:2:3:4:5:6/127');
    expect(addressKey('2001:db8:1:2:3:4:5:7', 127)).toBe('2001:db8:1:2:3:4:5:6/127');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 128)).toBe('2001:db8:1:2:3:4:5:6');
    expect(addressKey('garbage')).toBeUndefined();
  });
});
