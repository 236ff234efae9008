// One pass over a field marks which kinds of characters it holds. Every built-in rule names the
// characters it cannot match without, so a field without them is never handed to its regex.

export const QUOTE_S = 1 << 0;
export const QUOTE_D = 1 << 1;
export const BACKTICK = 1 << 2;
export const LT = 1 << 3;
export const SEMI = 1 << 4;
export const PIPE = 1 << 5;
export const AMP = 1 << 6;
export const DOLLAR = 1 << 7;
export const PAREN = 1 << 8;
export const SLASH = 1 << 9;
export const BACKSLASH = 1 << 10;
export const DOT = 1 << 11;
/** Two dots in a row. */
export const DOT2 = 1 << 12;
export const COLON = 1 << 13;
export const EQ = 1 << 14;
export const HASH = 1 << 15;
/** Two dashes in a row. */
export const DASH2 = 1 << 16;
/** `/*`, an SQL comment's opening. */
export const SLASHSTAR = 1 << 17;
/** CR or LF. */
export const NL = 1 << 18;
/** A control character other than tab, CR, LF and NUL, or DEL. */
export const CTRL = 1 << 19;
export const NUL = 1 << 20;
export const LBRACE = 1 << 21;
export const AT = 1 << 22;
/** Space, tab, or `+` where it stands for a space (the query). */
export const SPACE = 1 << 23;
export const UNDERSCORE = 1 << 24;
export const PERCENT = 1 << 25;
/** Any character above U+007F. */
export const NON_ASCII = 1 << 26;
export const UPPER = 1 << 27;
/** `+` (kept apart from SPACE where it is literal). */
export const PLUS = 1 << 28;
/** `-` (for finding `--`). */
export const DASH = 1 << 29;

/** The classes of each ASCII character (pairs such as `..` are found by the readers). */
export const TABLE = new Uint32Array(128);
for (let c = 0; c < 32; c++) TABLE[c] = CTRL;
TABLE[0] = NUL;
TABLE[9] = SPACE;
TABLE[10] = NL;
TABLE[13] = NL;
TABLE[127] = CTRL;
for (let c = 65; c <= 90; c++) TABLE[c] = UPPER;
const singles: [string, number][] = [
  ["'", QUOTE_S],
  ['"', QUOTE_D],
  ['`', BACKTICK],
  ['<', LT],
  [';', SEMI],
  ['|', PIPE],
  ['&', AMP],
  ['$', DOLLAR],
  ['(', PAREN],
  ['/', SLASH],
  ['\\', BACKSLASH],
  ['.', DOT],
  [':', COLON],
  ['=', EQ],
  ['#', HASH],
  ['{', LBRACE],
  ['@', AT],
  [' ', SPACE],
  ['_', UNDERSCORE],
  ['%', PERCENT],
  ['+', PLUS],
  ['-', DASH],
];
for (const [ch, bit] of singles) TABLE[ch.charCodeAt(0)] = bit;

const TABLE32 = Int32Array.from(TABLE);
/** Classes of a UTF-8 byte: any byte of a multi-byte character is NON_ASCII. */
const BYTE_TABLE = Int32Array.from({ length: 256 }, (_, b) => (b < 128 ? TABLE[b]! : NON_ASCII));
/** Fields longer than this are classified from their UTF-8 bytes (a native copy, then a byte loop). */
const SHORT = 64;
let bytes = Buffer.allocUnsafe(32 * 1024);

/** The classes `c` adds to `mask`, after `prev` (for `..`, `--` and `/*`). */
export function addClass(mask: number, c: number, prev: number): number {
  if (c >= 128) return mask | NON_ASCII;
  const added = mask | TABLE32[c]!;
  return c === prev || c === 42 ? pairs(added, c, prev) : added;
}

function pairs(mask: number, c: number, prev: number): number {
  if (c === prev) {
    if (c === 46) return mask | DOT2;
    if (c === 45) return mask | DASH2;
  } else if (c === 42 && prev === 47) {
    return mask | SLASHSTAR;
  }
  return mask;
}

function classifyChars(text: string, start: number, end: number): number {
  let mask = 0;
  let prev = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      mask |= TABLE32[c]!;
      if (c === prev || c === 42) mask = pairs(mask, c, prev);
    } else {
      mask |= NON_ASCII;
    }
    prev = c;
  }
  return mask;
}

function classifyBytes(text: string): number {
  if (bytes.length < text.length * 3) bytes = Buffer.allocUnsafe(text.length * 3);
  const n = bytes.write(text, 0, 'utf8');
  const b = bytes;
  let mask = 0;
  for (let i = 0; i < n; i++) mask |= BYTE_TABLE[b[i]!]!;
  // Pairs are rare enough to look for afterwards, natively.
  if ((mask & DOT) !== 0 && text.includes('..')) mask |= DOT2;
  if ((mask & DASH) !== 0 && text.includes('--')) mask |= DASH2;
  if ((mask & SLASH) !== 0 && text.includes('/*')) mask |= SLASHSTAR;
  return mask;
}

/**
 * The character classes of `text[start, end)`. With `plusIsSpace` (the query), `+` counts as a
 * space too.
 */
export function classify(text: string, start: number, end: number, plusIsSpace: boolean): number {
  let mask: number;
  if (end - start <= SHORT) mask = classifyChars(text, start, end);
  else mask = classifyBytes(start === 0 && end === text.length ? text : text.slice(start, end));
  if (plusIsSpace && (mask & PLUS) !== 0) mask |= SPACE;
  return mask;
}
