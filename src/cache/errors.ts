import { EnterpriseError } from '../core/errors.js';

/**
 * A value could not be encoded (a function, a symbol, a cycle the codec cannot represent) or an
 * entry could not be decoded (tampered, truncated, encrypted with an unknown key). At `set` it is
 * thrown; at `get` it is reported as an event and the entry is treated as a miss.
 *
 * @example
 * ```ts
 * await cache.set('fn', () => 1); // CacheCodecError (E_CACHE_CODEC)
 * ```
 */
export class CacheCodecError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_CACHE_CODEC', message, { context, cause });
  }
}

/**
 * A cache tier failed, timed out or has its circuit open. Callers of the cache never see it where
 * another tier or a loader can answer; it reaches them only through events, logs and analytics.
 *
 * @example
 * ```ts
 * cache.on('tier-error', ({ tier, error }) => console.warn(tier, error.code)); // E_CACHE_TIER
 * ```
 */
export class CacheTierError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_CACHE_TIER', message, { context, cause });
  }
}

/**
 * A `getOrSet` loader did not settle within its hard timeout and no stale value could be served.
 * The loader keeps running; when it settles its value is still cached.
 *
 * @example
 * ```ts
 * await cache.getOrSet('k', slowLoader, { timeout: { hard: '2s' } }); // CacheLoaderTimeoutError (E_CACHE_LOADER_TIMEOUT)
 * ```
 */
export class CacheLoaderTimeoutError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_CACHE_LOADER_TIMEOUT', message, { context });
  }
}

/**
 * Two different functions, or methods of two different classes of one name, would derive the same
 * default cache key, so each would answer the other's calls. Thrown by `cached()` for the second
 * function; for a `@Cached` method, the first call on the second class rejects with it. The
 * message names both and how to tell them apart: a `key` option, or a distinct `namespace`.
 *
 * @example
 * ```ts
 * const loaderFor = (tenant: string) =>
 *   cached({ namespace: 'users' }, async function load(id: string) { return find(tenant, id); });
 * loaderFor('a');
 * loaderFor('b'); // CacheKeyConflictError (E_CACHE_KEY_CONFLICT): give each tenant a namespace
 * ```
 */
export class CacheKeyConflictError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_CACHE_KEY_CONFLICT', message, { context });
  }
}
