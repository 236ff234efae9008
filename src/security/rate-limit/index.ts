export { RATE_LIMIT_BODY_TYPE, rateLimitBody, rateLimitHeaders } from './headers.js';
export { createRateLimiter, RateLimiter } from './limiter.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './memory-store.js';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-store.js';
export type {
  LimiterDecision,
  RateLimitAlgorithm,
  RateLimiterEvents,
  RateLimiterOptions,
  RateLimiterStats,
} from './types.js';
