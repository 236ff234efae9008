import { OVERFLOW_OPERATION } from '../performance/performance-monitor.js';
import {
  DB_QUERY_OPERATION,
  type SlowQuery,
  slowestQueries,
} from '../performance/query-timings.js';
import type { WindowName } from '../performance/types.js';
import type { MonitoredInstance } from './monitored-instance.js';

export {
  DB_QUERY_OPERATION,
  instrumentPg,
  monitorQuery,
  type PgQueryable,
  type QueryMonitorOptions,
  type SlowQuery,
} from '../performance/query-timings.js';

/** Statistics of one statement fingerprint over one window (milliseconds). */
export interface StatementStats {
  statement: string;
  count: number;
  errors: number;
  errorRate: number;
  /** Queries per second over the window. */
  throughput: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  totalMs: number;
}

/** The body of `GET /database/performance`. */
export interface DatabasePerformance {
  window: WindowName;
  /** Every statement seen in the window, by total time spent, largest first. */
  statements: StatementStats[];
  /** The slowest queries of the last 15 minutes, slowest first. */
  slowest: SlowQuery[];
  /** Queries recorded under the `_overflow` operation because `PERFORMANCE_MAX_METRICS` was reached. */
  overflowed: boolean;
}

/**
 * @internal The body of `GET /database/performance`: the `db.query` operations of `enterprise`
 * over `window`, by total time, and its slowest recent queries.
 */
export function databasePerformance(
  enterprise: MonitoredInstance,
  window: WindowName,
): DatabasePerformance {
  const monitor = enterprise.performance;
  const statements: StatementStats[] = [];
  for (const operation of monitor.operations()) {
    if (operation.name !== DB_QUERY_OPERATION) continue;
    const stats = operation.windows[window];
    if (stats.count === 0) continue;
    statements.push({
      statement: operation.labels.statement ?? '',
      count: stats.count,
      errors: stats.errors,
      errorRate: stats.errorRate,
      throughput: stats.throughput,
      mean: stats.mean,
      p50: stats.p50,
      p95: stats.p95,
      p99: stats.p99,
      max: stats.max,
      totalMs: stats.totalMs,
    });
  }
  const overflowed = monitor.getStats(OVERFLOW_OPERATION) !== undefined;
  statements.sort((a, b) => b.totalMs - a.totalMs);
  return { window, statements, slowest: slowestQueries(monitor), overflowed };
}
