import { getEnterprise } from '../enterprise.js';
import type { Cache } from './cache.js';

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
    const instance = getEnterprise().cache;
    const value = Reflect.get(instance, property, instance);
    return typeof value === 'function' ? value.bind(instance) : value;
  },
  has(_target, property) {
    return Reflect.has(getEnterprise().cache, property);
  },
  getPrototypeOf() {
    return Reflect.getPrototypeOf(getEnterprise().cache);
  },
});
