import { describe, expect, it } from 'vitest';
import {
  BAD_PERCENT,
  DOUBLE_ENCODED,
  decodeFlags,
  INVALID_UTF8,
  OVERLONG,
  PERCENT_U,
  percentDecode,
  STILL_ENCODED,
} from '../../../src/security/screening/decode.js';
import { MAX_MATCH, viewsOf } from '../../../src/security/screening/views.js';

function decode(text: string, plus = false) {
  return { text: percentDecode(text, plus), flags: decodeFlags() };
}

describe('percentDecode', () => {
  it('decodes as decodeURIComponent does on well-formed input, with no flag', () => {
    for (const text of ['a%20b', '%E6%97%A5%E6%9C%AC', 'caf%C3%A9', '%F0%9F%98%80', '%2F%3F%23']) {
      expect(decode(text)).toEqual({ text: decodeURIComponent(text), flags: 0 });
    }
  });

  it('reads + as a space only in the query, and %2B as a plus', () => {
    expect(decode('a+b%2Bc', true).text).toBe('a b+c');
    expect(decode('a+b%2Bc', false).text).toBe('a+b+c');
    expect(decode('+'.repeat(600), true).text).toBe(' '.repeat(600));
  });

  it('undoes double encoding, once', () => {
    expect(decode('%252e%252e%252f')).toEqual({ text: '../', flags: DOUBLE_ENCODED });
    const triple = decode('%25252e');
    expect(triple.text).toBe('%2e');
    expect(triple.flags).toBe(DOUBLE_ENCODED | STILL_ENCODED);
  });

  it('keeps a bad escape as it is and flags it', () => {
    expect(decode('100%')).toEqual({ text: '100%', flags: BAD_PERCENT });
    expect(decode('%zz%41')).toEqual({ text: '%zzA', flags: BAD_PERCENT });
  });

  it('reads IIS %u escapes, flagged', () => {
    expect(decode('%u002e%u002E%u2215')).toEqual({ text: '..\u2215', flags: PERCENT_U });
  });

  it('reads overlong UTF-8 as the ASCII it spells, flagged', () => {
    expect(decode('%c0%ae%c0%ae%c0%af')).toEqual({ text: '../', flags: OVERLONG });
    expect(decode('%e0%80%ae').text).toBe('.');
  });

  it('turns bytes that are not UTF-8 into U+FFFD, flagged', () => {
    expect(decode('%ff%fe')).toEqual({ text: '\ufffd\ufffd', flags: INVALID_UTF8 });
    expect(decode('%e6%97').flags).toBe(INVALID_UTF8);
    expect(decode('%ed%a0%80').flags).toBe(INVALID_UTF8); // a UTF-16 surrogate
  });

  it('keeps raw non-ASCII text beside escapes', () => {
    expect(decode('café%20%C3%A9').text).toBe('café é');
  });
});

describe('viewsOf (long repetitive fields)', () => {
  const rep = (unit: string, length: number) =>
    unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

  function covers(text: string, views: string[]): boolean {
    for (let i = 0; i + MAX_MATCH <= text.length; i += 7) {
      const window = text.slice(i, i + MAX_MATCH);
      if (!views.some((v) => v.includes(window))) return false;
    }
    return true;
  }

  it('leaves short and non-repetitive text whole', () => {
    expect(viewsOf('abc')).toEqual(['abc']);
    const random = Array.from({ length: 4000 }, (_, i) =>
      String.fromCharCode(33 + ((i * i * 31 + i * 7) % 90)),
    ).join('');
    expect(viewsOf(random)).toEqual([random]);
  });

  it.each([
    ["'", ''],
    ["' or ", '/search?q='],
    ['%25', ''],
    ['<a ', 'x'],
    ['(((', "1' and "],
  ])('cuts %j repeated (after %j) into short views holding every window', (unit, prefix) => {
    const text = prefix + rep(unit, 8000) + 'end-of-field';
    const views = viewsOf(text);
    expect(views.length).toBeGreaterThan(1);
    expect(views.reduce((n, v) => n + v.length, 0)).toBeLessThan(2_000);
    expect(covers(text, views)).toBe(true);
    expect(views[0]!.startsWith(text.slice(0, 20))).toBe(true);
    expect(views.at(-1)!.endsWith('end-of-field')).toBe(true);
  });

  it('handles two repetitions in a row', () => {
    const text = rep("'", 4000) + rep('(', 4000);
    const views = viewsOf(text);
    expect(views.reduce((n, v) => n + v.length, 0)).toBeLessThan(2_000);
    expect(covers(text, views)).toBe(true);
  });

  it.each(['%25', '%u002e', 'a%2e%2E'])('never splits an escape of encoded %j repeated', (unit) => {
    for (const prefix of ['', 'x', 'x5', '%2']) {
      const text = `${prefix}${rep(unit, 8000)}%41`;
      const views = viewsOf(text, true);
      expect(views.length).toBeGreaterThan(1);
      for (const view of views) {
        const start = text.indexOf(view);
        // A view starts where an escape may start, and ends after a whole one.
        expect(text.slice(Math.max(0, start - 5), start)).not.toMatch(
          /%(?:u[0-9a-f]{0,3}|[0-9a-f]?)$/i,
        );
        expect(view).not.toMatch(/%(?:u[0-9a-f]{0,3}|[0-9a-f]?)$/i);
      }
    }
  });
});
