import {
  type AnyFunction,
  assertFactoryCall,
  createMethodDecorator,
  type DecoratedMethod,
  type DualMethodDecorator,
} from '../core/decorators.js';
import type { Duration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { defaultForCall } from '../enterprise.js';
import { argumentKey } from './argument-key.js';
import type { Cache } from './cache.js';
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
   * The key: a fixed string, or a function of the arguments. By default `Class.method:` (or the
   * function's name) followed by a stable encoding of the arguments, so objects with the same
   * content share an entry whatever the order of their properties.
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
  return createMethodDecorator('Cached', (original, method) =>
    cachingWrapper(
      original,
      options as CachedOptions,
      (self) => `${runtimeClass(self) ?? method.className(self)}.${method.methodName}`,
    ),
  );
}

/**
 * The function twin of `@Cached`.
 *
 * @example
 * ```ts
 * export const getProduct = cached({ namespace: 'products', ttl: '10m' }, (id: string) => db.products.find(id));
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
  const wrapped = cachingWrapper(fn, options as CachedOptions, () => fn.name);
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped as (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>;
}

/**
 * Always runs the decorated method and stores its result under its key (as `@Cached` would compute
 * it), so the next `@Cached` read gets the fresh value.
 *
 * @example
 * ```ts
 * @CachePut({ namespace: 'users', key: (user: User) => `UserService.getUserProfile:["${user.id}"]` })
 * async updateUser(user: User) { return db.users.save(user); }
 * ```
 */
export function CachePut<A extends unknown[] = any[], R = any>(
  options: CachedOptions<A, R> = {},
): DualMethodDecorator {
  // biome-ignore lint/complexity/noArguments: the decorator's own arguments reveal a missing `()`.
  assertFactoryCall('CachePut', arguments);
  checkCachedOptions(options, 'CachePut');
  return createMethodDecorator('CachePut', (original, method) => {
    return async function put(this: unknown, ...args: unknown[]) {
      const result = await original.apply(this, args);
      const cache = resolveCache(options.cache);
      if (cache !== undefined && result !== undefined) {
        const key = keyOf(
          options.key,
          args,
          () => `${runtimeClass(this) ?? method.className(this)}.${method.methodName}`,
        );
        await cache.set(key, result, {
          namespace: options.namespace,
          ttl: options.ttl,
          grace: options.grace,
          tags: tagsOf(options.tags, result, args),
        });
      }
      return result;
    };
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
  return createMethodDecorator('CacheEvict', (original, method) => {
    const evict = async (self: unknown, args: unknown[], result: unknown) => {
      const cache = resolveCache(options.cache);
      if (cache === undefined) return;
      if (options.all === true) {
        await cache.clear({ namespace: options.namespace ?? cache.defaultNamespace });
        return;
      }
      if (options.key !== undefined) {
        const key = keyOf(
          options.key,
          args,
          () => `${runtimeClass(self) ?? method.className(self)}.${method.methodName}`,
        );
        await cache.delete(key, { namespace: options.namespace });
      }
      const tags = tagsOf(options.tags, result, args);
      // Tags reach every namespace unless the decorator names one.
      if (tags.length > 0) await cache.invalidateTags(tags, { namespace: options.namespace });
    };
    return async function evicting(this: unknown, ...args: unknown[]) {
      if (options.beforeInvocation === true) {
        await evict(this, args, undefined);
        return original.apply(this, args);
      }
      const result = await original.apply(this, args);
      await evict(this, args, result);
      return result;
    };
  });
}

/** The wrapper shared by `@Cached` and `cached()`. */
function cachingWrapper(
  original: AnyFunction,
  options: CachedOptions,
  baseName: (self: unknown) => string,
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
  const keys = keyFactory(options, baseName);
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
  return function caching(this: unknown, first?: unknown) {
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
}

/**
 * Computes the keys of one cached method or function. The default key starts with the class of
 * `this` at call time (a subclass gets keys of its own, since the method may read its fields),
 * then the method's name. Keys of calls with a single string or number argument (an id, most
 * often) are remembered per class: a key string built once also keeps its hash, which every
 * lookup in the memory tier would otherwise compute again. Bounded; emptied when full.
 */
function keyFactory(
  options: CachedOptions,
  baseName: (self: unknown) => string,
): {
  single: (self: unknown, arg: string | number) => string;
  general: (self: unknown, args: unknown[]) => string;
} {
  if (options.key !== undefined) {
    const general = (_self: unknown, args: unknown[]) => keyOf(options.key, args, () => '');
    return { single: (self, arg) => general(self, [arg]), general };
  }
  interface PerClass {
    base: string;
    memo: Map<unknown, string>;
  }
  const byClass = new WeakMap<object, PerClass>();
  let detached: PerClass | undefined;
  let lastOwner: object | undefined;
  let lastRecord: PerClass | undefined;
  const perClass = (self: unknown): PerClass => {
    const owner =
      typeof self === 'function'
        ? self
        : self !== null && typeof self === 'object'
          ? (self as { constructor?: object }).constructor
          : undefined;
    if (owner === undefined || owner === null) {
      detached ??= { base: baseName(self), memo: new Map() };
      return detached;
    }
    // Most call sites see one class: check it before the WeakMap.
    if (owner === lastOwner) return lastRecord!;
    let found = byClass.get(owner);
    if (found === undefined) {
      found = { base: baseName(self), memo: new Map() };
      byClass.set(owner, found);
    }
    lastOwner = owner;
    lastRecord = found;
    return found;
  };
  return {
    single: (self, arg) => {
      const { base, memo } = perClass(self);
      let key = memo.get(arg);
      if (key === undefined) {
        key = `${base}:${argumentKey([arg])}`;
        if (memo.size >= 10_000) memo.clear();
        memo.set(arg, key);
      }
      return key;
    },
    general: (self, args) => `${perClass(self).base}:${argumentKey(args)}`,
  };
}

/** The name of the class of `self` (or of `self` itself for a static method), if it has one. */
function runtimeClass(self: unknown): string | undefined {
  if (typeof self === 'function') return self.name || undefined;
  if (self === null || typeof self !== 'object') return undefined;
  return (self as { constructor?: { name?: string } }).constructor?.name || undefined;
}

function resolveCache(given: Cache | undefined): Cache | undefined {
  return given ?? defaultForCall()?.cache;
}

function keyOf(key: CachedOptions['key'], args: unknown[], base: () => string): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'function') {
    const computed = key(...args);
    if (typeof computed !== 'string' || computed === '') {
      throw new InvalidArgumentError(`the key function returned ${describeValue(computed)}`, {
        argument: 'key',
        value: computed,
        expected: 'a non-empty string',
      });
    }
    return computed;
  }
  return `${base()}:${argumentKey(args)}`;
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
