// The root entry: every module, composed.
import './compose/cache.js';
import './compose/tasks.js';
import './compose/security.js';
import './compose/analytics.js';
import './compose/reports.js';
import './compose/alerts.js';
import './compose/resilience.js';
import './compose/maintenance.js';

export {
  Analytics,
  AnalyticsConfigError,
  type AnalyticsOptions,
  AnalyticsQueryError,
  type AnalyticsStats,
  type AnalyticsStore,
  AnalyticsStoreError,
  CapacityConfigError,
  type CapacityForecast,
  type CapacityLimit,
  CapacityPlanner,
  CapacityQueryError,
  type CapacityReport,
  cacheFigures,
  type EventsQuery,
  type EventsReport,
  type FunnelOptions,
  type FunnelReport,
  type GenerateOptions,
  type HistoryFigure,
  type HistoryFigureSource,
  type HistoryQuery,
  HistoryQueryError,
  HistoryRecorder,
  type HistoryRecorderOptions,
  type HistorySeries,
  type HistoryStore,
  HistoryStoreError,
  MemoryAnalyticsStore,
  MemoryHistoryStore,
  type MetricQuery,
  type MetricSeries,
  MetricsHistory,
  type OverviewFigures,
  PostgresHistoryStore,
  RedisAnalyticsStore,
  RedisHistoryStore,
  type RenderedReport,
  ReportConfigError,
  type ReportContext,
  type ReportData,
  type ReportDefinitionOptions,
  ReportDeliveryError,
  type ReportFormat,
  type ReportInfo,
  ReportQueryError,
  type ReportRunner,
  type ReportRunResult,
  type ReportSection,
  Reports,
  type RetentionReport,
  type SectionContent,
  systemFigures,
  type TrackOptions,
  taskFigures,
} from './analytics/index.js';
export type {
  CapacityModuleOptions,
  EnterpriseAnalyticsOptions,
  HistoryModuleOptions,
  ReportsModuleOptions,
} from './analytics/module-options.js';
export {
  Cache,
  CacheCodecError,
  Cached,
  type CachedOptions,
  CacheEvict,
  type CacheEvictOptions,
  CacheKeyConflictError,
  CacheLoaderTimeoutError,
  CachePut,
  CacheTierError,
  cache,
  cached,
  cacheKeyOf,
  createCache,
  memoryTier,
  postgresTier,
  redisTier,
  sqliteTier,
} from './cache/index.js';
export type { CacheOptions } from './cache/options.js';
export { REPORT_TASK } from './compose/reports.js';
export type { Clock } from './core/clock.js';
export type { ConfigOptions, PerformanceOptions, ResolvedConfig } from './core/config.js';
export { DEFAULT_BUCKETS, resolveConfig } from './core/config.js';
export {
  type ActiveSpan,
  type ContextOptions,
  getContext,
  getCorrelationId,
  getTraceContext,
  isValidCorrelationId,
  type RequestContext,
  withContext,
} from './core/context.js';
export {
  type AnyFunction,
  assertFactoryCall,
  createMethodDecorator,
  type DecoratedMethod,
  type DualMethodDecorator,
} from './core/decorators.js';
export { type Duration, type DurationUnit, parseDuration } from './core/duration.js';
export {
  ConfigError,
  EnterpriseError,
  InvalidArgumentError,
  LifecycleError,
  MissingDependencyError,
} from './core/errors.js';
export type {
  DrainContext,
  DrainHook,
  DrainReport,
  DrainTarget,
  ShutdownOptions,
  ShutdownSignal,
} from './core/graceful-shutdown.js';
export type { LifecycleState } from './core/lifecycle.js';
export type { Logger, LoggerLike, LogLevel } from './core/logger.js';
export type { DrainableServer } from './core/server-drain.js';
export {
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  type TraceContext,
} from './core/trace-context.js';
export { configure, getEnterprise } from './enterprise/process-default.js';
export {
  type BuiltOnUse,
  createEnterprise,
  Enterprise,
  type EnterpriseOptions,
  type StartOptions,
} from './enterprise.js';
export {
  type BackupDocument,
  type ExportStateOptions,
  type ImportStateOptions,
  type ImportStateResult,
  MAINTENANCE_TASKS,
  Maintenance,
  MaintenanceBackupError,
  MaintenanceConfigError,
  type MaintenanceOptions,
  type MaintenanceRunResult,
  MaintenanceTaskError,
  type MaintenanceTaskName,
  type MaintenanceTaskStatus,
  MaintenanceTimeoutError,
  MaintenanceUnknownTaskError,
  type RetentionRule,
} from './maintenance/index.js';
export {
  MonitorPerformance,
  monitorPerformance,
  OVERFLOW_OPERATION,
  PerformanceMonitor,
  type PromClientRegistryLike,
  performanceContext,
  performanceMonitor,
  type RecordOptions,
  registerPrometheus,
} from './performance/index.js';
export type * from './performance/types.js';
export {
  Breaker,
  BreakerRegistry,
  type BreakerSnapshot,
  type BreakerState,
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitConfigError,
  CircuitOpenError,
  CircuitTimeoutError,
  circuitBreaker,
  defaultBreakerRegistry,
  type HealthCheckOptions,
  HealthRegistry,
  health,
  withCircuitBreaker,
} from './resilience/index.js';
export type { TaskOptions } from './tasks/options.js';
