// The metrics history's extension point (HistoryStore) and the shapes it stores and answers: one
// rollup per minute, series of points per step.
import type { Duration } from '../../core/duration.js';
import type { HistogramBuckets } from '../../performance/types.js';

export type { HistogramBuckets };

/**
 * What one operation (one name and label set) did during one minute: its calls, errors, slow calls,
 * total time and the histogram of their durations. Buckets are the performance monitor's
 * (two significant digits over whole microseconds), so rollups of several minutes or processes
 * merge exactly.
 *
 * @example
 * ```ts
 * const rollup: OperationRollup = {
 *   name: 'GET /users', labels: { status_class: '2xx' },
 *   count: 3, errors: 0, slow: 0, sumMs: 31.5,
 *   histogram: { indexes: [1152, 1290], counts: [2, 1] },
 * };
 * ```
 */
export interface OperationRollup {
  name: string;
  labels: Readonly<Record<string, string>>;
  count: number;
  errors: number;
  slow: number;
  /** Sum of the durations, in milliseconds. */
  sumMs: number;
  histogram: HistogramBuckets;
}

/**
 * The samples of one figure (a gauge such as heap used, or a counter's increase such as cache hits)
 * during one minute: how many samples, their sum, smallest and largest.
 *
 * @example
 * ```ts
 * const heap: MetricRollup = { name: 'system.memory.heap_used', labels: {}, samples: 6, sum: 6.1e8, min: 9.9e7, max: 1.1e8 };
 * ```
 */
export interface MetricRollup {
  name: string;
  labels: Readonly<Record<string, string>>;
  samples: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Everything one recorder closed for one minute. `id` is unique per rollup and stays the same when
 * the write is retried, so a store counts a rollup once however often it is written.
 *
 * @example
 * ```ts
 * await store.write({ id: 'a1b2:29000000', at: Date.UTC(2025, 0, 1, 12, 0), operations: [], metrics: [] });
 * ```
 */
export interface MinuteRollup {
  id: string;
  /** Start of the minute, epoch milliseconds (a multiple of 60,000). */
  at: number;
  operations: readonly OperationRollup[];
  metrics: readonly MetricRollup[];
}

/** A point in time: epoch milliseconds, a `Date`, or an ISO 8601 string. */
export type HistoryTime = number | Date | string;

/**
 * A query of one operation's history. Label sets whose labels include every pair of `labels` are
 * merged (all of them without `labels`).
 *
 * @example
 * ```ts
 * const query: HistoryQuery = { operation: 'GET /users', from: Date.now() - 3_600_000, to: Date.now(), step: '5m' };
 * ```
 */
export interface HistoryQuery {
  operation: string;
  labels?: Readonly<Record<string, string>>;
  /** Start, inclusive; rounded down to the minute (to the hour when hours are read). */
  from: HistoryTime;
  /** End, exclusive. */
  to: HistoryTime;
  /** Length of each point: seconds or a string such as `'5m'`; a whole number of minutes. */
  step: Duration;
}

/** A query of one figure's history; see {@link HistoryQuery}. */
export interface MetricQuery {
  metric: string;
  labels?: Readonly<Record<string, string>>;
  from: HistoryTime;
  to: HistoryTime;
  step: Duration;
}

/** Which rollups answered a query: minutes, or the hours they were merged into. */
export type HistoryResolution = 'minute' | 'hour';

/**
 * One step of an operation's history. Percentiles are read from the merged histogram of every
 * minute and label set in the step (within 1 % of the exact value), `null` when there was no call.
 */
export interface HistoryPoint {
  /** Start of the step, epoch milliseconds. */
  at: number;
  count: number;
  errors: number;
  /** `errors / count`, 0 without calls. */
  errorRate: number;
  slow: number;
  /** Calls per second over the step. */
  rate: number;
  meanMs: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  /** The upper end of the slowest call's bucket. */
  maxMs: number | null;
}

/** Fields shared by the series a query answers. */
interface SeriesHeader {
  /** The label filter of the query (`{}` without one). */
  labels: Record<string, string>;
  /** How many label sets the points merge. */
  labelSets: number;
  /** Start of the first point. */
  from: number;
  /** End of the last point. */
  to: number;
  stepMs: number;
  resolution: HistoryResolution;
}

/** The answer to a {@link HistoryQuery}: one point per step from `from` to `to`, empty ones too. */
export interface HistorySeries extends SeriesHeader {
  operation: string;
  points: HistoryPoint[];
}

/** One step of a figure's history; `null`s when no sample fell in it. */
export interface MetricPoint {
  at: number;
  samples: number;
  sum: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

/** The answer to a {@link MetricQuery}. */
export interface MetricSeries extends SeriesHeader {
  metric: string;
  points: MetricPoint[];
}

/** A series a store holds: an operation or a figure, with one label set. */
export interface SeriesInfo {
  kind: 'operation' | 'metric';
  name: string;
  labels: Record<string, string>;
}

/**
 * How long a store keeps rollups: minutes for `minutes`, then only the hours they were merged into,
 * for `hours`.
 *
 * @example
 * ```ts
 * const retention: HistoryRetentionOptions = { minutes: '48h', hours: '90d' };
 * ```
 */
export interface HistoryRetentionOptions {
  /** @defaultValue '48h' */
  minutes?: Duration;
  /** At least `minutes`. @defaultValue '90d' */
  hours?: Duration;
}

/**
 * Where the metrics history is kept: per-minute rollups, merged into hours as they are written,
 * each kept for its retention, and queried as series of points with exact merged percentiles.
 * Implementations: {@link MemoryHistoryStore} (one process, the default), {@link RedisHistoryStore}
 * and {@link PostgresHistoryStore} (shared by a deployment). `describeHistoryStore` in
 * `@revcopy/enterprise/testing` checks an implementation against this contract.
 *
 * @example
 * ```ts
 * const store: HistoryStore = new MemoryHistoryStore();
 * const series = await store.query({ operation: 'GET /users', from: Date.now() - 3_600_000, to: Date.now(), step: '1m' });
 * console.log(series.points.at(-1)?.p99);
 * ```
 */
export interface HistoryStore {
  /** `memory`, `redis`, `postgres`, ... */
  readonly name: string;
  /** How long minutes and hours are kept, in milliseconds. */
  readonly retention: { readonly minutesMs: number; readonly hoursMs: number };
  /**
   * Adds a rollup to its minute and to the minute's hour. A rollup whose `id` was written before
   * is ignored, so a write retried after a lost reply counts once.
   */
  write(rollup: MinuteRollup): Promise<void>;
  /**
   * An operation's history. Rejects with a `HistoryQueryError` naming the parameter for a bad
   * range or step, too many points, an unknown operation or labels no label set has.
   */
  query(query: HistoryQuery): Promise<HistorySeries>;
  /** A figure's history; same rules as {@link HistoryStore.query}. */
  queryMetric(query: MetricQuery): Promise<MetricSeries>;
  /** The operations and figures held, one entry per label set. */
  series(): Promise<SeriesInfo[]>;
  /** Deletes what the retention no longer keeps (stores whose keys expire by themselves may not need to). */
  prune(): Promise<void>;
  /** Releases connections the store opened. Idempotent. */
  close(): Promise<void>;
}
