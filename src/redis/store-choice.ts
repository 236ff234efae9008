// Where a module keeps its state, from the `store`, `redis`, `redisUrl` and `prefix` options that
// the modules with a pluggable store (alerts, analytics events) accept alike.
import type { RedisClient } from './client.js';

/** @internal The store a module was given, or the memory or Redis one it builds. */
export type StoreChoice<Store> =
  | { kind: 'given'; store: Store }
  | { kind: 'memory' }
  | { kind: 'redis'; client?: RedisClient; url?: string; prefix: string };

/** @internal The options a module's store is chosen from. */
export interface StoreChoiceOptions<Store> {
  store?: Store | 'memory' | 'redis';
  redis?: RedisClient;
  redisUrl?: string;
  prefix?: string;
}

/** @internal What differs between the modules: their store interface and their default prefix. */
export interface StoreKind<Store> {
  /** The interface's name, for messages (`AlertStore`). */
  name: string;
  /** The methods a given store must have. */
  methods: readonly (keyof Store & string)[];
  defaultPrefix: string;
}

/**
 * @internal Checks the store options: `'redis'` (the default when `redis` or `redisUrl` is given)
 * needs one of them and a prefix usable as a hash tag. `fail` is told what was expected, as a
 * phrase to follow "expected".
 */
export function resolveStoreChoice<Store extends object>(
  options: StoreChoiceOptions<Store>,
  kind: StoreKind<Store>,
  fail: (field: string, value: unknown, expected: string) => never,
): StoreChoice<Store> {
  const store =
    options.store ??
    (options.redis !== undefined || options.redisUrl !== undefined ? 'redis' : 'memory');
  if (typeof store === 'object' && store !== null) {
    for (const method of kind.methods) {
      if (typeof store[method] !== 'function')
        fail('store', store, `an ${kind.name} (no ${method} method)`);
    }
    return { kind: 'given', store };
  }
  if (store === 'memory') return { kind: 'memory' };
  if (store !== 'redis') return fail('store', store, `'memory', 'redis' or an ${kind.name}`);
  if (
    options.redis === undefined &&
    (typeof options.redisUrl !== 'string' || options.redisUrl === '')
  ) {
    return fail(
      'redisUrl',
      options.redisUrl,
      "a Redis URL or a client (redis): the 'redis' store needs one",
    );
  }
  const prefix = options.prefix ?? kind.defaultPrefix;
  if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix)) {
    fail('prefix', prefix, 'a non-empty string without { or }');
  }
  return {
    kind: 'redis',
    prefix,
    ...(options.redis === undefined ? { url: options.redisUrl! } : { client: options.redis }),
  };
}
