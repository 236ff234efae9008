export { type BreakerReading, type BreakerStateReader, breakerSources } from './breakers.js';
export {
  type CacheReader,
  type CacheSourceOptions,
  cacheSources,
} from './cache.js';
export { type HealthSourceOptions, healthSources } from './health.js';
export {
  type PerformanceReader,
  type PerformanceSourceOptions,
  performanceSources,
} from './performance.js';
export { type SecurityScoreReader, securitySources } from './security.js';
export { type TaskSourceOptions, type TaskStatsReader, taskSources } from './tasks.js';
