// Percent-decoding as the most lenient server would do it, so that what a rule reads is what an
// application behind any server might end up with: double encoding undone (two passes at most),
// IIS's %uXXXX read, overlong UTF-8 read as the ASCII it spells. Each of these is also flagged:
// a well-formed request needs none of them. Well-formed input goes through the native decoder.

/** A `%` not followed by two hex digits. */
export const BAD_PERCENT = 1;
/** A `%uXXXX` escape (IIS), which no standard defines. */
export const PERCENT_U = 2;
/** An overlong UTF-8 sequence (`%c0%ae` for `.`). */
export const OVERLONG = 4;
/** Bytes that are not UTF-8. */
export const INVALID_UTF8 = 8;
/** Still percent-encoded after two passes. */
export const STILL_ENCODED = 16;
/** Decoded twice: the first pass left percent escapes. */
export const DOUBLE_ENCODED = 32;

let input = Buffer.allocUnsafe(16 * 1024);
let output = Buffer.allocUnsafe(16 * 1024);
let flags = 0;

/** The flags of the last {@link percentDecode} call. */
export function decodeFlags(): number {
  return flags;
}

const HEX = Int8Array.from({ length: 256 }, (_, c) => {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
});

function hexPair(b: Buffer, i: number): number {
  const hi = HEX[b[i]!]!;
  const lo = HEX[b[i + 1]!]!;
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/** Writes code point `cp` as UTF-8 into `output` at `j`; returns the next position. */
function writeUtf8(cp: number, j: number): number {
  if (cp < 0x80) {
    output[j++] = cp;
    return j;
  }
  if (cp < 0x800) {
    output[j++] = 0xc0 | (cp >> 6);
  } else {
    output[j++] = 0xe0 | (cp >> 12);
    output[j++] = 0x80 | ((cp >> 6) & 0x3f);
  }
  output[j++] = 0x80 | (cp & 0x3f);
  return j;
}

function fromUnits(units: number[]): string {
  let out = '';
  for (let i = 0; i < units.length; i += 4096) {
    out += String.fromCharCode.apply(null, units.slice(i, i + 4096));
  }
  return out;
}

/** UTF-8 to text, leniently: overlong forms give the character they spell, other faults U+FFFD. */
function lenientUtf8(n: number): string {
  const units: number[] = [];
  let i = 0;
  while (i < n) {
    const b = output[i]!;
    if (b < 0x80) {
      units.push(b);
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    let min: number;
    if (b >= 0xc0 && b <= 0xdf) [need, cp, min] = [1, b & 0x1f, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, cp, min] = [2, b & 0x0f, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, cp, min] = [3, b & 0x07, 0x10000];
    else {
      units.push(0xfffd);
      flags |= INVALID_UTF8;
      i++;
      continue;
    }
    let k = 1;
    for (; k <= need; k++) {
      const c = i + k < n ? output[i + k]! : 0;
      if ((c & 0xc0) !== 0x80) break;
      cp = cp * 64 + (c & 0x3f);
    }
    i += k;
    if (k <= need || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      units.push(0xfffd);
      flags |= INVALID_UTF8;
      continue;
    }
    if (cp < min) flags |= OVERLONG;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      units.push(cp);
    }
  }
  return fromUnits(units);
}

/** The byte-level decoder, for what the native one refuses: bad escapes, %u, overlong UTF-8. */
function lenientDecode(s: string, plusIsSpace: boolean, reportBad: boolean): string {
  if (input.length < s.length * 3) input = Buffer.allocUnsafe(s.length * 3);
  if (output.length < s.length * 3) output = Buffer.allocUnsafe(s.length * 3);
  const n = input.write(s, 0, 'utf8');
  const b = input;
  let j = 0;
  let high = false;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 37) {
      const v = i + 2 < n ? hexPair(b, i + 1) : -1;
      if (v >= 0) {
        output[j++] = v;
        if (v >= 0x80) high = true;
        i += 2;
        continue;
      }
      if ((b[i + 1]! | 0x20) === 117 && i + 5 < n) {
        const hi = hexPair(b, i + 2);
        const lo = hexPair(b, i + 4);
        if (hi >= 0 && lo >= 0) {
          flags |= PERCENT_U;
          const cp = hi * 256 + lo;
          j = writeUtf8(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp, j);
          if (cp >= 0x80) high = true;
          i += 5;
          continue;
        }
      }
      if (reportBad) flags |= BAD_PERCENT;
      output[j++] = 37;
    } else {
      output[j++] = c === 43 && plusIsSpace ? 32 : c;
      if (c >= 0x80) high = true;
    }
  }
  return high ? lenientUtf8(j) : output.toString('latin1', 0, j);
}

/** A `%` that does not start an ASCII escape: the native decoder would throw (which is slow) or refuse. */
const NOT_ASCII_ESCAPE = /%(?![0-7][0-9a-f])/i;

/** One decoding pass: native when every escape is ASCII, byte by byte otherwise. */
function decodeOnce(s: string, plusIsSpace: boolean, reportBad: boolean): string {
  const plus = plusIsSpace && s.includes('+');
  // replaceAll slows down with many matches (tens of ns each); the byte loop does not.
  if (plus && s.length > 64) return lenientDecode(s, true, reportBad);
  if (!s.includes('%')) return plus ? s.replaceAll('+', ' ') : s;
  if (NOT_ASCII_ESCAPE.test(s)) return lenientDecode(s, plusIsSpace, reportBad);
  return decodeURIComponent(plus ? s.replaceAll('+', ' ') : s);
}

/** Whether `s` still holds a percent escape (`%XX` or `%uXXXX`). */
function hasEscape(s: string): boolean {
  for (let i = s.indexOf('%'); i >= 0 && i + 2 < s.length; i = s.indexOf('%', i + 1)) {
    const hi = HEX[s.charCodeAt(i + 1) & 0xff]!;
    const lo = HEX[s.charCodeAt(i + 2) & 0xff]!;
    if (s.charCodeAt(i + 1) < 128 && s.charCodeAt(i + 2) < 128 && hi >= 0 && lo >= 0) return true;
    if ((s.charCodeAt(i + 1) | 0x20) === 117) return true;
  }
  return false;
}

/**
 * Percent-decodes a field: `+` as a space when `plusIsSpace` (the query), a second pass when the
 * first left escapes (double encoding), never a third. {@link decodeFlags} tells what was found.
 */
export function percentDecode(s: string, plusIsSpace: boolean): string {
  flags = 0;
  let out = decodeOnce(s, plusIsSpace, true);
  if (out.includes('%') && hasEscape(out)) {
    flags |= DOUBLE_ENCODED;
    out = decodeOnce(out, false, false);
    if (out.includes('%') && hasEscape(out)) flags |= STILL_ENCODED;
  }
  return out;
}
