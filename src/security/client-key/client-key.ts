// The key a client is counted, screened and banned under. Forwarding headers are read only when
// the proxies in front are named (by address or by hop count): anyone can send X-Forwarded-For.
import { describeValue } from '../../core/errors.js';
import { SecurityConfigError } from '../errors.js';
import type { ScreenedRequest, TrustProxyOptions } from '../types.js';
import { type CidrMatcher, cidrMatcher } from './cidr.js';
import { forwardedHops, MAX_HOPS, parseHop, xForwardedForHops } from './forwarded.js';
import { type IpAddress, keyOf, parseIp, unmapIPv4 } from './ip.js';

/** The key of a request whose socket address is missing or unreadable. */
export const UNKNOWN_CLIENT = 'unknown';

/**
 * {@link TrustProxyOptions}, and which forwarding header the trusted proxies write.
 *
 * @example
 * ```ts
 * const options: ClientKeyOptions = { trustProxy: ['10.0.0.0/8'], forwardedHeader: 'forwarded' };
 * ```
 */
export interface ClientKeyOptions extends TrustProxyOptions {
  /**
   * The header the trusted proxies append to: `x-forwarded-for` (the default; nginx, HAProxy,
   * cloud load balancers) or `forwarded` (RFC 7239). Only this one is read: the other holds
   * whatever the client chose to send.
   */
  forwardedHeader?: 'x-forwarded-for' | 'forwarded';
}

/** What the key is read from: the socket's address and the headers. */
export type ClientKeyRequest = Pick<ScreenedRequest, 'headers' | 'remoteAddress'>;

/** A compiled {@link clientKey}: the options are read and checked once. */
export type ClientKeyResolver = (request: ClientKeyRequest) => string;

function configError(field: string, value: unknown, expected: string): SecurityConfigError {
  return new SecurityConfigError(
    `${field}=${describeValue(value)} is invalid: expected ${expected}`,
    {
      field,
      value,
      expected,
    },
  );
}

function readSubnet(value: unknown): number {
  if (value === undefined) return 64;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 128) {
    return value;
  }
  throw configError('ipv6Subnet', value, 'a whole number of bits from 1 to 128 (64 by default)');
}

type Trust =
  | { kind: 'none' }
  | { kind: 'hops'; hops: number }
  | { kind: 'list'; list: CidrMatcher };

function readTrust(value: unknown): Trust {
  if (value === undefined || value === false || value === 0) return { kind: 'none' };
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0 && value <= MAX_HOPS)
      return { kind: 'hops', hops: value };
    throw configError('trustProxy', value, `a whole number of proxy hops from 0 to ${MAX_HOPS}`);
  }
  if (Array.isArray(value)) return { kind: 'list', list: cidrMatcher(value, 'trustProxy') };
  if (value === true) {
    throw configError(
      'trustProxy',
      value,
      'the addresses or CIDR ranges of your proxies, or the number of proxy hops (true would trust any X-Forwarded-For a client sends)',
    );
  }
  throw configError(
    'trustProxy',
    value,
    "an array of proxy addresses or CIDR ranges (['10.0.0.0/8']), a number of hops, or false",
  );
}

/**
 * Compiles the options once and returns the function that keys each request: the socket's
 * address by default; with `trustProxy` a list of proxies, the nearest address in the forwarding
 * header that is not one of them (walking from the right); with a hop count `n`, the address `n`
 * hops from this server. IPv4-mapped IPv6 is read as IPv4, IPv6 is grouped by `ipv6Subnet`.
 *
 * An unreadable hop (`unknown`, an obfuscated name) ends the walk at the proxy that wrote it.
 * Throws {@link SecurityConfigError} naming `trustProxy`, `ipv6Subnet` or `forwardedHeader`.
 *
 * @example
 * ```ts
 * const keyOfRequest = createClientKey({ trustProxy: ['10.0.0.0/8'] });
 * keyOfRequest({ remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '1.2.3.4, 203.0.113.9' } });
 * // '203.0.113.9': 1.2.3.4 was written by the client, 203.0.113.9 by the proxy at 10.0.0.5
 * ```
 */
export function createClientKey(options: ClientKeyOptions = {}): ClientKeyResolver {
  const subnet = readSubnet(options.ipv6Subnet);
  const trust = readTrust(options.trustProxy);
  const header = options.forwardedHeader ?? 'x-forwarded-for';
  if (header !== 'x-forwarded-for' && header !== 'forwarded') {
    throw configError('forwardedHeader', header, "'x-forwarded-for' or 'forwarded'");
  }
  const hopsOf = (request: ClientKeyRequest) =>
    header === 'forwarded'
      ? forwardedHops(request.headers.forwarded)
      : xForwardedForHops(request.headers['x-forwarded-for']);
  const key = (address: IpAddress) => keyOf(address, subnet);

  return (request) => {
    const raw = request.remoteAddress;
    const parsed = raw === undefined ? undefined : parseIp(raw);
    if (parsed === undefined) return UNKNOWN_CLIENT;
    let current = unmapIPv4(parsed);
    if (trust.kind === 'none') return key(current);
    if (trust.kind === 'list' && !trust.list.has(current)) return key(current);
    const hops = hopsOf(request);
    const limit = trust.kind === 'hops' ? Math.min(trust.hops, hops.length) : hops.length;
    for (let walked = 1; walked <= limit; walked++) {
      const hop = parseHop(hops[hops.length - walked]!);
      if (hop === undefined) return key(current);
      current = unmapIPv4(hop);
      if (trust.kind === 'list' && !trust.list.has(current)) return key(current);
    }
    return key(current);
  };
}

const compiled = new WeakMap<ClientKeyOptions, ClientKeyResolver>();
const defaultResolver = createClientKey();

/**
 * The key of the client behind a request: an IPv4 address, an IPv6 address or its `/64` (by
 * default) prefix, or `unknown` when the socket's address is missing. See
 * {@link createClientKey} for the rules; the options object is compiled on first use and reused
 * (create a new object to change them).
 *
 * @example
 * ```ts
 * clientKey({ remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': '1.1.1.1' } }, {});
 * // '203.0.113.7': no proxy is trusted, the header is the client's own words
 * clientKey({ remoteAddress: '2001:db8:1:2:3:4:5:6', headers: {} }, { ipv6Subnet: 56 });
 * // '2001:db8:1::/56'
 * ```
 */
export function clientKey(request: ClientKeyRequest, options?: ClientKeyOptions): string {
  if (options === undefined) return defaultResolver(request);
  let resolver = compiled.get(options);
  if (resolver === undefined) {
    resolver = createClientKey(options);
    compiled.set(options, resolver);
  }
  return resolver(request);
}
