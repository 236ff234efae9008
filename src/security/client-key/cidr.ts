// CIDR ranges and lists of them. A list is compiled once into sorted, merged intervals per family,
// so membership is a parse and a binary search whatever the length of the list.
import { describeValue } from '../../core/errors.js';
import { SecurityConfigError } from '../errors.js';
import { formatIp, type IpAddress, maskWord, parseIp, unmapIPv4 } from './ip.js';

/**
 * A CIDR range in compact form: its first address and prefix length. IPv4-mapped IPv6 ranges of
 * at least /96 are read as the IPv4 range they stand for.
 *
 * @example
 * ```ts
 * parseCidr('10.1.2.3/8'); // { family: 4, first: 10.0.0.0, prefix: 8, text: '10.0.0.0/8' }
 * ```
 */
export interface CidrRange {
  readonly family: 4 | 6;
  /** The network address (host bits cleared). */
  readonly first: IpAddress;
  readonly prefix: number;
  /** Canonical text, such as `10.0.0.0/8` or `2001:db8::/32`. */
  readonly text: string;
}

function invalid(field: string, value: unknown, why: string): SecurityConfigError {
  return new SecurityConfigError(
    `${field}=${describeValue(value)} is not an IP address or CIDR range: ${why}`,
    {
      field,
      value,
      expected: "an IPv4 or IPv6 address, or a CIDR range such as '10.0.0.0/8' or '2001:db8::/32'",
    },
  );
}

/**
 * Parses an address (a range of one) or a CIDR range. Host bits after the prefix are cleared
 * (`10.1.2.3/8` is `10.0.0.0/8`). Throws {@link SecurityConfigError} naming `field` when the text
 * is neither.
 *
 * @param field - the option the value came from, named in the error (`trustProxy[2]`, `allow[0]`).
 * @example
 * ```ts
 * parseCidr('2001:db8::/32').prefix; // 32
 * parseCidr('10.0.0.0/33', 'allow[0]'); // SecurityConfigError (E_SECURITY_CONFIG), field "allow[0]"
 * ```
 */
export function parseCidr(text: string, field = 'cidr'): CidrRange {
  if (typeof text !== 'string') throw invalid(field, text, 'not a string');
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  if (addressText.includes('%')) throw invalid(field, text, 'a zone has no place in a range');
  const parsed = parseIp(addressText);
  if (parsed === undefined) throw invalid(field, text, `"${addressText}" is not an address`);
  const bits = parsed.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^(?:0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
      throw invalid(field, text, `the prefix length must be a whole number from 0 to ${bits}`);
    }
    prefix = Number(prefixText);
  }
  let address = parsed;
  if (parsed.family === 6 && prefix >= 96 && unmapIPv4(parsed) !== parsed) {
    address = unmapIPv4(parsed);
    prefix -= 96;
  }
  const words = address.words.map((word, i) => maskWord(word, prefix - i * 32));
  const first: IpAddress = { family: address.family, words };
  return { family: address.family, first, prefix, text: `${formatIp(first)}/${prefix}` };
}

/**
 * Fast membership in a list of addresses and CIDR ranges, for trusted proxies and allow or deny
 * lists. IPv4-mapped IPv6 addresses match the IPv4 ranges.
 *
 * @example
 * ```ts
 * const internal = cidrMatcher(['10.0.0.0/8', '192.168.0.0/16', 'fc00::/7'], 'allow');
 * internal.has('10.20.30.40');        // true
 * internal.has('::ffff:192.168.1.9'); // true
 * internal.has('not an address');     // false
 * ```
 */
export interface CidrMatcher {
  /** Whether the address (text or parsed) lies in one of the ranges; false for anything else. */
  has(address: string | IpAddress): boolean;
  /** The list's ranges, canonical, in the order given. */
  readonly ranges: readonly CidrRange[];
}

type Interval = { start: number[]; end: number[] };

function compareWords(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function lastAddress(range: CidrRange): number[] {
  return range.first.words.map((word, i) => {
    const hostBits = Math.min(32, Math.max(0, (i + 1) * 32 - range.prefix));
    return hostBits === 0 ? word : word + (2 ** hostBits - 1);
  });
}

/** Whether `b` directly follows `a` (a + 1 === b), to merge adjacent ranges. */
function isNext(a: readonly number[], b: readonly number[]): boolean {
  const next = [...a];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] === 0xffffffff) {
      next[i] = 0;
      continue;
    }
    next[i]! += 1;
    return compareWords(next, b) === 0;
  }
  return false;
}

/** Sorted, non-overlapping intervals, flattened so a lookup touches few objects. */
function compile(ranges: readonly CidrRange[], family: 4 | 6): Float64Array {
  const width = family === 4 ? 1 : 4;
  const sorted: Interval[] = ranges
    .filter((r) => r.family === family)
    .map((r) => ({ start: [...r.first.words], end: lastAddress(r) }))
    .sort((a, b) => compareWords(a.start, b.start));
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last && (compareWords(interval.start, last.end) <= 0 || isNext(last.end, interval.start))) {
      if (compareWords(interval.end, last.end) > 0) last.end = interval.end;
    } else {
      merged.push(interval);
    }
  }
  const flat = new Float64Array(merged.length * width * 2);
  merged.forEach((interval, i) => {
    flat.set(interval.start, i * width * 2);
    flat.set(interval.end, i * width * 2 + width);
  });
  return flat;
}

/** Compares `words` with the `width` words of `flat` at `offset`. */
function compareAt(words: readonly number[], flat: Float64Array, offset: number, width: number) {
  for (let i = 0; i < width; i++) {
    const d = words[i]! - flat[offset + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function contains(flat: Float64Array, width: number, words: readonly number[]): boolean {
  const stride = width * 2;
  let low = 0;
  let high = flat.length / stride - 1;
  // The last interval starting at or before the address is the only one that can hold it.
  let candidate = -1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (compareAt(words, flat, mid * stride, width) >= 0) {
      candidate = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return candidate >= 0 && compareAt(words, flat, candidate * stride + width, width) <= 0;
}

/**
 * Compiles a list of addresses and CIDR ranges into a {@link CidrMatcher}. Throws
 * {@link SecurityConfigError} naming `field[index]` for an entry that does not parse.
 *
 * @param field - the option the list came from (`trustProxy`, `allow`, `deny`).
 * @example
 * ```ts
 * const deny = cidrMatcher(['203.0.113.0/24', '2001:db8:bad::/48'], 'deny');
 * if (deny.has(request.remoteAddress ?? '')) refuse();
 * ```
 */
export function cidrMatcher(list: readonly string[], field = 'cidrs'): CidrMatcher {
  if (!Array.isArray(list)) {
    throw new SecurityConfigError(
      `${field}=${describeValue(list)} is invalid: expected an array of addresses or CIDR ranges`,
      { field, value: list, expected: 'an array of addresses or CIDR ranges' },
    );
  }
  const ranges = list.map((entry, i) => parseCidr(entry, `${field}[${i}]`));
  const v4 = compile(ranges, 4);
  const v6 = compile(ranges, 6);
  return {
    ranges,
    has(address: string | IpAddress): boolean {
      const parsed = typeof address === 'string' ? parseIp(address) : address;
      if (parsed === undefined) return false;
      const plain = unmapIPv4(parsed);
      return plain.family === 4 ? contains(v4, 1, plain.words) : contains(v6, 4, plain.words);
    },
  };
}
