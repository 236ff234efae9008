// The shapes of the cluster view: what each instance publishes with its heartbeat, and what the
// view answers for the whole deployment.
import type { WindowName } from '../../performance/types.js';
import type { HistoryPoint, HistorySeries, MetricPoint, MetricSeries } from '../history/types.js';

/**
 * One instance of the deployment, as its heartbeat describes it.
 *
 * @example
 * ```ts
 * const alive: ClusterInstance = { id: 'a1b2c3d4', host: 'web-1', pid: 4242, startedAt: '2026-01-01T12:00:00.000Z', lastSeenAt: '2026-01-01T12:05:10.000Z' };
 * ```
 */
export interface ClusterInstance {
  id: string;
  host: string;
  pid: number;
  /** When the instance's cluster view started, ISO 8601. */
  startedAt: string;
  /** Its last heartbeat, ISO 8601. */
  lastSeenAt: string;
}

/** One operation over one window as counts and histogram buckets (arrays, JSON-ready). */
export interface PublishedWindow {
  count: number;
  errors: number;
  slow: number;
  sumMs: number;
  minMs: number | null;
  maxMs: number | null;
  coveredSeconds: number;
  indexes: number[];
  counts: number[];
}

/** One operation (name and label set) of one instance, over every window. */
export interface PublishedOperation {
  name: string;
  labels: Record<string, string>;
  windows: Record<WindowName, PublishedWindow>;
}

/** The cache counters an instance publishes (running totals since it started). */
export interface CacheCounters {
  hits: number;
  misses: number;
  tiers: { name: string; hits: number; misses: number; sets: number; errors: number }[];
  namespaces: Record<string, { hits: number; misses: number; sets: number; loaderErrors: number }>;
}

/** The task counters an instance publishes: its own workers' throughput and totals. */
export interface TaskCounters {
  throughput: { completedPerSecond: number; failedPerSecond: number };
  totals: { completed: number; failed: number; retried: number; dead: number };
}

/** What one instance publishes with each heartbeat. */
export interface InstanceSnapshot {
  instance: ClusterInstance;
  operations: PublishedOperation[];
  cache: CacheCounters | null;
  tasks: TaskCounters | null;
}

/** Statistics of one window merged over instances; percentiles read from the summed buckets. */
export interface ClusterWindowStats {
  count: number;
  errors: number;
  errorRate: number;
  slow: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  totalMs: number;
  /** Calls per second: the sum of every instance's rate. */
  throughput: number;
  coveredSeconds: number;
}

/** One operation of the deployment: merged windows and each instance's own. */
export interface ClusterOperationStats {
  name: string;
  labels: Record<string, string>;
  windows: Record<WindowName, ClusterWindowStats>;
  instances: { instance: string; windows: Record<WindowName, ClusterWindowStats> }[];
}

/** Fields every cluster answer carries. */
export interface ClusterHeader {
  scope: 'cluster';
  generatedAt: string;
  /** The instances whose heartbeat has not expired, this one first. */
  instances: ClusterInstance[];
}

/** `GET /performance/summary?scope=cluster`. */
export interface ClusterPerformanceSummary extends ClusterHeader {
  operations: ClusterOperationStats[];
}

/** `GET /cache/analytics?scope=cluster`: counters summed over instances, and each one's. */
export interface ClusterCacheSummary extends ClusterHeader, CacheCounters {
  enabled: boolean;
  hitRatio: number;
  byInstance: { instance: string; hits: number; misses: number; hitRatio: number }[];
}

/** The task part of a cluster answer: throughput and totals summed over instances, and each one's. */
export interface ClusterTaskFigures {
  throughput: TaskCounters['throughput'];
  totals: TaskCounters['totals'];
  byInstance: ({ instance: string } & TaskCounters)[];
}

/** A history series of the deployment, with each instance's points. */
export interface ClusterHistorySeries extends HistorySeries {
  scope: 'cluster';
  byInstance: { instance: string; points: HistoryPoint[] }[];
}

/** A figure's history over the deployment, with each instance's points. */
export interface ClusterMetricSeries extends MetricSeries {
  scope: 'cluster';
  byInstance: { instance: string; points: MetricPoint[] }[];
}
