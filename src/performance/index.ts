export { performanceMonitor } from './default-monitor.js';
export { OVERFLOW_OPERATION, PerformanceMonitor, type RecordOptions } from './monitor.js';
export {
  MonitorPerformance,
  monitorPerformance,
  performanceContext,
} from './monitor-performance.js';
export { type PromClientRegistryLike, registerPrometheus } from './prom-client-bridge.js';
export type { MetricFamily } from './prometheus.js';
export type * from './types.js';
