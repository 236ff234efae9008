import { describeValue, InvalidArgumentError } from '../core/errors.js';

/**
 * @internal Validates a key prefix: a non-empty string without `{` or `}`, which would change the
 * Cluster hash slot of every key built on it.
 *
 * @example
 * ```ts
 * const prefix = checkPrefix(options.prefix ?? 'enterprise:cache');
 * ```
 */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new InvalidArgumentError(
      `prefix=${describeValue(prefix)} is invalid: expected a non-empty string without { or }`,
      { argument: 'prefix', value: prefix, expected: 'a non-empty string without { or }' },
    );
  }
  return prefix;
}

/**
 * @internal Escapes a namespace, queue or key for use inside a Redis key: `%`, `:`, `{` and `}`
 * become `%25`, `%3A`, `%7B`, `%7D`, so no segment can reach into another one's keys or change
 * its hash slot. The cache's Lua scripts repeat it byte for byte.
 *
 * @example
 * ```ts
 * escapeSegment('a:{b}'); // 'a%3A%7Bb%7D'
 * ```
 */
export function escapeSegment(segment: string): string {
  return segment.replace(/[%:{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * @internal {@link escapeSegment}, plus lone surrogates written as `%uD800`: ioredis sends key
 * names as UTF-8, which would turn every lone surrogate into U+FFFD and make distinct keys collide.
 * `%u` cannot come out of `escapeSegment` (it writes `%` as `%25`), so the result stays injective.
 *
 * @example
 * ```ts
 * redisSegment('q:\uD800'); // 'q%3A%uD800'
 * ```
 */
export function redisSegment(segment: string): string {
  return escapeSegment(segment).replace(
    LONE_SURROGATES,
    (c) => `%u${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * @internal A Cluster hash tag made of one escaped segment: every key that contains
 * `hashTag(queue)` hashes to the same slot, so one script may touch all of them. The escaping
 * keeps braces out of the segment, so the tag always ends where it should.
 *
 * @example
 * ```ts
 * `${prefix}:${hashTag(namespace)}:k:${member}`; // 'shop:cache:{users}:k:=1'
 * ```
 */
export function hashTag(segment: string): string {
  return `{${redisSegment(segment)}}`;
}

/**
 * @internal Escapes Redis glob characters so SCAN MATCH sees them literally.
 *
 * @example
 * ```ts
 * node.scan('0', 'MATCH', `${globEscape(prefix)}:*`);
 * ```
 */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
