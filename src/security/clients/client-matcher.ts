import { describeValue } from '../../core/errors.js';
import { SecurityConfigError } from '../errors.js';

/**
 * Answers whether a client key belongs to a list: the allow and deny lists and banned ranges use
 * it. The default matches exact strings; give a CIDR matcher (one that knows `10.0.0.0/8`) to
 * match ranges.
 *
 * @example
 * ```ts
 * const office: ClientMatcher = { has: (client) => client.startsWith('198.51.100.') };
 * const clients = new Clients({ allow: office });
 * ```
 */
export interface ClientMatcher {
  /** Whether `client` (an address or a client key such as `2001:db8::/64`) is on the list. */
  has(client: string): boolean;
}

/**
 * A {@link ClientMatcher} of exact client keys: `'203.0.113.7'` matches that address only, and
 * `'2001:db8::/64'` only the client key written the same way.
 *
 * @example
 * ```ts
 * exactClients(['203.0.113.7']).has('203.0.113.7'); // true
 * ```
 */
export function exactClients(list: readonly string[]): ClientMatcher {
  const set = new Set(list);
  return { has: (client) => set.has(client) };
}

/**
 * @internal A matcher from an option: a list of exact keys, or a matcher as given; `undefined`
 * for none.
 */
export function toMatcher(
  option: ClientMatcher | readonly string[] | undefined,
  field: string,
): ClientMatcher | undefined {
  if (option === undefined) return undefined;
  if (Array.isArray(option)) {
    for (const entry of option) {
      if (typeof entry !== 'string' || entry.length === 0) {
        throw new SecurityConfigError(
          `${field} holds ${describeValue(entry)}: expected client keys (non-empty strings)`,
          { field, value: entry, expected: 'non-empty strings' },
        );
      }
    }
    return exactClients(option);
  }
  if (typeof (option as ClientMatcher).has !== 'function') {
    throw new SecurityConfigError(
      `${field}=${describeValue(option)} is invalid: expected a list of client keys or { has(client) }`,
      { field, value: option, expected: 'string[] or { has(client): boolean }' },
    );
  }
  return option as ClientMatcher;
}
