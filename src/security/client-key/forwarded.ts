// Readers of the forwarding headers: the hops a request went through, nearest last, as proxies
// append them. Nothing here decides what to trust; client-key.ts walks the chain.
import { type IpAddress, parseIp } from './ip.js';

/** Hops read from one header at most: a longer chain is cut from the left (the far, untrusted end). */
export const MAX_HOPS = 64;

/**
 * Reads one hop as proxies write it: an address, `a.b.c.d:port`, `[v6]` or `[v6]:port`, quoted or
 * not; `undefined` for anything else (`unknown`, an obfuscated `_name`, garbage).
 */
export function parseHop(text: string): IpAddress | undefined {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (end - start >= 2 && text.charCodeAt(start) === 34 && text.charCodeAt(end - 1) === 34) {
    start++;
    end--;
  }
  if (start === end) return undefined;
  if (text.charCodeAt(start) === 91) {
    const close = text.indexOf(']', start);
    if (close < 0 || close >= end) return undefined;
    if (close + 1 < end && !isPort(text, close + 1, end)) return undefined;
    const address = parseIp(text.slice(start + 1, close));
    return address?.family === 6 ? address : undefined;
  }
  const colon = text.indexOf(':', start);
  if (colon >= 0 && colon < end && text.indexOf(':', colon + 1) < 0 && isPort(text, colon, end)) {
    // One colon: an IPv4 address with a port (Azure's and some CDNs' habit).
    const address = parseIp(text.slice(start, colon));
    return address?.family === 4 ? address : undefined;
  }
  return parseIp(start === 0 && end === text.length ? text : text.slice(start, end));
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** Whether `text[from, end)` is `:` followed by 1 to 5 digits. */
function isPort(text: string, from: number, end: number): boolean {
  if (text.charCodeAt(from) !== 58 || end - from < 2 || end - from > 6) return false;
  for (let i = from + 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function joined(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : value.join(',');
}

/** The hops of `X-Forwarded-For`, in header order (the nearest proxy's entry last). */
export function xForwardedForHops(value: string | readonly string[] | undefined): string[] {
  const text = joined(value);
  if (text === '') return [];
  const hops = text.split(',');
  return hops.length > MAX_HOPS ? hops.slice(-MAX_HOPS) : hops;
}

/**
 * The `for` parameter of each element of an RFC 7239 `Forwarded` header, in header order; an
 * element without one counts as an unreadable hop (`''`). Quoted strings may hold `,` and `;`.
 */
export function forwardedHops(value: string | readonly string[] | undefined): string[] {
  const text = joined(value);
  const hops: string[] = [];
  if (text === '') return hops;
  let hop = '';
  let key = '';
  let token = '';
  let inKey = true;
  let quoted = false;
  const endPair = () => {
    if (!inKey && key.trim().toLowerCase() === 'for') hop = token;
    key = '';
    token = '';
    inKey = true;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < text.length) token += text[++i];
      else if (ch === '"') quoted = false;
      else token += ch;
      continue;
    }
    if (ch === '"' && !inKey) {
      quoted = true;
      continue;
    }
    if (ch === '=' && inKey) inKey = false;
    else if (ch === ';') endPair();
    else if (ch === ',') {
      endPair();
      hops.push(hop);
      hop = '';
    } else if (inKey) key += ch;
    else token += ch;
  }
  endPair();
  hops.push(hop);
  return hops.length > MAX_HOPS ? hops.slice(-MAX_HOPS) : hops;
}
