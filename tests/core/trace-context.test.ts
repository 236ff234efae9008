import { describe, expect, it } from 'vitest';
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  parseTracestate,
} from '../../src/core/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C traceparent', () => {
  it('reads a version 00 header: trace id, parent id and the sampled flag', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags).toBe(0);
    // Optional white space around the value, as HTTP allows.
    expect(parseTraceparent(` 00-${TRACE}-${SPAN}-01\t`)?.traceId).toBe(TRACE);
    // Flags this version does not define are not passed on.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-ff`)?.traceFlags).toBe(3);
  });

  it('reads a later version by its first four fields', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01`)?.traceId).toBe(TRACE);
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
    });
    // ... which must continue with a dash after them.
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01x`)).toBeUndefined();
  });

  it.each([
    ['missing', undefined],
    ['not a string', 42],
    ['empty', ''],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with more fields', `00-${TRACE}-${SPAN}-01-extra`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['short parent id', `00-${TRACE}-${SPAN.slice(1)}-01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0g`],
    ['one-digit flags', `00-${TRACE}-${SPAN}-1`],
    ['wrong separators', `00_${TRACE}_${SPAN}_01`],
    ['non-hex version', `0x-${TRACE}-${SPAN}-01`],
    ['two headers joined', `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`],
  ])('refuses a header that is %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('formats a context back into the header it was read from', () => {
    const header = `00-${TRACE}-${SPAN}-01`;
    expect(formatTraceparent(parseTraceparent(header)!)).toBe(header);
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 0 })).toBe(
      `00-${TRACE}-${SPAN}-00`,
    );
  });

  it('makes random, valid, distinct ids', () => {
    const traces = new Set(Array.from({ length: 600 }, () => newTraceId()));
    const spans = new Set(Array.from({ length: 600 }, () => newSpanId()));
    expect(traces.size).toBe(600);
    expect(spans.size).toBe(600);
    for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(parseTraceparent(`00-${newTraceId()}-${newSpanId()}-01`)).toBeDefined();
  });
});

describe('W3C tracestate', () => {
  it('keeps valid members, trimmed, skipping empty ones', () => {
    expect(parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE')).toBe(
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    );
    expect(parseTracestate('a=1,,  ,b=2')).toBe('a=1,b=2');
    expect(parseTracestate('tenant@vendor=x')).toBe('tenant@vendor=x');
    // Repeated headers, as a framework may hand them over.
    expect(parseTracestate(['a=1', 'b=2'])).toBe('a=1,b=2');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a key with upper case', 'Rojo=1'],
    ['a member without =', 'rojo'],
    ['a key repeated', 'a=1,a=2'],
    ['a value with an = sign', 'a=b=c'],
    ['a control character in a value', 'a=b\u0000'],
    ['a value longer than 256 characters', `a=${'x'.repeat(257)}`],
    ['more than 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('drops a header with %s', (_what, value) => {
    expect(parseTracestate(value)).toBeUndefined();
  });
});
