import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cidrMatcher, formatIp, parseCidr } from '../../../src/security/client-key/index.js';
import { SecurityConfigError } from '../../../src/security/errors.js';

function prng(seed: number) {
  return () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32;
  };
}

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', 4],
    ['10.1.2.3/8', '10.0.0.0/8', 4],
    ['192.168.1.77/32', '192.168.1.77/32', 4],
    ['192.168.1.77', '192.168.1.77/32', 4],
    ['0.0.0.0/0', '0.0.0.0/0', 4],
    ['2001:db8::/32', '2001:db8::/32', 6],
    ['2001:DB8:1:2:3::/64', '2001:db8:1:2::/64', 6],
    ['::1', '::1/128', 6],
    ['::/0', '::/0', 6],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8', 4],
    [' 172.16.0.0/12 ', '172.16.0.0/12', 4],
  ])('reads %s as %s', (text, canonical, family) => {
    const range = parseCidr(text);
    expect(range.text).toBe(canonical);
    expect(range.family).toBe(family);
  });

  it.each([
    ['10.0.0.0/33', 'prefix'],
    ['2001:db8::/129', 'prefix'],
    ['10.0.0.0/', 'prefix'],
    ['10.0.0.0/08', 'prefix'],
    ['10.0.0.0/-1', 'prefix'],
    ['10.0.0.0/8/8', 'prefix'],
    ['10.0.0/8', 'not an address'],
    ['example.com', 'not an address'],
    ['', 'not an address'],
    ['fe80::1%eth0/64', 'zone'],
  ])('refuses %j with a SecurityConfigError naming the field', (text, why) => {
    try {
      parseCidr(text, 'allow[3]');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SecurityConfigError);
      const e = error as SecurityConfigError;
      expect(e.code).toBe('E_SECURITY_CONFIG');
      expect(e.context).toMatchObject({ field: 'allow[3]', value: text });
      expect(e.message).toContain('allow[3]');
      expect(e.message).toContain(why);
    }
  });

  it('refuses a value that is not a string', () => {
    expect(() => parseCidr(42 as never, 'deny[0]')).toThrow(SecurityConfigError);
  });
});

describe('cidrMatcher', () => {
  it('matches addresses in IPv4 and IPv6 ranges, and IPv4-mapped addresses against IPv4', () => {
    const m = cidrMatcher(['10.0.0.0/8', '192.168.0.0/16', 'fc00::/7', '::1', '203.0.113.9']);
    for (const yes of [
      '10.0.0.0',
      '10.255.255.255',
      '192.168.1.1',
      'fd12::1',
      '::1',
      '203.0.113.9',
      '::ffff:10.1.2.3',
    ]) {
      expect(m.has(yes), yes).toBe(true);
    }
    for (const no of [
      '11.0.0.0',
      '9.255.255.255',
      '192.169.0.0',
      'fe00::1',
      '::2',
      '203.0.113.10',
      'not-an-ip',
      '',
    ]) {
      expect(m.has(no), no).toBe(false);
    }
    expect(m.ranges.map((r) => r.text)).toEqual([
      '10.0.0.0/8',
      '192.168.0.0/16',
      'fc00::/7',
      '::1/128',
      '203.0.113.9/32',
    ]);
  });

  it('merges overlapping and adjacent ranges without changing membership', () => {
    const m = cidrMatcher([
      '10.0.0.0/25',
      '10.0.0.128/25',
      '10.0.0.0/24',
      '10.0.1.0/24',
      '0.0.0.0/32',
    ]);
    expect(m.has('10.0.1.255')).toBe(true);
    expect(m.has('10.0.2.0')).toBe(false);
    expect(m.has('0.0.0.0')).toBe(true);
    expect(m.has('0.0.0.1')).toBe(false);
  });

  it('agrees with node:net BlockList on random ranges and addresses', () => {
    const random = prng(3);
    const blocks = new BlockList();
    const list: string[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 2 === 0) {
        const address = [0, 0, 0, 0].map(() => Math.floor(random() * 256)).join('.');
        const prefix = 8 + Math.floor(random() * 25);
        list.push(`${address}/${prefix}`);
        const first = parseCidr(`${address}/${prefix}`).first;
        blocks.addSubnet(formatIp(first), prefix, 'ipv4');
      } else {
        const words = [0, 0, 0, 0].map(() => Math.floor(random() * 2 ** 32));
        const prefix = 16 + Math.floor(random() * 113);
        const text = `${formatIp({ family: 6, words })}/${prefix}`;
        list.push(text);
        blocks.addSubnet(formatIp(parseCidr(text).first), prefix, 'ipv6');
      }
    }
    const m = cidrMatcher(list, 'allow');
    for (let i = 0; i < 5_000; i++) {
      if (i % 2 === 0) {
        const address = [0, 0, 0, 0].map(() => Math.floor(random() * 256)).join('.');
        expect(m.has(address), address).toBe(blocks.check(address, 'ipv4'));
      } else {
        // Near the listed ranges, so that both answers occur.
        const base = parseCidr(list[(i % 100) * 2 + 1]!).first.words;
        const words = base.map((w, k) =>
          k === 3
            ? Math.floor(random() * 2 ** 32)
            : k === 2 && random() < 0.5
              ? Math.floor(random() * 2 ** 32)
              : w,
        );
        const address = formatIp({ family: 6, words });
        expect(m.has(address), address).toBe(blocks.check(address, 'ipv6'));
      }
    }
  });

  it('names the entry that does not parse', () => {
    try {
      cidrMatcher(['10.0.0.0/8', 'bogus'], 'deny');
      expect.unreachable();
    } catch (error) {
      expect((error as SecurityConfigError).context.field).toBe('deny[1]');
    }
    expect(() => cidrMatcher('10.0.0.0/8' as never, 'deny')).toThrow(SecurityConfigError);
  });

  it('answers fast on a long list', () => {
    const list = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`);
    const m = cidrMatcher(list);
    const start = performance.now();
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (m.has(`10.${i % 39}.${(i >> 6) & 255}.1`)) hits++;
    expect(hits).toBe(100_000);
    // Parse and binary search: microseconds, whatever the length of the list.
    expect((performance.now() - start) / 100_000).toBeLessThan(0.02);
  });
});
