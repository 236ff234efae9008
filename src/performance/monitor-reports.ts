import type { Logger } from '../core/logger.js';
import { OVERFLOW_OPERATION } from './monitor-warnings.js';
import {
  mergeCollected,
  type OperationSeries,
  seriesKey,
  toWindowStats,
} from './operation-series.js';
import type { MetricFamily, PrometheusInput } from './prometheus.js';
import type { SystemMetrics } from './system-metrics.js';
import type {
  Bottleneck,
  BottleneckOptions,
  BottleneckReport,
  MonitorSettings,
  OperationStats,
  OperationTotals,
  OperationWindows,
  PerformanceSummary,
  WindowName,
  WindowStats,
  WindowTotals,
} from './types.js';
import { checkLabels, checkName, invalidArgument } from './validation.js';

/** @internal The windows every operation is reported over. */
export const WINDOWS: readonly WindowName[] = ['1m', '5m', '15m', 'all'];

/**
 * @internal Statistics of one operation over every window: of its only series, or merged over
 * the series of its label sets (then without labels).
 */
export function statsOf(
  series: readonly OperationSeries[],
  now: number,
  clock: MonitorSettings['clock'],
): OperationStats {
  const first = series[0]!;
  const windows = {} as Record<WindowName, ReturnType<typeof toWindowStats>>;
  for (const window of WINDOWS) {
    const covered = Math.max(...series.map((s) => s.coveredSeconds(window, now)));
    windows[window] =
      series.length === 1
        ? first.stats(window, now)
        : toWindowStats(mergeCollected(series.map((s) => s.collect(window, now))), covered);
  }
  const lastCall = Math.max(...series.map((s) => s.lastCallAt));
  const epoch = clock.epochNow() - (now - lastCall);
  return {
    name: first.name,
    labels: series.length === 1 ? { ...first.labels } : {},
    thresholdMs: Number.isFinite(first.thresholdMs) ? first.thresholdMs : null,
    lastCallAt: Number.isFinite(lastCall) ? new Date(epoch).toISOString() : null,
    windows,
  };
}

/** @internal Ranks operations by share of total time and by p95 over already computed window statistics. */
export function rankBottlenecks(
  stats: readonly (readonly [OperationSeries, WindowStats])[],
  window: WindowName,
  limit: number,
): BottleneckReport {
  const rows: Bottleneck[] = [];
  let total = 0;
  for (const [series, window] of stats) {
    if (window.count === 0) continue;
    total += window.totalMs;
    rows.push({
      name: series.name,
      labels: { ...series.labels },
      share: 0,
      totalMs: window.totalMs,
      count: window.count,
      mean: window.mean,
      p95: window.p95,
    });
  }
  for (const row of rows) row.share = total > 0 ? row.totalMs / total : 0;
  return {
    window,
    byTotalTime: [...rows].sort((a, b) => b.totalMs - a.totalMs).slice(0, limit),
    byLatency: [...rows].sort((a, b) => (b.p95 ?? 0) - (a.p95 ?? 0)).slice(0, limit),
  };
}

/** @internal What {@link MonitorReports} reads: the monitor's series and its parts. */
export interface ReportSources {
  series: ReadonlyMap<string, OperationSeries>;
  byName: ReadonlyMap<string, OperationSeries[]>;
  settings: MonitorSettings;
  system: SystemMetrics | undefined;
  /** When the monitor was built, on its clock. */
  startedAt: number;
  log: Logger;
}

/**
 * @internal The read side of a monitor: statistics of operations, bottlenecks, the summary and
 * what the Prometheus renderers read, with the metric families other modules add.
 */
export class MonitorReports {
  readonly #series: ReadonlyMap<string, OperationSeries>;
  readonly #byName: ReadonlyMap<string, OperationSeries[]>;
  readonly #settings: MonitorSettings;
  readonly #clock: MonitorSettings['clock'];
  readonly #system: SystemMetrics | undefined;
  readonly #startedAt: number;
  readonly #log: Logger;
  readonly #collectors = new Set<() => MetricFamily[]>();

  constructor(sources: ReportSources) {
    this.#series = sources.series;
    this.#byName = sources.byName;
    this.#settings = sources.settings;
    this.#clock = sources.settings.clock;
    this.#system = sources.system;
    this.#startedAt = sources.startedAt;
    this.#log = sources.log;
  }

  /** See `PerformanceMonitor.getStats`. */
  getStats(
    name: string,
    labels?: Record<string, string | number | boolean>,
  ): OperationStats | undefined {
    checkName(name);
    const now = this.#clock.now();
    if (labels !== undefined) {
      const series = this.#series.get(seriesKey(name, checkLabels(labels)));
      return series && statsOf([series], now, this.#clock);
    }
    const all = this.#byName.get(name);
    return all && statsOf(all, now, this.#clock);
  }

  /** See `PerformanceMonitor.operations`. */
  operations(): OperationStats[] {
    const now = this.#clock.now();
    return [...this.#series.values()].map((s) => statsOf([s], now, this.#clock));
  }

  /** See `PerformanceMonitor.bottlenecks`. */
  bottlenecks(options: BottleneckOptions = {}): BottleneckReport {
    const window = options.window ?? '5m';
    if (!WINDOWS.includes(window)) {
      throw invalidArgument('window', window, "one of '1m', '5m', '15m', 'all'");
    }
    const limit = options.limit ?? 10;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
      throw invalidArgument('limit', limit, 'a non-negative whole number');
    }
    const now = this.#clock.now();
    const stats = [...this.#series.values()].map(
      (series) => [series, series.stats(window, now)] as const,
    );
    return rankBottlenecks(stats, window, limit);
  }

  /** See `PerformanceMonitor.summary`. */
  summary(): PerformanceSummary {
    const overflow = this.#series.get(OVERFLOW_OPERATION);
    const now = this.#clock.now();
    const series = [...this.#series.values()];
    const operations = series.map((s) => statsOf([s], now, this.#clock));
    return {
      generatedAt: new Date(this.#clock.epochNow()).toISOString(),
      uptimeSeconds: (now - this.#startedAt) / 1000,
      thresholdMs: this.#settings.alertThresholdMs,
      operations,
      overflow: {
        calls: overflow?.totals(now).count ?? 0,
        maxMetrics: this.#settings.maxMetrics,
      },
      // Ranked from the windows just computed rather than computing them a second time.
      bottlenecks: rankBottlenecks(
        operations.map((op, i) => [series[i]!, op.windows['5m']] as const),
        '5m',
        10,
      ),
      system: this.#system?.snapshot() ?? null,
    };
  }

  /** See `PerformanceMonitor.operationWindows`. */
  operationWindows(): OperationWindows[] {
    const now = this.#clock.now();
    return [...this.#series.values()].map((series) => {
      const windows = {} as Record<WindowName, WindowTotals>;
      for (const window of WINDOWS) {
        const { tally, histogram } = series.collect(window, now);
        const { indexes, counts } = histogram.toSparse();
        const empty = tally.count === 0;
        windows[window] = {
          count: tally.count,
          errors: tally.errors,
          slow: tally.slow,
          sumMs: tally.sumMs,
          minMs: empty ? null : tally.minMs,
          maxMs: empty ? null : tally.maxMs,
          coveredSeconds: series.coveredSeconds(window, now),
          histogram: { indexes, counts },
        };
      }
      return { name: series.name, labels: { ...series.labels }, windows };
    });
  }

  /** See `PerformanceMonitor.operationTotals`. */
  operationTotals(): OperationTotals[] {
    const now = this.#clock.now();
    return [...this.#series.values()].map((series) => {
      const { tally, histogram } = series.collect('all', now);
      const { indexes, counts } = histogram.toSparse();
      return {
        name: series.name,
        labels: { ...series.labels },
        count: tally.count,
        errors: tally.errors,
        slow: tally.slow,
        sumMs: tally.sumMs,
        histogram: { indexes, counts },
      };
    });
  }

  /** See `PerformanceMonitor.prometheusInput`. */
  prometheusInput(): PrometheusInput {
    const now = this.#clock.now();
    return {
      prefix: this.#settings.prometheusPrefix,
      bucketsSeconds: this.#settings.prometheusBuckets,
      series: [...this.#series.values()].map((s) => ({
        name: s.name,
        labels: s.labels,
        bucketCounts: s.bucketCounts,
        ...s.totals(now),
      })),
      maxMetrics: this.#settings.maxMetrics,
      overflowName: OVERFLOW_OPERATION,
      system: this.#system?.snapshot(),
      extra: this.#collected(),
    };
  }

  /** See `PerformanceMonitor.addCollector`. */
  addCollector(collector: () => MetricFamily[]): () => void {
    if (typeof collector !== 'function') throw invalidArgument('collector', collector);
    this.#collectors.add(collector);
    return () => {
      this.#collectors.delete(collector);
    };
  }

  #collected(): MetricFamily[] {
    const families: MetricFamily[] = [];
    for (const collector of this.#collectors) {
      try {
        families.push(...collector());
      } catch (error) {
        this.#log.warn({ err: error }, 'a metrics collector threw; its metrics are left out');
      }
    }
    return families;
  }
}
