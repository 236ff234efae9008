import { type Clock, systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import { checkPrefix } from '../../redis/keys.js';
import { SecurityConfigError } from '../errors.js';
import type { RateLimitStore } from '../types.js';
import { MemoryRateLimitStore } from './memory-store.js';
import { RedisRateLimitStore } from './redis-store.js';
import type { RateLimitAlgorithm, RateLimiterOptions } from './types.js';

/** @internal {@link RateLimiterOptions}, checked, with the stores built. */
export interface ResolvedRateLimiterOptions {
  limit: number;
  windowMs: number;
  algorithm: RateLimitAlgorithm;
  store: RateLimitStore;
  /** Set when the store is the package's memory store: decided synchronously. */
  memory: MemoryRateLimitStore | undefined;
  /** Whether the limiter built the store (and closes it). */
  ownsStore: boolean;
  /** Whether the store bounds its own calls (the package's Redis store does). */
  storeTimesItself: boolean;
  onStoreError: 'insurance' | 'closed';
  insurance: { limit: number; windowMs: number };
  commandTimeoutMs: number;
  probeIntervalMs: number;
  dynamic: ((key: string) => number) | undefined;
  clock: Clock;
}

const ALGORITHMS: readonly string[] = ['gcra', 'sliding-window'];

function invalid(field: string, value: unknown, expected: string): SecurityConfigError {
  return new SecurityConfigError(
    `createRateLimiter: ${field}=${describeValue(value)} is invalid: expected ${expected}`,
    { field, value, expected },
  );
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(field, value, 'a positive integer');
  }
  return value;
}

function windowOf(value: unknown, field: string): number {
  let ms: number;
  try {
    ms = parseDuration(value, field);
  } catch {
    throw invalid(field, value, "a positive duration (seconds, or a string such as '30s', '1m')");
  }
  if (!(ms >= 1)) throw invalid(field, value, 'a duration of at least 1 ms');
  return ms;
}

function positiveMs(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(field, value, 'a positive number of milliseconds');
  }
  return value;
}

function isStore(value: unknown): value is RateLimitStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RateLimitStore).consume === 'function' &&
    typeof (value as RateLimitStore).reset === 'function'
  );
}

/**
 * @internal Checks every option (a {@link SecurityConfigError} names the first bad one) and
 * builds the store.
 */
export function resolveOptions(options: RateLimiterOptions): ResolvedRateLimiterOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', options, 'an object with limit and window');
  }
  const limit = positiveInteger(options.limit, 'limit');
  const windowMs = windowOf(options.window, 'window');
  const given = options.store;
  if (options.algorithm !== undefined && !ALGORITHMS.includes(options.algorithm)) {
    throw invalid('algorithm', options.algorithm, "'gcra' or 'sliding-window'");
  }
  if (options.algorithm !== undefined && isStore(given)) {
    throw invalid(
      'algorithm',
      options.algorithm,
      'no algorithm with your own store (it has its own)',
    );
  }
  const algorithm: RateLimitAlgorithm = options.algorithm ?? 'gcra';
  const onStoreError = options.onStoreError ?? 'insurance';
  if (onStoreError !== 'insurance' && onStoreError !== 'closed') {
    throw invalid('onStoreError', onStoreError, "'insurance' or 'closed'");
  }
  const insurance =
    options.insurance === undefined
      ? { limit, windowMs }
      : typeof options.insurance === 'object' && options.insurance !== null
        ? {
            limit: positiveInteger(options.insurance.limit, 'insurance.limit'),
            windowMs: windowOf(options.insurance.window, 'insurance.window'),
          }
        : (() => {
            throw invalid('insurance', options.insurance, 'an object with limit and window');
          })();
  if (options.dynamic !== undefined && typeof options.dynamic !== 'function') {
    throw invalid('dynamic', options.dynamic, 'a function (key) => multiplier');
  }
  const commandTimeoutMs = positiveMs(options.commandTimeoutMs, 'commandTimeoutMs', 500);
  const probeIntervalMs = positiveMs(options.probeIntervalMs, 'probeIntervalMs', 1_000);
  const clock = options.clock ?? systemClock;
  if (options.redis !== undefined && options.redisUrl !== undefined) {
    throw invalid('redis', 'redis and redisUrl', 'either redis or redisUrl, not both');
  }
  const hasRedis = options.redis !== undefined || options.redisUrl !== undefined;
  const kind = given ?? (hasRedis ? 'redis' : 'memory');
  const common = { limit, windowMs, algorithm, onStoreError, insurance };
  const rest = { commandTimeoutMs, probeIntervalMs, dynamic: options.dynamic, clock };

  if (kind === 'memory') {
    if (hasRedis) throw invalid('store', 'memory', "'redis' when redis or redisUrl is given");
    const memory = new MemoryRateLimitStore({ algorithm, clock });
    return {
      ...common,
      ...rest,
      store: memory,
      memory,
      ownsStore: true,
      storeTimesItself: true,
    };
  }
  if (kind === 'redis') {
    if (!hasRedis) {
      throw invalid('redisUrl', undefined, "a Redis URL or a client (redis) for store 'redis'");
    }
    if (options.redisUrl !== undefined && typeof options.redisUrl !== 'string') {
      throw invalid('redisUrl', options.redisUrl, 'a redis:// or rediss:// URL');
    }
    let prefix: string;
    try {
      prefix = checkPrefix(options.prefix ?? 'enterprise:ratelimit');
    } catch {
      throw invalid('prefix', options.prefix, 'a non-empty string without { or }');
    }
    const store = new RedisRateLimitStore({
      ...(options.redis === undefined ? { url: options.redisUrl } : { client: options.redis }),
      prefix,
      algorithm,
      commandTimeoutMs,
      onError: options.onError,
    });
    return {
      ...common,
      ...rest,
      store,
      memory: undefined,
      ownsStore: true,
      storeTimesItself: true,
    };
  }
  if (!isStore(kind)) {
    throw invalid('store', kind, "'memory', 'redis' or an object with consume() and reset()");
  }
  if (hasRedis) throw invalid('redis', 'redis options', "store 'redis' (your store has its own)");
  return {
    ...common,
    ...rest,
    store: kind,
    memory: undefined,
    ownsStore: false,
    storeTimesItself: false,
  };
}
