import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import {
  checkPrefix,
  escapeSegment,
  globEscape,
  hashTag,
  redisSegment,
} from '../../src/redis/keys.js';

describe('Redis key helpers', () => {
  it('accepts a prefix without braces and refuses empty, non-string or braced ones', () => {
    expect(checkPrefix('shop:cache')).toBe('shop:cache');
    for (const bad of ['', 'a{b', 'a}b', '{x}', 42, undefined]) {
      expect(() => checkPrefix(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('escapes %, :, { and } so a segment cannot reach into other keys or change the hash slot', () => {
    expect(escapeSegment('a:{b}%')).toBe('a%3A%7Bb%7D%25');
    expect(escapeSegment('plain')).toBe('plain');
  });

  it('writes lone surrogates as %u, keeping distinct segments distinct once sent as UTF-8', () => {
    expect(redisSegment('q\uD800')).toBe('q%uD800');
    expect(redisSegment('q\uDFFF')).toBe('q%uDFFF');
    // A well-formed pair is left alone.
    expect(redisSegment('q\uD83D\uDE00')).toBe('q\uD83D\uDE00');
    // `%u` written by a user is escaped first, so it cannot imitate an escaped surrogate.
    expect(redisSegment('q%uD800')).toBe('q%25uD800');
  });

  it('builds one hash tag per segment, braces inside the segment escaped', () => {
    expect(hashTag('orders')).toBe('{orders}');
    expect(hashTag('a}b{c')).toBe('{a%7Db%7Bc}');
    // The tag ends at the first `}`: with the segment escaped, that is the one hashTag wrote.
    const tag = hashTag('x}y');
    expect(tag.indexOf('}')).toBe(tag.length - 1);
  });

  it('escapes glob characters for SCAN MATCH', () => {
    expect(globEscape('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
  });
});
