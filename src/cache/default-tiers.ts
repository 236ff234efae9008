import { createClient, type RedisClient } from '../redis/client.js';
import type { CacheSettings } from './options.js';
import { RedisInvalidationBus } from './redis-bus.js';
import { RedisLock } from './redis-lock.js';
import { MemoryTier } from './tiers/memory.js';
import { RedisTier } from './tiers/redis.js';
import type { CacheTier } from './types.js';

/**
 * @internal Where a cache's bus and lock come from when its options name none: the members a tier
 * may offer, or the same on a Redis client of the options.
 */
export type Coordination = Pick<CacheTier<unknown>, 'invalidationBus' | 'distributedLock'>;

/** @internal What {@link defaultTiers} resolved from a cache's settings. */
export interface TierSetup {
  /** The tiers given, or the default ones (memory, then Redis when a client or URL is set). */
  tiers: readonly CacheTier<any>[] | undefined;
  /** The connection created from `redisUrl`: the cache quits it on close. */
  client?: RedisClient;
  /** Bus and lock on the `redis` option (or the client made from `redisUrl`), when set. */
  coordination?: Coordination;
}

/**
 * @internal The one place that knows the concrete tiers: the default pair (memory, then
 * Redis on `redis` or `redisUrl`) when no `tiers` are given, and the coordination of an explicit
 * Redis client. The engine itself sees only {@link CacheTier}s.
 */
export function defaultTiers(
  settings: CacheSettings,
  onConnectionError: (error: Error) => void,
): TierSetup {
  let redis = settings.redis;
  let client: RedisClient | undefined;
  let tiers = settings.tiers;
  if (tiers === undefined) {
    if (redis === undefined && settings.redisUrl !== undefined) {
      // ioredis' own command timeout is left a little longer than the tier guard's, so a stalled
      // call is reported as the guard's timeout; it still frees the client's command queue.
      redis = createClient(
        settings.redisUrl,
        (settings.remote?.timeoutMs ?? 500) + 250,
        onConnectionError,
      );
      client = redis;
    }
    const built: CacheTier<any>[] = [new MemoryTier({ maxSize: settings.maxSize ?? 10_000 })];
    if (redis !== undefined) built.push(new RedisTier({ client: redis, prefix: settings.prefix }));
    tiers = built;
  }
  if (redis === undefined) return { tiers };
  // An explicit client carries the bus and the lock even beside explicit tiers. Their prefixes
  // default separately (the lock's to 'enterprise:lock'), as they always have.
  const shared = redis;
  const prefix = settings.prefix;
  return {
    tiers,
    ...(client === undefined ? {} : { client }),
    coordination: {
      invalidationBus: (hooks) => new RedisInvalidationBus({ client: shared, prefix, ...hooks }),
      distributedLock: () => new RedisLock({ client: shared, prefix }),
    },
  };
}
