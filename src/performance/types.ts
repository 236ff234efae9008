import type { Clock } from '../core/clock.js';
import type { ResolvedConfig } from '../core/config.js';

/** A span attribute value. Attributes describe one call (for events, logs and OpenTelemetry). */
export type AttributeValue = string | number | boolean;

/** Span attributes: metadata of one call, never a dimension of the statistics. */
export type Attributes = Readonly<Record<string, AttributeValue>>;

/**
 * Labels: low-cardinality dimensions of the statistics and of the Prometheus series, such as
 * `{ route: '/users/:id', method: 'GET', status_class: '2xx' }`. Never put ids or raw paths here:
 * each distinct label set is a separate series, capped by `PERFORMANCE_MAX_METRICS`.
 */
export type Labels = Readonly<Record<string, string | number | boolean>>;

/** Options of `@MonitorPerformance`, `monitorPerformance`, `performanceContext` and `wrap`. */
export interface MonitorOptions {
  /** Operation name. Decorated methods default to `Class.method`; the other forms require it. */
  name?: string;
  /** Slow-call threshold for this operation, in milliseconds; `Infinity` disables slow events. */
  thresholdMs?: number;
  /** Span attributes attached to the slow event and the OpenTelemetry span. */
  attributes?: Attributes;
  /** Statistic dimensions (see {@link Labels}). */
  labels?: Labels;
}

/** The rolling windows every operation is summarised over. */
export type WindowName = '1m' | '5m' | '15m' | 'all';

/** Statistics of one operation over one window. Durations are milliseconds. */
export interface WindowStats {
  /** Calls that finished in the window. */
  count: number;
  /** Calls that threw or rejected. */
  errors: number;
  /** `errors / count`, 0 when there were no calls. */
  errorRate: number;
  /** Calls slower than the threshold. */
  slow: number;
  /** `null` when there were no calls (as are the other latency figures). */
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  /** Sum of all durations. */
  totalMs: number;
  /** Calls per second over the time the window covers. */
  throughput: number;
  /** Seconds of time the window covers (shorter than its name while the process is young). */
  coveredSeconds: number;
}

/** Statistics of one operation (one name and label set). */
export interface OperationStats {
  name: string;
  labels: Record<string, string>;
  /** The threshold applied to this operation, in milliseconds; `null` when slow events are off. */
  thresholdMs: number | null;
  /** Wall-clock time of the last call, as an ISO 8601 string. */
  lastCallAt: string | null;
  windows: Record<WindowName, WindowStats>;
}

/** Emitted as `slow` when a call takes longer than its threshold. */
export interface SlowEvent {
  name: string;
  labels: Record<string, string>;
  durationMs: number;
  thresholdMs: number;
  attributes: Attributes;
  /** Correlation id of the request context the call ran in, if any. */
  correlationId: string | undefined;
  /** W3C trace id of the context the call ran in, when it had a trace. */
  traceId?: string;
  /** Name of the span the call ran in, if any. */
  parent: string | undefined;
  /** Whether the call threw or rejected. */
  error: boolean;
  /** Wall-clock time the call finished, ISO 8601. */
  timestamp: string;
}

/** Emitted as `overflow` the first time an operation cannot be tracked because the cap is reached. */
export interface OverflowEvent {
  name: string;
  labels: Record<string, string>;
  maxMetrics: number;
}

/** Emitted as `span` when a span finishes (only while someone listens). */
export interface SpanEvent {
  name: string;
  labels: Record<string, string>;
  attributes: Attributes;
  durationMs: number;
  error: boolean;
  correlationId: string | undefined;
  /** W3C trace id of the context the call ran in, when it had a trace. */
  traceId?: string;
  /** Names of the enclosing spans, innermost first. */
  parents: string[];
}

/** The events of a performance monitor. */
export interface PerformanceEvents {
  slow: [event: SlowEvent];
  overflow: [event: OverflowEvent];
  span: [event: SpanEvent];
}

/** One entry of a bottleneck ranking. */
export interface Bottleneck {
  name: string;
  labels: Record<string, string>;
  /** Share of the total time of all operations in the window, 0 to 1. */
  share: number;
  totalMs: number;
  count: number;
  mean: number | null;
  p95: number | null;
}

/** The result of `bottlenecks()`. */
export interface BottleneckReport {
  window: WindowName;
  /** Operations ranked by their share of total time spent, largest first. */
  byTotalTime: Bottleneck[];
  /** Operations ranked by p95 latency, slowest first. */
  byLatency: Bottleneck[];
}

/** Options of `bottlenecks()`. */
export interface BottleneckOptions {
  /** @defaultValue '5m' */
  window?: WindowName;
  /** Entries per ranking. @defaultValue 10 */
  limit?: number;
}

/** A sample of process-wide metrics. Times are milliseconds, sizes bytes. */
export interface SystemMetricsSnapshot {
  sampledAt: string;
  cpu: {
    /** CPU time used since the previous sample, as a percentage of one core. */
    percent: number;
    userSeconds: number;
    systemSeconds: number;
  };
  memory: {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
    arrayBuffers: number;
  };
  eventLoop: {
    /** Event-loop delay since the previous sample. */
    delayP50Ms: number;
    delayP99Ms: number;
    delayMaxMs: number;
    /** Fraction of time the event loop was busy since the previous sample, 0 to 1. */
    utilization: number;
  };
  gc: {
    /** Collections and pause time since the sampler started, by kind. */
    byKind: Record<string, { count: number; totalMs: number }>;
    /** Longest pause since the previous sample. */
    maxPauseMs: number;
  };
}

/** Everything the monitor knows, as one JSON-serializable object. */
export interface PerformanceSummary {
  generatedAt: string;
  uptimeSeconds: number;
  thresholdMs: number;
  operations: OperationStats[];
  overflow: { calls: number; maxMetrics: number };
  bottlenecks: BottleneckReport;
  system: SystemMetricsSnapshot | null;
}

/**
 * The non-empty buckets of a duration histogram: HdrHistogram's layout with two significant digits
 * over whole microseconds (every value is known to within 1 %), as parallel arrays in index order.
 * Bucket counts add up exactly, so histograms of several minutes or processes merge into the
 * histogram of all their calls.
 */
export interface HistogramBuckets {
  /** Bucket indexes, ascending. */
  readonly indexes: ArrayLike<number>;
  /** The count of each bucket in `indexes`. */
  readonly counts: ArrayLike<number>;
}

/** Everything one operation (one name and label set) recorded since its statistics began. */
export interface OperationTotals {
  name: string;
  labels: Readonly<Record<string, string>>;
  count: number;
  errors: number;
  slow: number;
  /** Sum of all durations, in milliseconds. */
  sumMs: number;
  histogram: HistogramBuckets;
}

/**
 * What one operation recorded over one window, with the window's histogram buckets: the raw parts
 * of a {@link WindowStats}, which add up across processes (counts, buckets) where percentiles do not.
 */
export interface WindowTotals {
  count: number;
  errors: number;
  slow: number;
  /** Sum of the durations, in milliseconds. */
  sumMs: number;
  /** Fastest and slowest call, `null` without calls. */
  minMs: number | null;
  maxMs: number | null;
  /** Seconds of time the window covers (see {@link WindowStats.coveredSeconds}). */
  coveredSeconds: number;
  histogram: HistogramBuckets;
}

/** One operation (one name and label set) over every window, as `operationWindows()` returns it. */
export interface OperationWindows {
  name: string;
  labels: Readonly<Record<string, string>>;
  windows: Record<WindowName, WindowTotals>;
}

/**
 * The result of `operationTotals()`. `generation` changes when the monitor is reset: totals of
 * different generations must not be subtracted from one another.
 */
export interface OperationTotalsSnapshot {
  generation: number;
  operations: OperationTotals[];
}

/** @internal What a monitor is built from: the performance configuration and the clock. */
export type MonitorSettings = ResolvedConfig['performance'] & { clock: Clock };
