export { Analytics } from './analytics.js';
export { DAY_MS, dayLabel, dayOf, HOUR_MS, hourOf, WEEK_MS, weekOf, weekStart } from './buckets.js';
export { AnalyticsConfigError, AnalyticsQueryError, AnalyticsStoreError } from './errors.js';
export { HyperLogLog } from './hyperloglog.js';
export { MemoryAnalyticsStore } from './memory-store.js';
export {
  type MiddlewareAnalyticsOptions,
  type RequestUsage,
  requestUsageEvent,
} from './middleware-option.js';
export type { AnalyticsOptions, FunnelOptions } from './options.js';
export { Pseudonymiser } from './pseudonym.js';
export type {
  EventsQuery,
  EventsReport,
  FunnelReport,
  OverviewFigures,
  RetentionReport,
} from './queries.js';
export type { Instant, RangeQuery } from './query-params.js';
export type { RecentEvent } from './recent-events.js';
export { RedisAnalyticsStore, type RedisAnalyticsStoreOptions } from './redis-store.js';
export type {
  AnalyticsEvents,
  AnalyticsStats,
  DropReason,
  TrackOptions,
} from './tracking-types.js';
export type {
  AnalyticsBatch,
  AnalyticsModel,
  AnalyticsStore,
  CohortCounts,
  CohortDefinition,
  DayRange,
  FunnelDefinition,
  HourCounts,
  TrackedEvent,
} from './types.js';
