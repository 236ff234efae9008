import {
  type AnyFunction,
  assertFactoryCall,
  createMethodDecorator,
  type DecoratedMethod,
  type DualMethodDecorator,
} from '../core/decorators.js';
import type { Duration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { Cache } from './cache.js';
import {
  explicitKey,
  explicitKeys,
  functionKeys,
  type KeyFactory,
  methodKeys,
  registerKeys,
} from './cached-keys.js';
import { decorationSite } from './decoration-site.js';
import { defaultCacheForCall } from './default-cache.js';
import { checkNamespace } from './keys.js';

/** Options of `@Cached` and `cached()`. */
export interface CachedOptions<A extends unknown[] = any[], R = any> {
  /** Namespace of the entries. @defaultValue the cache's default namespace */
  namespace?: string;
  /** Time to live. @defaultValue CACHE_DEFAULT_TTL */
  ttl?: Duration;
  /** Grace period (see `getOrSet`). */
  grace?: Duration;
  /**
   * The key, used exactly as given: a fixed string, or a function of the arguments. By default
   * `Class.method@site:` (or `name@site:` for a function), where `site` is a hash of where the
   * decorator or `cached()` was applied, followed by a stable encoding of the arguments, so
   * objects with the same content share an entry whatever the order of their properties. Build it
   * with `cacheKeyOf` rather than by hand.
   */
  key?: string | ((...args: A) => string);
  /** Tags of the entries: a list, or a function of the result and the arguments. */
  tags?: readonly string[] | ((result: Awaited<R>, args: A) => readonly string[]);
  /** Loader timeouts and the cross-process lock, as in `getOrSet`. */
  timeout?: { soft?: Duration; hard?: Duration };
  lock?: boolean | { ttl?: Duration; wait?: Duration };
  /** The cache to use. @defaultValue the default instance's, looked up at call time */
  cache?: Cache;
}

/** Options of `@CacheEvict`. */
export interface CacheEvictOptions<A extends unknown[] = any[], R = any> {
  namespace?: string;
  /** The key to delete after the method succeeds: a fixed string or a function of the arguments. */
  key?: string | ((...args: A) => string);
  /** Tags to invalidate after the method succeeds. */
  tags?: readonly string[] | ((result: Awaited<R>, args: A) => readonly string[]);
  /** Clear the whole namespace instead. */
  all?: boolean;
  /** Evict before calling the method rather than after it succeeds. @defaultValue false */
  beforeInvocation?: boolean;
  cache?: Cache;
}

/**
 * Caches the results of the decorated method: the first call with given arguments runs it, the
 * next ones get the cached value until it expires. Concurrent calls with the same arguments run it
 * once. Works with standard decorators and `experimentalDecorators` alike; the method becomes async.
 *
 * @example
 * ```ts
 * class UserService {
 *   @Cached({ namespace: 'users', ttl: 3600, tags: (user) => [`user:${user.id}`] })
 *   async getUserProfile(userId: string) { return db.users.find(userId); }
 * }
 * ```
 */
export function Cached<A extends unknown[] = any[], R = any>(
  options: CachedOptions<A, R> = {},
): DualMethodDecorator {
  // biome-ignore lint/complexity/noArguments: the decorator's own arguments reveal a missing `()`.
  assertFactoryCall('Cached', arguments);
  checkCachedOptions(options, 'Cached');
  // Once per decoration, never per call: the site only tells this decorator apart from others.
  const site = options.key === undefined ? decorationSite(Cached) : undefined;
  return createMethodDecorator('Cached', (original, method) =>
    cachingWrapper(
      original,
      options as CachedOptions,
      site === undefined ? explicitKeys(options.key!) : methodKeys(method, options.namespace, site),
    ),
  );
}

/**
 * The function twin of `@Cached`. Its default key is its name, `@` and a hash of where `cached()`
 * was called; a second, different function that would derive the same keys in the same namespace
 * (the same line run again by a factory) is refused with `CacheKeyConflictError`.
 *
 * @example
 * ```ts
 * export const getProduct = cached({ namespace: 'products', ttl: '10m' }, async function getProduct(id: string) {
 *   return db.products.find(id);
 * });
 * ```
 */
export function cached<F extends AnyFunction>(
  options: CachedOptions<Parameters<F>, ReturnType<F>>,
  fn: F,
): (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>> {
  checkCachedOptions(options, 'cached');
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`fn=${describeValue(fn)} is not a function`, {
      argument: 'fn',
      value: fn,
      expected: 'a function',
    });
  }
  if (options.key === undefined && fn.name === '') {
    throw new InvalidArgumentError('cached() of an anonymous function needs a `key` option', {
      argument: 'options.key',
      value: undefined,
      expected: 'a key (string or function), or a named function',
    });
  }
  const keys =
    options.key === undefined
      ? functionKeys(fn, options.namespace, decorationSite(cached))
      : explicitKeys(options.key);
  const wrapped = cachingWrapper(fn, options as CachedOptions, keys);
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped as (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>;
}

/**
 * Always runs the decorated method and stores its result under its key, so the next `@Cached`
 * read gets the fresh value. Name the `@Cached` method's key with `cacheKeyOf`; without a `key`,
 * the result goes under this method's own default key.
 *
 * @example
 * ```ts
 * @CachePut({ namespace: 'users', key: (user: User) => cacheKeyOf(UserService, 'getUserProfile', user.id) })
 * async updateUser(user: User) { return db.users.save(user); }
 * ```
 */
export function CachePut<A extends unknown[] = any[], R = any>(
  options: CachedOptions<A, R> = {},
): DualMethodDecorator {
  // biome-ignore lint/complexity/noArguments: the decorator's own arguments reveal a missing `()`.
  assertFactoryCall('CachePut', arguments);
  checkCachedOptions(options, 'CachePut');
  const site = options.key === undefined ? decorationSite(CachePut) : undefined;
  return createMethodDecorator('CachePut', (original, method) => {
    const keys =
      site === undefined ? explicitKeys(options.key!) : methodKeys(method, options.namespace, site);
    const put = async function put(this: unknown, ...args: unknown[]) {
      const result = await original.apply(this, args);
      const cache = resolveCache(options.cache);
      if (cache !== undefined && result !== undefined) {
        await cache.set(keys.general(this, args), result, {
          namespace: options.namespace,
          ttl: options.ttl,
          grace: options.grace,
          tags: tagsOf(options.tags, result, args),
        });
      }
      return result;
    };
    registerKeys(put, keys);
    return put;
  });
}

/**
 * Removes entries when the decorated method succeeds (or before it runs, with
 * `beforeInvocation`): one key, some tags, or the whole namespace.
 *
 * @example
 * ```ts
 * @CacheEvict({ namespace: 'users', tags: (_result, [userId]) => [`user:${userId}`] })
 * async deleteUser(userId: string) { await db.users.delete(userId); }
 * ```
 */
export function CacheEvict<A extends unknown[] = any[], R = any>(
  options: CacheEvictOptions<A, R>,
): DualMethodDecorator {
  // biome-ignore lint/complexity/noArguments: the decorator's own arguments reveal a missing `()`.
  assertFactoryCall('CacheEvict', arguments);
  if (
    options === null ||
    typeof options !== 'object' ||
    (options.key === undefined && options.tags === undefined && options.all !== true)
  ) {
    throw new InvalidArgumentError('@CacheEvict() needs `key`, `tags` or `all: true`', {
      argument: 'options',
      value: options,
      expected: 'an object with key, tags or all',
    });
  }
  return createMethodDecorator('CacheEvict', (original) => {
    const evict = async (args: unknown[], result: unknown) => {
      const cache = resolveCache(options.cache);
      if (cache === undefined) return;
      if (options.all === true) {
        await cache.clear({ namespace: options.namespace ?? cache.defaultNamespace });
        return;
      }
      if (options.key !== undefined) {
        await cache.delete(explicitKey(options.key, args), { namespace: options.namespace });
      }
      const tags = tagsOf(options.tags, result, args);
      // Tags reach every namespace unless the decorator names one.
      if (tags.length > 0) await cache.invalidateTags(tags, { namespace: options.namespace });
    };
    return async function evicting(this: unknown, ...args: unknown[]) {
      if (options.beforeInvocation === true) {
        await evict(args, undefined);
        return original.apply(this, args);
      }
      const result = await original.apply(this, args);
      await evict(args, result);
      return result;
    };
  });
}

/** The wrapper shared by `@Cached` and `cached()`. */
function cachingWrapper(
  original: AnyFunction,
  options: CachedOptions,
  keys: KeyFactory,
): AnyFunction {
  // Built once: only the tags, a function of each call's arguments, vary from call to call.
  const fixed = {
    namespace: options.namespace,
    ttl: options.ttl,
    grace: options.grace,
    timeout: options.timeout,
    lock: options.lock,
  };
  const tags = options.tags;
  // The miss path lives in its own function: closures over `this` and the arguments created here
  // would make every call (hits included) allocate a context for them.
  const load = (cache: Cache, key: string, self: unknown, args: unknown[]) =>
    cache.getOrSet(
      key,
      () => original.apply(self, args),
      tags === undefined
        ? fixed
        : { ...fixed, tags: (result: unknown) => tagsOf(tags, result, args) },
    );
  const caching = function caching(this: unknown, first?: unknown) {
    const cache = resolveCache(options.cache);
    // `arguments` rather than a rest parameter: a call with one id (the common case) builds its key
    // from `first` and never materializes an arguments array on a hit.
    const single =
      // biome-ignore lint/complexity/noArguments: see above.
      arguments.length === 1 && (typeof first === 'string' || typeof first === 'number');
    if (cache === undefined) {
      // biome-ignore lint/complexity/noArguments: forwards the call exactly as made.
      return Promise.resolve(original.apply(this, arguments as unknown as unknown[]));
    }
    let key: string;
    let args: unknown[] | undefined;
    try {
      if (single) key = keys.single(this, first as string | number);
      else {
        // biome-ignore lint/complexity/noArguments: see above.
        args = Array.prototype.slice.call(arguments);
        key = keys.general(this, args);
      }
    } catch (error) {
      // A cached method always answers with a promise, failures included.
      return Promise.reject(error);
    }
    const local = cache.peekLocal(key, options.namespace);
    if (local !== undefined) return Promise.resolve(local);
    return load(cache, key, this, args ?? [first]);
  };
  registerKeys(caching, keys);
  return caching;
}

function resolveCache(given: Cache | undefined): Cache | undefined {
  return given ?? defaultCacheForCall();
}

function tagsOf(
  tags: readonly string[] | ((result: any, args: any) => readonly string[]) | undefined,
  result: unknown,
  args: unknown[],
): readonly string[] {
  if (tags === undefined) return [];
  return typeof tags === 'function' ? tags(result as never, args) : tags;
}

function checkCachedOptions(options: unknown, decorator: string): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `${decorator}: options=${describeValue(options)} is not an object`,
      {
        argument: 'options',
        value: options,
        expected: 'an options object',
      },
    );
  }
  const { key, tags, namespace } = options as CachedOptions;
  if (namespace !== undefined) checkNamespace(namespace, 'options.namespace');
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') {
    throw new InvalidArgumentError(`${decorator}: key=${describeValue(key)} is invalid`, {
      argument: 'options.key',
      value: key,
      expected: 'a string or a function of the arguments',
    });
  }
  if (tags !== undefined && !Array.isArray(tags) && typeof tags !== 'function') {
    throw new InvalidArgumentError(`${decorator}: tags=${describeValue(tags)} is invalid`, {
      argument: 'options.tags',
      value: tags,
      expected: 'a list of strings or a function of the result and the arguments',
    });
  }
}

export type { DecoratedMethod };
