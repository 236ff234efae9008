// What a ban is written against: a client key (an IPv4 address, an IPv6 /64) or a range wider than
// one client, in canonical text so that a ban given by hand meets the key the requests are counted
// under, and a range ban meets the client keys inside it.
import { type CidrMatcher, cidrMatcher, parseCidr } from './cidr.js';
import { keyOf, parseIp } from './ip.js';

/**
 * The canonical target of a ban: an address becomes its client key (IPv4 as it is, IPv6 as its
 * `/ipv6Subnet` network), a range no wider than one client becomes that client's key, and a wider
 * range its canonical CIDR text. Throws a SecurityConfigError naming `field` for anything else.
 *
 * @example
 * ```ts
 * banTarget('203.0.113.7', 64);          // '203.0.113.7'
 * banTarget('203.0.113.7/32', 64);       // '203.0.113.7'
 * banTarget('2001:DB8::1', 64);          // '2001:db8::/64'
 * banTarget('10.1.2.3/8', 64);           // '10.0.0.0/8'
 * banTarget('not an address', 64);       // SecurityConfigError, field "client"
 * ```
 */
export function banTarget(client: string, ipv6Subnet: number, field = 'client'): string {
  const range = parseCidr(client, field);
  const width = range.family === 4 ? 32 : ipv6Subnet;
  return range.prefix >= width ? keyOf(range.first, ipv6Subnet) : range.text;
}

/**
 * A matcher of banned ranges that also knows IPv6 client keys (`2001:db8:1:2::/64`): such a key is
 * in a range when its network address is (the ranges it is matched against are wider than one
 * client, see {@link banTarget}).
 *
 * @example
 * ```ts
 * bannedRanges(['2001:db8::/32']).has('2001:db8:1:2::/64'); // true
 * ```
 */
export function bannedRanges(list: readonly string[]): Pick<CidrMatcher, 'has'> {
  const matcher = cidrMatcher(list);
  return {
    has(client: string): boolean {
      const slash = client.indexOf('/');
      if (slash < 0) return matcher.has(client);
      const network = parseIp(client.slice(0, slash));
      return network !== undefined && matcher.has(network);
    },
  };
}
