import { createHash } from 'node:crypto';
import { describeValue, InvalidArgumentError } from '../core/errors.js';

/** Keys longer than this many characters are stored under a hash in the remote tiers. */
export const MAX_PLAIN_KEY_LENGTH = 200;

/**
 * Validates a cache key: a non-empty string. Any characters are allowed; remote tiers encode them.
 *
 * @internal
 */
export function checkKey(key: unknown, argument = 'key'): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(key)} is not a valid cache key: expected a non-empty string`,
      { argument, value: key, expected: 'a non-empty string' },
    );
  }
  return key;
}

/**
 * Validates a namespace: 1 to 100 characters, none of them control characters.
 *
 * @internal
 */
export function checkNamespace(namespace: unknown, argument = 'namespace'): string {
  if (
    typeof namespace !== 'string' ||
    namespace.length === 0 ||
    namespace.length > 100 ||
    !isSafeName(namespace)
  ) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(namespace)} is not a valid namespace: expected 1 to 100 characters without control characters or unpaired surrogates`,
      {
        argument,
        value: namespace,
        expected: '1 to 100 characters without control characters or unpaired surrogates',
      },
    );
  }
  return namespace;
}

/**
 * The form of a key as remote tiers store it. Short keys keep their text behind a `=` marker; long
 * ones become `#` and their SHA-256, so an index or a Redis key never grows with the key; keys
 * that UTF-8 cannot carry become `!` and a hash. The markers keep the forms apart: no plain key can
 * collide with a hashed one.
 *
 * @example
 * ```ts
 * storageKey('user:1');          // '=user:1'
 * storageKey('x'.repeat(5000));  // '#3f0c...' (64 hex digits)
 * ```
 */
export function storageKey(key: string): string {
  // U+0000 and unpaired surrogates do not survive UTF-8 (PostgreSQL refuses the first; the second
  // all become U+FFFD, so distinct keys would collide): such keys are stored as `!` and the hash
  // of their UTF-16 code units, which loses nothing.
  if (key.includes('\u0000') || LONE_SURROGATE.test(key)) {
    return `!${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')}`;
  }
  if (key.length <= MAX_PLAIN_KEY_LENGTH) return `=${key}`;
  return `#${createHash('sha256').update(key).digest('hex')}`;
}

// With the `u` flag a well-formed pair is one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether `text` is safe as a namespace or a tag in every tier: no control characters and no
 * unpaired surrogates.
 *
 * @internal
 */
export function isSafeName(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return !/[\u0000-\u001f\u007f]/.test(text) && !LONE_SURROGATE.test(text);
}
