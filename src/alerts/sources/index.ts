export {
  type CacheReader,
  type CacheSourceOptions,
  cacheSources,
} from './cache.js';
export { healthSources } from './health.js';
export {
  type PerformanceReader,
  type PerformanceSourceOptions,
  performanceSources,
} from './performance.js';
export { type SecurityScoreReader, securitySources } from './security.js';
export { type TaskSourceOptions, type TaskStatsReader, taskSources } from './tasks.js';
