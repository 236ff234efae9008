import { createHash, createHmac, randomBytes } from 'node:crypto';
import { AnalyticsConfigError } from './errors.js';

/** The shortest hash key accepted, in bytes. */
export const MIN_KEY_BYTES = 16;

/**
 * Turns user ids into pseudonyms: HMAC-SHA256 of the id under a secret key, truncated to 64 bits
 * (16 hex digits). The same key on every instance gives the same pseudonym, so counts merge; the
 * id itself never reaches a store. Without the key a pseudonym cannot be linked back to its id,
 * short of hashing every candidate id. Recent ids are remembered (two generations of
 * `cacheSize`), since an HMAC costs about a microsecond and users come back.
 *
 * @example
 * ```ts
 * const pseudonyms = new Pseudonymiser(process.env.ANALYTICS_HASH_KEY!);
 * pseudonyms.of('user-42'); // '3f1c…' (16 hex digits), the same on every instance
 * ```
 */
export class Pseudonymiser {
  readonly #key: Uint8Array;
  readonly #cacheSize: number;
  #current = new Map<string, string>();
  #previous = new Map<string, string>();

  constructor(key: string | Uint8Array, cacheSize = 10_000) {
    this.#key = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    this.#cacheSize = cacheSize;
  }

  /** The pseudonym of `userId`. */
  of(userId: string): string {
    let pseudonym = this.#current.get(userId);
    if (pseudonym !== undefined) return pseudonym;
    pseudonym = this.#previous.get(userId);
    if (pseudonym === undefined) {
      pseudonym = createHmac('sha256', this.#key).update(userId).digest('hex').slice(0, 16);
    }
    if (this.#current.size >= this.#cacheSize) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(userId, pseudonym);
    return pseudonym;
  }
}

/**
 * @internal The two 32-bit halves of a pseudonym, for sketches and id tables. A user string that
 * is not a pseudonym (a store used directly) is hashed first.
 *
 * @example
 * ```ts
 * const [hi, lo] = pseudonymHalves('9f86d081884c7d65'); // [0x9f86d081, 0x884c7d65]
 * ```
 */
export function pseudonymHalves(user: string): [number, number] {
  if (user.length === 16) {
    // Number('0x…') is NaN for anything but hex digits, where parseInt would stop quietly.
    const hi = Number(`0x${user.slice(0, 8)}`);
    const lo = Number(`0x${user.slice(8)}`);
    if (!Number.isNaN(hi) && !Number.isNaN(lo)) return [hi, lo];
  }
  const hex = createHash('sha256').update(user).digest('hex');
  return [Number(`0x${hex.slice(0, 8)}`), Number(`0x${hex.slice(8, 16)}`)];
}

/**
 * @internal The hash key to use: the `hashKey` option, else `ANALYTICS_HASH_KEY`, else (for a
 * store of one process only) a random key of this process. A shared store without a key, or a
 * key shorter than 16 bytes, is an {@link AnalyticsConfigError}.
 */
export function resolveHashKey(
  option: string | Uint8Array | undefined,
  env: string | undefined,
  shared: boolean,
): { key: string | Uint8Array; source: 'option' | 'env' | 'random' } {
  const given = option ?? (env === undefined || env === '' ? undefined : env);
  const field = option !== undefined ? 'hashKey' : 'ANALYTICS_HASH_KEY';
  if (given === undefined) {
    if (shared) {
      throw new AnalyticsConfigError(
        'analytics: a shared store (Redis) needs a hash key, the same on every instance, so that the pseudonyms of one user match: set ANALYTICS_HASH_KEY or the hashKey option',
        { field: 'hashKey', expected: `a secret of at least ${MIN_KEY_BYTES} bytes` },
      );
    }
    return { key: randomBytes(32), source: 'random' };
  }
  const bytes = typeof given === 'string' ? Buffer.byteLength(given, 'utf8') : given?.byteLength;
  if (
    (typeof given !== 'string' && !(given instanceof Uint8Array)) ||
    bytes === undefined ||
    bytes < MIN_KEY_BYTES
  ) {
    throw new AnalyticsConfigError(
      `analytics: ${field} is invalid: expected a secret of at least ${MIN_KEY_BYTES} bytes`,
      { field, expected: `a string or bytes, at least ${MIN_KEY_BYTES} bytes` },
    );
  }
  return { key: given, source: option !== undefined ? 'option' : 'env' };
}
