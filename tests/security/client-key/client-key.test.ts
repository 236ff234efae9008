import { describe, expect, it } from 'vitest';
import {
  type ClientKeyOptions,
  type ClientKeyRequest,
  clientKey,
  createClientKey,
  formatIp,
  parseHop,
} from '../../../src/security/client-key/index.js';
import { SecurityConfigError } from '../../../src/security/errors.js';

const from = (
  remoteAddress: string | undefined,
  headers: ClientKeyRequest['headers'] = {},
): ClientKeyRequest => ({ remoteAddress, headers });

describe('clientKey without trusted proxies (the default)', () => {
  it('is the socket address, whatever X-Forwarded-For or Forwarded say', () => {
    const spoofed = from('203.0.113.7', {
      'x-forwarded-for': '1.2.3.4',
      forwarded: 'for=5.6.7.8',
      'x-real-ip': '9.9.9.9',
    });
    expect(clientKey(spoofed)).toBe('203.0.113.7');
    expect(clientKey(spoofed, {})).toBe('203.0.113.7');
    expect(clientKey(spoofed, { trustProxy: false })).toBe('203.0.113.7');
    expect(clientKey(spoofed, { trustProxy: 0 })).toBe('203.0.113.7');
  });

  it('does not change as a client rotates the header', () => {
    const keys = new Set(
      Array.from({ length: 50 }, (_, i) =>
        clientKey(from('198.51.100.20', { 'x-forwarded-for': `10.0.${i}.1` })),
      ),
    );
    expect([...keys]).toEqual(['198.51.100.20']);
  });

  it('reads IPv4-mapped socket addresses as IPv4', () => {
    expect(clientKey(from('::ffff:203.0.113.7'))).toBe('203.0.113.7');
  });

  it('is `unknown` without a readable socket address', () => {
    expect(clientKey(from(undefined))).toBe('unknown');
    expect(clientKey(from('not an address'))).toBe('unknown');
  });
});

describe('clientKey and IPv6', () => {
  it('groups an IPv6 client by its /64: rotating addresses inside it is one client', () => {
    const keys = new Set(
      [
        '2001:db8:aa:bb::1',
        '2001:db8:aa:bb:1234:5678:9abc:def0',
        '2001:db8:aa:bb:ffff:ffff:ffff:ffff',
      ].map((a) => clientKey(from(a))),
    );
    expect([...keys]).toEqual(['2001:db8:aa:bb::/64']);
    expect(clientKey(from('2001:db8:aa:bc::1'))).toBe('2001:db8:aa:bc::/64');
  });

  it('uses ipv6Subnet when given, and keeps whole addresses at 128', () => {
    expect(clientKey(from('2001:db8:aa:bb::1'), { ipv6Subnet: 48 })).toBe('2001:db8:aa::/48');
    expect(clientKey(from('2001:db8:aa:bb::1'), { ipv6Subnet: 128 })).toBe('2001:db8:aa:bb::1');
  });

  it('groups forwarded IPv6 clients too', () => {
    const options: ClientKeyOptions = { trustProxy: ['10.0.0.0/8'] };
    expect(
      clientKey(from('10.0.0.2', { 'x-forwarded-for': '2001:db8:1:2:3:4:5:6' }), options),
    ).toBe('2001:db8:1:2::/64');
  });
});

describe('clientKey with a list of trusted proxies', () => {
  const options: ClientKeyOptions = { trustProxy: ['10.0.0.0/8', '192.0.2.10', 'fd00::/8'] };

  it('walks X-Forwarded-For from the right to the first address that is not a proxy', () => {
    const request = from('10.0.0.2', { 'x-forwarded-for': '203.0.113.7, 10.1.1.1, 10.2.2.2' });
    expect(clientKey(request, options)).toBe('203.0.113.7');
  });

  it('ignores what the client wrote left of the address the trusted proxy appended', () => {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the address it saw.
    const request = from('10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 198.51.100.4' });
    expect(clientKey(request, options)).toBe('198.51.100.4');
  });

  it('ignores the header when the socket is not a trusted proxy', () => {
    const request = from('198.51.100.50', { 'x-forwarded-for': '1.1.1.1' });
    expect(clientKey(request, options)).toBe('198.51.100.50');
  });

  it('falls back to the socket when the trusted proxy sent no header', () => {
    expect(clientKey(from('10.0.0.2'), options)).toBe('10.0.0.2');
  });

  it('is the leftmost hop when every hop is a trusted proxy', () => {
    const request = from('10.0.0.2', { 'x-forwarded-for': '10.9.9.9, 192.0.2.10' });
    expect(clientKey(request, options)).toBe('10.9.9.9');
  });

  it('stops at an unreadable hop, keyed as the proxy that wrote it', () => {
    const request = from('10.0.0.2', { 'x-forwarded-for': '1.1.1.1, unknown, 10.3.3.3' });
    expect(clientKey(request, options)).toBe('10.3.3.3');
  });

  it('reads ports, brackets and IPv4-mapped addresses in hops', () => {
    expect(clientKey(from('10.0.0.2', { 'x-forwarded-for': '203.0.113.7:51234' }), options)).toBe(
      '203.0.113.7',
    );
    expect(
      clientKey(from('10.0.0.2', { 'x-forwarded-for': '[2001:db8::9]:443' }), {
        ...options,
        ipv6Subnet: 128,
      }),
    ).toBe('2001:db8::9');
    expect(
      clientKey(from('::ffff:10.0.0.2', { 'x-forwarded-for': '::ffff:198.51.100.4' }), options),
    ).toBe('198.51.100.4');
  });

  it('reads repeated X-Forwarded-For headers in order', () => {
    const request = from('10.0.0.2', { 'x-forwarded-for': ['1.1.1.1', '198.51.100.4, 10.5.5.5'] });
    expect(clientKey(request, options)).toBe('198.51.100.4');
  });
});

describe('clientKey with a hop count', () => {
  const chain = from('10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 198.51.100.4, 10.0.0.9' });

  it('takes the address that many hops from this server', () => {
    expect(clientKey(chain, { trustProxy: 1 })).toBe('10.0.0.9');
    expect(clientKey(chain, { trustProxy: 2 })).toBe('198.51.100.4');
    expect(clientKey(chain, { trustProxy: 3 })).toBe('1.1.1.1');
  });

  it('takes the leftmost address when the chain is shorter than the count', () => {
    expect(clientKey(chain, { trustProxy: 10 })).toBe('1.1.1.1');
  });

  it('cannot be moved by a client adding entries on the left', () => {
    const longer = from('10.0.0.2', {
      'x-forwarded-for': '6.6.6.6, 7.7.7.7, 1.1.1.1, 198.51.100.4, 10.0.0.9',
    });
    expect(clientKey(longer, { trustProxy: 2 })).toBe('198.51.100.4');
  });
});

describe('clientKey with the Forwarded header (RFC 7239)', () => {
  const options: ClientKeyOptions = { trustProxy: ['10.0.0.0/8'], forwardedHeader: 'forwarded' };

  it('reads for= of each element, quoted IPv6 with a port included', () => {
    const request = from('10.0.0.2', {
      forwarded: 'for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"',
    });
    expect(clientKey(request, options)).toBe('2001:db8:cafe::/64');
    expect(clientKey(request, { ...options, ipv6Subnet: 128 })).toBe('2001:db8:cafe::17');
  });

  it('walks from the right past trusted proxies, case-insensitive parameter names', () => {
    const request = from('10.0.0.2', {
      forwarded: 'for=198.51.100.4, For="10.1.1.1:8080";proto=https',
    });
    expect(clientKey(request, options)).toBe('198.51.100.4');
  });

  it('stops at `unknown` and obfuscated identifiers', () => {
    expect(clientKey(from('10.0.0.2', { forwarded: 'for=1.1.1.1, for=unknown' }), options)).toBe(
      '10.0.0.2',
    );
    expect(clientKey(from('10.0.0.2', { forwarded: 'for=_hidden, for=10.4.4.4' }), options)).toBe(
      '10.4.4.4',
    );
    expect(clientKey(from('10.0.0.2', { forwarded: 'proto=https' }), options)).toBe('10.0.0.2');
  });

  it('reads quoted strings holding separators and escapes', () => {
    const request = from('10.0.0.2', {
      forwarded: 'for="198.51.100.4";host="a,b;c", for=10.1.1.1;note="x\\"y"',
    });
    expect(clientKey(request, options)).toBe('198.51.100.4');
  });

  it('reads only the header the proxies write: a forged X-Forwarded-For is ignored, and the reverse', () => {
    const forgedXff = from('10.0.0.2', {
      forwarded: 'for=198.51.100.4',
      'x-forwarded-for': '6.6.6.6',
    });
    expect(clientKey(forgedXff, options)).toBe('198.51.100.4');
    const forgedForwarded = from('10.0.0.2', {
      forwarded: 'for=6.6.6.6',
      'x-forwarded-for': '198.51.100.4',
    });
    expect(clientKey(forgedForwarded, { trustProxy: ['10.0.0.0/8'] })).toBe('198.51.100.4');
  });
});

describe('parseHop', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['203.0.113.7:8080', '203.0.113.7'],
    ['"203.0.113.7:8080"', '203.0.113.7'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['"[2001:db8::1]:443"', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
  ])('reads %j', (text, expected) => {
    expect(formatIp(parseHop(text)!)).toBe(expected);
  });

  it.each([
    'unknown',
    '_hidden',
    '',
    '[1.2.3.4]',
    '[::1',
    '1.2.3.4:',
    '1.2.3.4:123456',
    '[::1]x',
    '::1:80:',
  ])('refuses %j', (text) => {
    expect(parseHop(text)).toBeUndefined();
  });
});

describe('options', () => {
  it.each<[ClientKeyOptions, string]>([
    [{ trustProxy: true as never }, 'trustProxy'],
    [{ trustProxy: -1 }, 'trustProxy'],
    [{ trustProxy: 1.5 }, 'trustProxy'],
    [{ trustProxy: '10.0.0.0/8' as never }, 'trustProxy'],
    [{ trustProxy: ['10.0.0.0/8', 'proxy.internal'] }, 'trustProxy[1]'],
    [{ ipv6Subnet: 0 }, 'ipv6Subnet'],
    [{ ipv6Subnet: 129 }, 'ipv6Subnet'],
    [{ ipv6Subnet: 64.5 }, 'ipv6Subnet'],
    [{ forwardedHeader: 'x-real-ip' as never }, 'forwardedHeader'],
  ])('refuses %j, naming %s', (options, field) => {
    try {
      createClientKey(options);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SecurityConfigError);
      expect((error as SecurityConfigError).context.field).toBe(field);
    }
  });

  it('explains why trustProxy: true is refused', () => {
    expect(() => createClientKey({ trustProxy: true as never })).toThrow(/any X-Forwarded-For/);
  });

  it('compiles an options object once and reuses it', () => {
    const options: ClientKeyOptions = { trustProxy: ['10.0.0.0/8'] };
    const request = from('10.0.0.1', { 'x-forwarded-for': '198.51.100.4' });
    expect(clientKey(request, options)).toBe('198.51.100.4');
    // The compiled form is kept per object: mutating it afterwards changes nothing.
    options.trustProxy = false;
    expect(clientKey(request, options)).toBe('198.51.100.4');
    expect(clientKey(request, { ...options })).toBe('10.0.0.1');
  });
});
