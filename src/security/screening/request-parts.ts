// The parts of a request that are screened: request-wide sizes, the path, each query parameter,
// the user agent (remembered), referer, X-Forwarded-For, named headers, and each cookie.
import type { ScreenedRequest } from '../types.js';
import { addClass, classify, NON_ASCII, PLUS, SPACE } from './char-class.js';
import { percentDecode } from './decode.js';
import { type FieldSpec, runRules, scanField, worthScanning } from './field-scan.js';
import {
  COOKIE_NAME,
  COOKIE_VALUE,
  type Field,
  FORWARDED_FOR,
  OTHER_HEADER,
  PATH,
  QUERY_NAME,
  QUERY_VALUE,
  REFERER,
  USER_AGENT,
} from './rules/rule.js';
import type { Finding, Run } from './run.js';

/** Values whose built-in findings are remembered, per header, and the longest remembered. */
const REMEMBERED_VALUES = 1000;
const REMEMBERED_LENGTH = 512;

const PATH_SPEC: FieldSpec = {
  bit: PATH,
  kind: 'path',
  location: 'path',
  decode: true,
  plusIsSpace: false,
};
const QUERY_NAME_SPEC: FieldSpec = {
  bit: QUERY_NAME,
  kind: 'query',
  location: 'query-name',
  decode: true,
  plusIsSpace: true,
};
const COOKIE_NAME_SPEC: FieldSpec = {
  bit: COOKIE_NAME,
  kind: 'cookie',
  location: 'cookie-name',
  decode: true,
  plusIsSpace: false,
};
const USER_AGENT_SPEC: FieldSpec = {
  bit: USER_AGENT,
  kind: 'header',
  location: 'header:user-agent',
  decode: false,
  plusIsSpace: false,
};
const REFERER_SPEC: FieldSpec = {
  bit: REFERER,
  kind: 'header',
  location: 'header:referer',
  decode: true,
  plusIsSpace: false,
};
const FORWARDED_FOR_SPEC: FieldSpec = {
  bit: FORWARDED_FOR,
  kind: 'header',
  location: 'header:x-forwarded-for',
  decode: false,
  plusIsSpace: false,
};

/** The next index of `char` from `from`, or the text's length: a search never repeated for nothing. */
function nextIndex(text: string, char: string, from: number): number {
  const index = text.indexOf(char, from);
  return index < 0 ? text.length : index;
}

function headerText(value: string | readonly string[] | undefined, separator: string) {
  if (value === undefined || typeof value === 'string') return value;
  return value.join(separator);
}

function cut(run: Run, text: string): string {
  const max = run.engine.o.maxFieldBytes;
  return text.length > max ? text.slice(0, max) : text;
}

/** Sizes and counts over the whole request: URL length, header count, header sizes. */
export function requestChecks(run: Run, request: ScreenedRequest): void {
  const o = run.engine.o;
  const { oversizedUrl, oversizedHeader, tooManyHeaders } = o.request;
  const urlLength = request.path.length + request.query.length;
  if (oversizedUrl && urlLength > o.maxUrlBytes) {
    run.report(oversizedUrl, 'url', `${urlLength} characters`);
  }
  let count = 0;
  for (const name in request.headers) {
    const value = request.headers[name];
    if (value === undefined) continue;
    count += typeof value === 'string' ? 1 : value.length;
    if (oversizedHeader === undefined) continue;
    const length =
      typeof value === 'string' ? value.length : Math.max(0, ...value.map((v) => v.length));
    if (length > o.maxHeaderBytes) {
      run.report(oversizedHeader, `header:${name.slice(0, 40)}`, `${length} characters`);
    }
  }
  if (tooManyHeaders && count > o.maxHeaders) {
    run.report(tooManyHeaders, 'headers', `${count} headers`);
  }
}

export function scanPath(run: Run, path: string): void {
  if (path !== '') scanField(run, cut(run, path), PATH_SPEC);
}

function tooManyParams(run: Run, location: string, count: number): void {
  const rule = run.engine.o.request.tooManyParams;
  if (rule) run.report(rule, location, `more than ${count - 1} parameters`);
}

/** Parameters longer than this are classified natively (see char-class.ts), not here. */
const SHORT_PART = 64;

/** Each query parameter's name and value, up to maxParams of them in the first maxFieldBytes. */
export function scanQuery(run: Run, query: string): void {
  const o = run.engine.o;
  const end = Math.min(query.length, o.maxFieldBytes);
  let equals = -1; // the next `=` at or after a long part's start (found once for many parts)
  let params = 0;
  for (let start = 0; start < end; ) {
    if (++params > o.maxParams) {
      tooManyParams(run, 'query', params);
      return;
    }
    // A short part is walked here, character by character, its classes taken on the way (most
    // parameters are a few characters long: a search per part would cost more than the walk).
    let i = start;
    let eq = -1;
    let mask = 0;
    let nameMask = 0;
    let prev = 0;
    const limit = Math.min(end, start + SHORT_PART);
    for (; i < limit; i++) {
      const c = query.charCodeAt(i);
      if (c === 38) break;
      if (c === 61 && eq < 0) {
        eq = i;
        nameMask = mask;
        mask = 0;
        prev = 0;
        continue;
      }
      mask = addClass(mask, c, prev);
      prev = c;
    }
    let amp = i;
    let known = true;
    if (i === limit && i < end && query.charCodeAt(i) !== 38) {
      amp = Math.min(nextIndex(query, '&', i), end);
      if (eq < 0) {
        if (equals < start) equals = nextIndex(query, '=', start);
        eq = equals < amp ? equals : -1;
      }
      known = false; // classified by scanField, natively
    }
    const nameEnd = eq < 0 ? amp : eq;
    if (nameEnd > start) {
      const m = known ? plusAsSpace(eq < 0 ? mask : nameMask) : undefined;
      if (m === undefined || worthScanning(run, QUERY_NAME, m)) {
        scanField(run, query.slice(start, nameEnd), QUERY_NAME_SPEC, m);
      }
    }
    if (eq >= 0 && eq + 1 < amp) {
      const m = known ? plusAsSpace(mask) : undefined;
      if (m === undefined || worthScanning(run, QUERY_VALUE, m)) {
        const name = query.slice(start, Math.min(eq, start + 40));
        const spec: FieldSpec = {
          bit: QUERY_VALUE,
          kind: 'query',
          location: `query:${name}`,
          decode: true,
          plusIsSpace: true,
        };
        scanField(run, query.slice(eq + 1, amp), spec, m);
      }
    }
    start = amp + 1;
  }
}

/** In the query, `+` is a space. */
function plusAsSpace(mask: number): number {
  return (mask & PLUS) !== 0 ? mask | SPACE : mask;
}

/** Each cookie's name and value, up to maxParams of them in the first maxFieldBytes. */
function scanCookies(run: Run, cookie: string): void {
  const o = run.engine.o;
  const end = Math.min(cookie.length, o.maxFieldBytes);
  let equals = -1;
  let cookies = 0;
  for (let start = 0; start < end; ) {
    if (++cookies > o.maxParams) {
      tooManyParams(run, 'header:cookie', cookies);
      return;
    }
    let semi = cookie.indexOf(';', start);
    if (semi < 0 || semi > end) semi = end;
    while (start < semi && cookie.charCodeAt(start) === 32) start++;
    if (equals < start) equals = nextIndex(cookie, '=', start);
    const nameEnd = Math.min(equals, semi);
    const nameMask = classify(cookie, start, nameEnd, false);
    if (nameEnd > start && worthScanning(run, COOKIE_NAME, nameMask)) {
      scanField(run, cookie.slice(start, nameEnd), COOKIE_NAME_SPEC, nameMask);
    }
    if (nameEnd + 1 < semi) {
      const mask = classify(cookie, nameEnd + 1, semi, false);
      if (worthScanning(run, COOKIE_VALUE, mask)) {
        const spec: FieldSpec = {
          bit: COOKIE_VALUE,
          kind: 'cookie',
          location: `cookie:${cookie.slice(start, Math.min(nameEnd, start + 40))}`,
          decode: true,
          plusIsSpace: false,
        };
        scanField(run, cookie.slice(nameEnd + 1, semi), spec, mask);
      }
    }
    start = semi + 1;
  }
}

/**
 * The user agent, referer and X-Forwarded-For: a few values come back again and again (a
 * browser's user agent, the page every asset of it is loaded from, a client's proxy chain), each
 * long enough to wake several rules, so the built-in rules' results are remembered per value.
 * Custom rules still run each time.
 */
function scanRemembered(
  run: Run,
  value: string | undefined,
  spec: FieldSpec,
  memo: Map<string, Finding[]>,
): void {
  if (value === undefined || value === '') return;
  if (value.length > REMEMBERED_LENGTH) {
    scanField(run, cut(run, value), spec);
    return;
  }
  const known = memo.get(value);
  if (known === undefined) {
    const found: Finding[] = [];
    scanField(run, value, spec, undefined, found);
    if (memo.size >= REMEMBERED_VALUES) memo.clear();
    memo.set(value, found);
    return;
  }
  for (const { rule, evidence } of known) run.report(rule, spec.location, evidence);
  const custom = run.engine.o.customRules.filter((rule) => (rule.fields & spec.bit) !== 0);
  if (custom.length > 0) {
    const mask = classify(value, 0, value.length, false);
    let text = spec.decode && value.includes('%') ? percentDecode(value, false) : value;
    text = (mask & NON_ASCII) !== 0 ? text.normalize('NFKC').toLowerCase() : text.toLowerCase();
    const field: Field = { ...spec, raw: value, mask, flags: 0 };
    runRules(run, custom, text, field);
  }
}

/** The screened headers: user agent, referer, X-Forwarded-For, those named in options, cookies. */
export function scanHeaders(run: Run, headers: ScreenedRequest['headers']): void {
  const { memos } = run.engine;
  scanRemembered(run, headerText(headers['user-agent'], ', '), USER_AGENT_SPEC, memos.userAgent);
  scanRemembered(run, headerText(headers.referer, ', '), REFERER_SPEC, memos.referer);
  scanRemembered(
    run,
    headerText(headers['x-forwarded-for'], ', '),
    FORWARDED_FOR_SPEC,
    memos.forwardedFor,
  );
  for (const name of run.engine.o.headers) {
    const value = headerText(headers[name], ', ');
    if (!value) continue;
    const spec: FieldSpec = {
      bit: OTHER_HEADER,
      kind: 'header',
      location: `header:${name}`,
      decode: false,
      plusIsSpace: false,
    };
    scanField(run, cut(run, value), spec);
  }
  const cookie = headerText(headers.cookie, '; ');
  if (cookie) scanCookies(run, cookie);
}
