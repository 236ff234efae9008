export { argumentKey } from './argument-key.js';
export { Cache, createCache, type LoaderContext } from './cache.js';
export {
  Cached,
  type CachedOptions,
  CacheEvict,
  type CacheEvictOptions,
  CachePut,
  cached,
} from './cached.js';
export { cacheKeyOf } from './cached-keys.js';
export {
  CacheCodec,
  type CodecOptions,
  type CodecStats,
  type CompressionAlgorithm,
  type CompressionOptions,
  type EncryptionOptions,
} from './codec.js';
export { cache } from './default-cache.js';
export {
  CacheCodecError,
  CacheKeyConflictError,
  CacheLoaderTimeoutError,
  CacheTierError,
} from './errors.js';
export type { HotRefreshReport } from './hot-keys.js';
export { storageKey } from './keys.js';
export type { CacheEngineOptions, CacheOptions, CacheSettings } from './options.js';
export { RedisInvalidationBus, type RedisInvalidationBusOptions } from './redis-bus.js';
export { RedisLock, type RedisLockOptions } from './redis-lock.js';
export type { TierGuardOptions } from './tier-guard.js';
export { MemoryTier, type MemoryTierOptions, memoryTier } from './tiers/memory.js';
export { PostgresTier, type PostgresTierOptions, postgresTier } from './tiers/postgres.js';
export { RedisTier, type RedisTierOptions, redisTier } from './tiers/redis.js';
export { SqliteTier, type SqliteTierOptions, sqliteTier } from './tiers/sqlite.js';
export type * from './types.js';
