import { describe, expect, it } from 'vitest';
import { bannedRanges, banTarget } from '../../../src/security/client-key/ban-target.js';
import { SecurityConfigError } from '../../../src/security/errors.js';
import { Security } from '../../../src/security/security.js';

describe('banTarget', () => {
  it.each([
    ['203.0.113.7', 64, '203.0.113.7'],
    ['203.0.113.7/32', 64, '203.0.113.7'],
    ['::ffff:203.0.113.7', 64, '203.0.113.7'],
    ['10.1.2.3/8', 64, '10.0.0.0/8'],
    ['2001:DB8::1', 64, '2001:db8::/64'],
    ['2001:db8::/64', 64, '2001:db8::/64'],
    ['2001:db8:0:0:1::/80', 64, '2001:db8::/64'],
    ['2001:db8::/32', 64, '2001:db8::/32'],
    ['2001:db8::1', 128, '2001:db8::1'],
    ['2001:db8:1:2::/56', 48, '2001:db8:1::/48'],
  ])('bans %s (IPv6 clients by /%i) as %s', (client, subnet, target) => {
    expect(banTarget(client, subnet)).toBe(target);
  });

  it.each(['', 'bob', '10.0.0.0/33', '300.1.1.1', 'fe80::1%eth0', '10.0.0.1/'])(
    'refuses %j with an error naming the field',
    (client) => {
      let error: unknown;
      try {
        banTarget(client, 64);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SecurityConfigError);
      expect((error as SecurityConfigError).context.field).toBe('client');
    },
  );
});

describe('bannedRanges', () => {
  it('matches addresses and IPv6 client keys inside a range', () => {
    const ranges = bannedRanges(['2001:db8::/32', '198.51.100.0/24']);
    expect(ranges.has('2001:db8:1:2::/64')).toBe(true);
    expect(ranges.has('2001:db9:1:2::/64')).toBe(false);
    expect(ranges.has('198.51.100.9')).toBe(true);
    expect(ranges.has('198.51.101.9')).toBe(false);
    expect(ranges.has('unknown')).toBe(false);
  });
});

describe('Security.ban and unban', () => {
  it('ban the client key the requests are counted under, and lift it however it is written', async () => {
    const security = new Security({ screening: false });
    try {
      const ban = await security.ban('2001:DB8:0:0:1::9', '1h', 'scraping');
      expect(ban.client).toBe('2001:db8::/64');
      const verdict = await security.inspect({
        method: 'GET',
        path: '/',
        query: '',
        headers: {},
        remoteAddress: '2001:db8::77',
      });
      expect(verdict.refusal?.reason).toBe('banned');
      await security.ban('2001:db8:aa::/48', '1h', 'range');
      const inRange = await security.inspect({
        method: 'GET',
        path: '/',
        query: '',
        headers: {},
        remoteAddress: '2001:db8:aa:1::5',
      });
      expect(inRange.refusal?.reason).toBe('banned');
      await expect(security.ban('bob', '1h', 'x')).rejects.toMatchObject({
        code: 'E_SECURITY_CONFIG',
        context: { field: 'client' },
      });
      expect(await security.unban('2001:db8:0:0::1')).toBe(true);
      expect(await security.unban('2001:db8::/64')).toBe(false);
      expect(await security.unban('bob')).toBe(false);
      expect(security.bans().map((b) => b.client)).toEqual(['2001:db8:aa::/48']);
    } finally {
      await security.close();
    }
  });
});
