import { defaultPart, defaultPartForCall } from '../core/default-instance.js';
import type { Cache } from './cache.js';

/** @internal The default instance's cache, built on first use. */
export function defaultCache(): Cache {
  return defaultPart<Cache>('cache');
}

/** @internal The default cache for a cached call, `undefined` when no default can be built. */
export function defaultCacheForCall(): Cache | undefined {
  return defaultPartForCall<Cache>('cache');
}

/**
 * The default instance's cache (`getEnterprise().cache`), looked up at each use so it follows
 * `configure()`.
 *
 * @example
 * ```ts
 * import { cache } from '@revcopy/enterprise/cache';
 * await cache.set('key', value, { namespace: 'products' });
 * const result = await cache.get('key', { namespace: 'products' });
 * ```
 */
export const cache: Cache = new Proxy({} as Cache, {
  get(_target, property) {
    const instance = defaultCache();
    const value = Reflect.get(instance, property, instance);
    return typeof value === 'function' ? value.bind(instance) : value;
  },
  has(_target, property) {
    return Reflect.has(defaultCache(), property);
  },
  getPrototypeOf() {
    return Reflect.getPrototypeOf(defaultCache());
  },
});
