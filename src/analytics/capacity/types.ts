import type { Duration } from '../../core/duration.js';
import type { MetricQuery, MetricSeries, SeriesInfo } from '../history/types.js';

/**
 * A resource or queue watched for capacity: a figure of the metrics history and the value it must
 * stay under. Without `labels`, every label set of the figure is forecast on its own (each task
 * queue, say).
 *
 * @example
 * ```ts
 * const limit: CapacityLimit = { metric: 'tasks.queue.waiting', limit: 5_000, name: 'queue depth' };
 * ```
 */
export interface CapacityLimit {
  /** The figure (`system.memory.heap_used`, `tasks.queue.waiting`...). */
  metric: string;
  /** The value it must stay under: a number, or a function read at each forecast (`undefined`: skip). */
  limit: number | (() => number | undefined);
  /** Only this label set (all label sets of the figure otherwise, each forecast on its own). */
  labels?: Record<string, string>;
  /** A short name for reports (default: the metric). */
  name?: string;
  /** `'bytes'`, `'ms'`, `'ratio'`, `'tasks'`...: how reports print values. */
  unit?: string;
  /** Which value of each step is modelled: its `mean` (default) or its `max`. */
  use?: 'mean' | 'max';
}

/** Options of {@link CapacityPlanner.forecast}. */
export interface CapacityQuery {
  /** How much history the model is fitted on. @defaultValue the planner's (`'24h'`) */
  lookback?: Duration;
  /** How far ahead a crossing is looked for. @defaultValue the planner's (`'30d'`) */
  horizon?: Duration;
  /** The end of the history used: epoch milliseconds, a `Date` or ISO 8601. @defaultValue now */
  at?: number | Date | string;
  /** Of the prediction interval, 0.5 to 0.999. @defaultValue the planner's (0.95) */
  confidence?: number;
}

/**
 * The forecast of one resource: where it is, its trend, and when it reaches its limit, with the
 * earliest and latest times the prediction interval allows.
 */
export interface CapacityForecast {
  name: string;
  metric: string;
  labels: Record<string, string>;
  unit: string | undefined;
  limit: number;
  /**
   * `exceeded` (at or above the limit now), `critical` (expected within a day), `warning` (within
   * the horizon), `ok` (not within the horizon), `insufficient-data` (fewer than 6 points).
   */
  status: 'ok' | 'warning' | 'critical' | 'exceeded' | 'insufficient-data';
  /** The last observed value. */
  current: number | null;
  /** The model's current level (smoothed). */
  level: number | null;
  /** The model's trend, per hour. */
  trendPerHour: number | null;
  /** `current / limit`. */
  utilisation: number | null;
  /** When the expected value reaches the limit (ISO 8601), `null` if not within the horizon. */
  reachesAt: string | null;
  /** When the upper bound of the interval reaches it: the earliest plausible time. */
  earliestAt: string | null;
  /** When the lower bound reaches it: the latest plausible time (`null`: maybe never, within the horizon). */
  latestAt: string | null;
  /** Points the model was fitted on. */
  points: number;
  /** The observed series (at, value) and the forecast (at, mean, lower, upper), for charts. */
  observed: [number, number][];
  forecast: [number, number, number, number][];
}

/** The answer of {@link CapacityPlanner.forecast}. */
export interface CapacityReport {
  /** The end of the history used, ISO 8601. */
  at: string;
  lookbackMs: number;
  horizonMs: number;
  stepMs: number;
  confidence: number;
  model: 'holt-linear';
  resources: CapacityForecast[];
}

/** What the planner reads: the metrics history (an instance's `history`, or any store). */
export interface CapacityHistory {
  queryMetric(query: MetricQuery): Promise<MetricSeries>;
  series(): Promise<SeriesInfo[]>;
}
