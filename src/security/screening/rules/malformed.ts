// Malformed and oversized requests: encodings no client needs, control characters, header
// injection, and sizes past the limits. Browsers send none of these.
import { CTRL, NL, NUL } from '../char-class.js';
import { BAD_PERCENT, INVALID_UTF8, OVERLONG, PERCENT_U, STILL_ENCODED } from '../decode.js';
import {
  ALL_FIELDS,
  type BuiltinRule,
  COOKIES,
  firstMatch,
  REFERER,
  rule,
  URL_PARTS,
} from './rule.js';

const CRLF_HEADER =
  /[\r\n](?=[ \t]{0,4}[a-z])[ \t]{0,4}(?:set-cookie|location|content-type|content-length|content-disposition|refresh|access-control-[a-z-]{1,30}|x-[a-z-]{1,30})[ \t]{0,4}:|[\r\n]http\/1\.[01] \d{3}/;

const raw = (_text: string, field: { raw: string }) => field.raw;

export const MALFORMED_FIELD_RULES: readonly BuiltinRule[] = [
  rule({
    id: 'malformed.percent-encoding',
    category: 'malformed-request',
    confidence: 0.4,
    description: 'a `%` not followed by two hex digits in the path or query',
    fields: URL_PARTS,
    flags: BAD_PERCENT,
    match: raw,
  }),
  rule({
    id: 'malformed.percent-u',
    category: 'malformed-request',
    confidence: 0.6,
    description: "IIS's `%uXXXX` escapes (read for the other rules, then reported)",
    fields: URL_PARTS | REFERER | COOKIES,
    flags: PERCENT_U,
    match: raw,
  }),
  rule({
    id: 'malformed.overlong-utf8',
    category: 'malformed-request',
    confidence: 0.8,
    description: 'overlong UTF-8 (`%c0%ae` for `.`, `%c0%af` for `/`), an old filter bypass',
    fields: URL_PARTS | REFERER | COOKIES,
    flags: OVERLONG,
    match: raw,
  }),
  rule({
    id: 'malformed.invalid-utf8',
    category: 'malformed-request',
    confidence: 0.3,
    description: 'percent-encoded bytes that are not UTF-8',
    fields: URL_PARTS,
    flags: INVALID_UTF8,
    match: raw,
  }),
  rule({
    id: 'malformed.multiple-encoding',
    category: 'malformed-request',
    confidence: 0.6,
    description: 'still percent-encoded after two decodings (`%25252e`)',
    fields: URL_PARTS | REFERER | COOKIES,
    flags: STILL_ENCODED,
    match: raw,
  }),
  rule({
    id: 'malformed.null-byte',
    category: 'malformed-request',
    confidence: 0.7,
    description: 'a NUL character (`%00`), which cuts strings short in C libraries and file APIs',
    fields: ALL_FIELDS,
    all: NUL,
    match: raw,
  }),
  rule({
    id: 'malformed.control-chars',
    category: 'malformed-request',
    confidence: 0.5,
    description: 'control characters other than tab and line breaks, or DEL',
    fields: ALL_FIELDS,
    all: CTRL,
    match: raw,
  }),
  rule({
    id: 'malformed.crlf-injection',
    category: 'malformed-request',
    confidence: 0.8,
    description: 'a line break followed by a response header or status line (response splitting)',
    fields: ALL_FIELDS,
    all: NL,
    match: (text) =>
      text.includes(':') || text.includes('http/1.') ? firstMatch(CRLF_HEADER, text) : undefined,
  }),
];

/** The request-wide checks; the screener runs them itself, they are listed here to be named and disabled. */
export const REQUEST_RULES = {
  tooManyHeaders: rule({
    id: 'malformed.too-many-headers',
    category: 'malformed-request',
    confidence: 0.5,
    description: 'more headers than `maxHeaders` (100)',
    fields: 0,
    match: () => undefined,
  }),
  oversizedHeader: rule({
    id: 'malformed.oversized-header',
    category: 'malformed-request',
    confidence: 0.5,
    description: 'a header value longer than `maxHeaderBytes` (8192)',
    fields: 0,
    match: () => undefined,
  }),
  tooManyParams: rule({
    id: 'malformed.too-many-params',
    category: 'malformed-request',
    confidence: 0.7,
    description:
      'more query parameters or cookies than `maxParams` (256); those after it are not screened',
    fields: 0,
    match: () => undefined,
  }),
  oversizedUrl: rule({
    id: 'malformed.oversized-url',
    category: 'malformed-request',
    confidence: 0.5,
    description: 'a path and query longer than `maxUrlBytes` (8192)',
    fields: 0,
    match: () => undefined,
  }),
} as const;
