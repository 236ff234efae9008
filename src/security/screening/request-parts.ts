// The parts of a request that are screened: request-wide sizes, the path, each query parameter,
// the user agent (remembered), referer, X-Forwarded-For, named headers, and each cookie.
import type { ScreenedRequest } from '../types.js';
import { classify, NON_ASCII } from './char-class.js';
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
import { MIN_VIEWED } from './views.js';

/** User agents whose built-in findings are remembered, and the longest remembered. */
const USER_AGENT_CACHE = 1000;
const USER_AGENT_CACHEABLE = 512;

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

/** Each query parameter's name and value, up to maxParams of them in the first maxFieldBytes. */
export function scanQuery(run: Run, query: string): void {
  const o = run.engine.o;
  const end = Math.min(query.length, o.maxFieldBytes);
  // One search for `=` (and for `%`) serves every part before it: linear whatever the query.
  let equals = -1;
  let percent = -1;
  const rangeMask = (from: number, to: number) => {
    if (to - from >= MIN_VIEWED) return undefined; // read through views, after decoding
    if (percent < from) percent = nextIndex(query, '%', from);
    // With a `%`, the decoder reads the classes; without, one pass here does.
    return percent < to ? undefined : classify(query, from, to, true);
  };
  let params = 0;
  for (let start = 0; start < end; ) {
    if (++params > o.maxParams) {
      tooManyParams(run, 'query', params);
      return;
    }
    let amp = query.indexOf('&', start);
    if (amp < 0 || amp > end) amp = end;
    if (equals < start) equals = nextIndex(query, '=', start);
    const nameEnd = Math.min(equals, amp);
    if (nameEnd > start) {
      const mask = rangeMask(start, nameEnd);
      if (mask === undefined || worthScanning(run, QUERY_NAME, mask)) {
        scanField(run, query.slice(start, nameEnd), QUERY_NAME_SPEC, mask);
      }
    }
    if (nameEnd + 1 < amp) {
      const mask = rangeMask(nameEnd + 1, amp);
      if (mask === undefined || worthScanning(run, QUERY_VALUE, mask)) {
        const name = query.slice(start, Math.min(nameEnd, start + 40));
        const spec: FieldSpec = {
          bit: QUERY_VALUE,
          kind: 'query',
          location: `query:${name}`,
          decode: true,
          plusIsSpace: true,
        };
        scanField(run, query.slice(nameEnd + 1, amp), spec, mask);
      }
    }
    start = amp + 1;
  }
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
    const name = cookie.slice(start, nameEnd);
    const nameMask = classify(cookie, start, nameEnd, false);
    if (name !== '' && worthScanning(run, COOKIE_NAME, nameMask)) {
      scanField(run, name, COOKIE_NAME_SPEC, nameMask);
    }
    if (nameEnd + 1 < semi) {
      const mask = classify(cookie, nameEnd + 1, semi, false);
      if (worthScanning(run, COOKIE_VALUE, mask)) {
        const spec: FieldSpec = {
          bit: COOKIE_VALUE,
          kind: 'cookie',
          location: `cookie:${name.slice(0, 40)}`,
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
 * The user agent: browsers send a few distinct strings, each long enough to wake several rules,
 * so the built-in rules' results are remembered per string (custom rules still run each time).
 */
function scanUserAgent(run: Run, value: string | undefined): void {
  if (value === undefined || value === '') return;
  if (value.length > USER_AGENT_CACHEABLE) {
    scanField(run, cut(run, value), USER_AGENT_SPEC);
    return;
  }
  const { userAgents, o } = run.engine;
  const known = userAgents.get(value);
  if (known === undefined) {
    const found: Finding[] = [];
    scanField(run, value, USER_AGENT_SPEC, undefined, found);
    if (userAgents.size >= USER_AGENT_CACHE) userAgents.clear();
    userAgents.set(value, found);
    return;
  }
  for (const { rule, evidence } of known) run.report(rule, USER_AGENT_SPEC.location, evidence);
  if (o.customUserAgent.length > 0) {
    const mask = classify(value, 0, value.length, false);
    const text =
      (mask & NON_ASCII) !== 0 ? value.normalize('NFKC').toLowerCase() : value.toLowerCase();
    const field: Field = { ...USER_AGENT_SPEC, raw: value, mask, flags: 0 };
    runRules(run, o.customUserAgent, text, field);
  }
}

/** The screened headers: user agent, referer, X-Forwarded-For, those named in options, cookies. */
export function scanHeaders(run: Run, headers: ScreenedRequest['headers']): void {
  scanUserAgent(run, headerText(headers['user-agent'], ', '));
  const referer = headerText(headers.referer, ', ');
  if (referer) scanField(run, cut(run, referer), REFERER_SPEC);
  const forwardedFor = headerText(headers['x-forwarded-for'], ', ');
  if (forwardedFor) scanField(run, cut(run, forwardedFor), FORWARDED_FOR_SPEC);
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
