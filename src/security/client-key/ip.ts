// IPv4 and IPv6 addresses in a compact form: 32-bit words, most significant first. Parsing is strict
// (dotted-quad decimal without leading zeros, RFC 4291 text for IPv6) so that an address accepted
// here means the same thing to every other tool that reads it.

/**
 * An IP address in compact form: `words` holds one 32-bit word for IPv4 and four for IPv6, most
 * significant first, each an unsigned integer.
 *
 * @example
 * ```ts
 * parseIp('10.0.0.1');    // { family: 4, words: [167772161] }
 * parseIp('2001:db8::1'); // { family: 6, words: [536939960, 0, 0, 1] }
 * ```
 */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly words: readonly number[];
}

/** Reads `text[start, end)` as a dotted-quad IPv4 address; -1 when it is not one. */
export function parseIPv4Range(text: string, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // A leading zero ("010") reads as octal in some resolvers: refuse it rather than guess.
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (digits === 0 || parts !== 3) return -1;
  return value * 256 + part;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Reads `text[start, end)` as an IPv6 address (no brackets, no zone) into eight 16-bit groups;
 * false when it is not one.
 */
function parseIPv6Groups(text: string, start: number, end: number, groups: number[]): boolean {
  let count = 0;
  let gap = -1; // group index where "::" stands
  let i = start;
  if (end - start < 2) return false;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      for (let g = 0; g < 8; g++) groups[g] = 0;
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      i++;
      if (++digits > 4) return false;
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // An embedded IPv4 address takes the last two groups.
      if (count > 6) return false;
      const v4 = parseIPv4Range(text, groupStart, end);
      if (v4 < 0) return false;
      groups[count++] = Math.floor(v4 / 65536);
      groups[count++] = v4 % 65536;
      i = end;
      break;
    }
    if (digits === 0) return false;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false; // a trailing single ':'
    }
  }
  if (gap < 0) return count === 8;
  if (count > 7) return false;
  const tail = count - gap;
  for (let g = 7; g >= 8 - tail; g--) groups[g] = groups[g - (8 - count)]!;
  for (let g = gap; g < 8 - tail; g++) groups[g] = 0;
  return true;
}

const scratch: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/**
 * Parses an IPv4 or IPv6 address. IPv6 may carry a zone (`fe80::1%eth0`, dropped); brackets and
 * ports are not addresses (see the forwarding-header readers for those). `undefined` when the text
 * is not an address.
 *
 * @example
 * ```ts
 * parseIp('192.0.2.1')?.family;   // 4
 * parseIp('::ffff:192.0.2.1');    // family 6 (see normalizeIp to read it as IPv4)
 * parseIp('010.0.0.1');           // undefined: a leading zero is ambiguous
 * ```
 */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  if (text.indexOf(':') < 0) {
    const v4 = parseIPv4Range(text, 0, text.length);
    return v4 < 0 ? undefined : { family: 4, words: [v4] };
  }
  let end = text.indexOf('%');
  if (end === 0 || end === text.length - 1) return undefined;
  if (end < 0) end = text.length;
  if (!parseIPv6Groups(text, 0, end, scratch)) return undefined;
  return {
    family: 6,
    words: [
      scratch[0]! * 65536 + scratch[1]!,
      scratch[2]! * 65536 + scratch[3]!,
      scratch[4]! * 65536 + scratch[5]!,
      scratch[6]! * 65536 + scratch[7]!,
    ],
  };
}

/** Whether an IPv6 address is IPv4-mapped (`::ffff:a.b.c.d`), an IPv4 client on a dual-stack socket. */
export function isIPv4Mapped(address: IpAddress): boolean {
  const w = address.words;
  return address.family === 6 && w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
}

/** The IPv4 address an IPv4-mapped IPv6 address stands for; any other address as it is. */
export function unmapIPv4(address: IpAddress): IpAddress {
  return isIPv4Mapped(address) ? { family: 4, words: [address.words[3]!] } : address;
}

function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/**
 * Formats an address as text: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, no leading
 * zeros, the longest run of zero groups as `::`).
 *
 * @example
 * ```ts
 * formatIp(parseIp('2001:0DB8:0:0:0:0:0:0001')!); // '2001:db8::1'
 * ```
 */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) return formatIPv4(address.words[0]!);
  const groups: number[] = [];
  for (const word of address.words) groups.push(Math.floor(word / 65536), word % 65536);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not shortened (RFC 5952, 4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/**
 * The canonical text of an address, IPv4-mapped IPv6 read as IPv4; `undefined` when the text is
 * not an address.
 *
 * @example
 * ```ts
 * normalizeIp('::ffff:203.0.113.7'); // '203.0.113.7'
 * normalizeIp('2001:DB8::0:1');      // '2001:db8::1'
 * ```
 */
export function normalizeIp(text: string): string | undefined {
  const address = parseIp(text);
  return address === undefined ? undefined : formatIp(unmapIPv4(address));
}

/** The first `prefix` bits of a 32-bit word (0 to 32). */
export function maskWord(word: number, prefix: number): number {
  if (prefix <= 0) return 0;
  if (prefix >= 32) return word;
  return (word - (word % 2 ** (32 - prefix))) >>> 0;
}

/** The address with every bit after the first `prefix` cleared. */
export function maskAddress(address: IpAddress, prefix: number): IpAddress {
  const words = address.words.map((word, i) => maskWord(word, prefix - i * 32));
  return { family: address.family, words };
}

/**
 * The key one client is counted under: an IPv4 address as it is (IPv4-mapped IPv6 included), an
 * IPv6 address as its `/ipv6Subnet` network (`2001:db8:1:2::/64`), so one host rotating addresses
 * inside its allocation stays one client. `undefined` when the text is not an address.
 *
 * @example
 * ```ts
 * addressKey('2001:db8:1:2:aaaa::1');       // '2001:db8:1:2::/64'
 * addressKey('2001:db8:1:2:aaaa::1', 128);  // '2001:db8:1:2:aaaa::1'
 * addressKey('::ffff:198.51.100.4');        // '198.51.100.4'
 * ```
 */
export function addressKey(ip: string | IpAddress, ipv6Subnet = 64): string | undefined {
  const parsed = typeof ip === 'string' ? parseIp(ip) : ip;
  if (parsed === undefined) return undefined;
  return keyOf(unmapIPv4(parsed), ipv6Subnet);
}

/** {@link addressKey} of a parsed, unmapped address. */
export function keyOf(address: IpAddress, ipv6Subnet: number): string {
  if (address.family === 4 || ipv6Subnet >= 128) return formatIp(address);
  return `${formatIp(maskAddress(address, ipv6Subnet))}/${ipv6Subnet}`;
}
