export {
  MonitorPerformance,
  monitorPerformance,
  performanceContext,
} from './decorator.js';
export { performanceMonitor } from './default-monitor.js';
export {
  OVERFLOW_OPERATION,
  PerformanceMonitor,
  type RecordOptions,
} from './performance-monitor.js';
export { type PromClientRegistryLike, registerPrometheus } from './prom-client-bridge.js';
export type { MetricFamily } from './prometheus.js';
export {
  DB_QUERY_OPERATION,
  instrumentPg,
  monitorQuery,
  type PgQueryable,
  type QueryMonitorOptions,
  type SlowQuery,
} from './query-timings.js';
export { sqlFingerprint } from './sql-fingerprint.js';
export type * from './types.js';
