import type { Clock } from '../core/clock.js';
import type { Duration } from '../core/duration.js';
import type { LoggerLike } from '../core/logger.js';
import type { RedisClient } from '../redis/client.js';
import type { CacheCodec, CodecOptions } from './codec.js';
import type { TierGuardOptions } from './tier-guard.js';
import type { CacheTier, DistributedLock, InvalidationBus } from './types.js';

/**
 * Options of `createCache()` and of `createEnterprise({ cache })`. Everything is optional: with
 * nothing set the cache is one in-process tier; with `REDIS_URL` (or `redisUrl`, or `redis`) it is
 * a memory + Redis pair with an invalidation bus between instances.
 *
 * @example
 * ```ts
 * createCache({
 *   tiers: [memoryTier({ maxSize: 50_000, maxTtlMs: 60_000 }), redisTier({ url }), postgresTier({ pool })],
 *   defaultTtl: '10m',
 *   grace: '1h',
 *   codec: { compression: { thresholdBytes: 2048 } },
 * });
 * ```
 */
export interface CacheEngineOptions {
  /** Default time to live. Env: `CACHE_DEFAULT_TTL`. @defaultValue 3600 (seconds) */
  defaultTtl?: Duration;
  /** Entries of the default memory tier. Env: `CACHE_MAX_SIZE`. @defaultValue 10000 */
  maxSize?: number;
  /**
   * The tiers, fastest first. Any subset and order works. Defaults to a memory tier, followed by a
   * Redis tier when `redis` or `redisUrl` (or `REDIS_URL`) is given. The cache owns the tiers it is
   * given: `close()` closes them (a client or pool passed to a tier stays open). Share a client
   * between caches, not a tier.
   */
  tiers?: readonly CacheTier<any>[];
  /** A Redis URL for the default Redis tier, lock and bus. Env: `REDIS_URL`. */
  redisUrl?: string;
  /** An ioredis client or Cluster for the default Redis tier, lock and bus; never closed by the cache. */
  redis?: RedisClient;
  /** Key prefix of the default Redis tier and channel prefix of its bus. @defaultValue 'enterprise:cache' */
  prefix?: string;
  /** The namespace of calls that name none. @defaultValue 'default' */
  namespace?: string;
  /**
   * Default grace period: how long after its TTL a value may still be served by `getOrSet` while
   * it is refreshed, or when the loader or a tier fails. @defaultValue 0 (no grace)
   */
  grace?: Duration;
  /**
   * After a loader fails and a stale value is served, that value counts as fresh in the memory
   * tier for this long, so a source that is down is not called by every request. `0` turns it off.
   * @defaultValue 10 (seconds)
   */
  failSafeThrottle?: Duration;
  /** How values are serialized for remote tiers, or a codec to share. */
  codec?: CodecOptions | CacheCodec;
  /** Invalidation bus between instances; `false` for none. Defaults to Redis pub/sub with Redis. */
  bus?: InvalidationBus | false;
  /** Lock for `getOrSet({ lock: true })`. Defaults to a Redis lock with Redis. */
  lock?: DistributedLock;
  /** Timeout and circuit breaker of each remote tier. */
  remote?: TierGuardOptions;
}

/** Options of `createCache()`: the engine options, plus the logger and clock of a standalone cache. */
export interface CacheSettings extends CacheEngineOptions {
  /** A pino-compatible logger. @defaultValue a pino logger writing JSON to stdout */
  logger?: LoggerLike;
  /** Time source, for tests. @defaultValue the system clock */
  clock?: Clock;
}

/** Options of the cache module, as `createEnterprise({ cache })` takes them; see docs/cache.md. */
export type CacheOptions = CacheEngineOptions;
