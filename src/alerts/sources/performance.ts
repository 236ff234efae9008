import { type Clock, systemClock } from '../../core/clock.js';
import type { PerformanceMonitor } from '../../performance/performance-monitor.js';
import type {
  OperationStats,
  SystemMetricsSnapshot,
  WindowName,
  WindowStats,
} from '../../performance/types.js';
import type { SeriesValue, ValueSource } from '../types.js';
import { sharedRead } from './shared-read.js';

/** What the performance sources read of a monitor (a `PerformanceMonitor` is one). */
export type PerformanceReader = Pick<PerformanceMonitor, 'operations' | 'system'>;

/**
 * Options of {@link performanceSources}.
 *
 * @example
 * ```ts
 * const options: PerformanceSourceOptions = { window: '5m', system: false };
 * ```
 */
export interface PerformanceSourceOptions {
  /**
   * The window the `operation.*` figures are taken over. The last minute by default: long enough
   * for a percentile to mean something at a few calls per second, short enough that an alert
   * resolves within a minute or two of the problem. @defaultValue '1m'
   */
  window?: WindowName;
  /** Build the `system.*` sources. @defaultValue true */
  system?: boolean;
  /**
   * Sources read within this many milliseconds of each other share one read of the monitor (its
   * statistics are computed once per evaluation, not once per source). @defaultValue 1000
   */
  reuseMs?: number;
  /** @internal The time source of `reuseMs`, for tests. */
  clock?: Pick<Clock, 'now'>;
}

/** The figure of a window a source reports, `null` when the window saw no call. */
type WindowFigure = (stats: WindowStats) => number | null;

const OPERATION_FIGURES: readonly [string, string, WindowFigure][] = [
  ['p50', 'Median duration of the calls in the window, ms', (w) => w.p50],
  ['p95', '95th percentile duration of the calls in the window, ms', (w) => w.p95],
  ['p99', '99th percentile duration of the calls in the window, ms', (w) => w.p99],
  [
    'error_rate',
    'Share of the calls in the window that threw or rejected, 0 to 1',
    (w) => (w.count === 0 ? null : w.errorRate),
  ],
  ['throughput', 'Calls per second over the window', (w) => w.throughput],
];

const SYSTEM_FIGURES: readonly [string, string, (s: SystemMetricsSnapshot) => number][] = [
  ['cpu', 'CPU time used since the previous sample, percent of one core', (s) => s.cpu.percent],
  ['rss_bytes', 'Resident set size of the process, bytes', (s) => s.memory.rss],
  ['heap_used_bytes', 'V8 heap in use, bytes', (s) => s.memory.heapUsed],
  [
    'event_loop_delay_p99_ms',
    '99th percentile event-loop delay since the previous sample, ms',
    (s) => s.eventLoop.delayP99Ms,
  ],
  [
    'event_loop_utilization',
    'Share of time the event loop was busy since the previous sample, 0 to 1',
    (s) => s.eventLoop.utilization,
  ],
];

/**
 * The value sources of the performance module: per operation, `operation.p50`, `.p95`, `.p99`
 * (ms), `.error_rate` (0 to 1) and `.throughput` (calls/s) over `window`, one series per operation
 * and label set, labelled `operation` (the operation's name) plus the operation's own labels
 * (`route`, `statement`...); and the process-wide `system.cpu`, `system.rss_bytes`,
 * `system.heap_used_bytes`, `system.event_loop_delay_p99_ms` and `system.event_loop_utilization`,
 * one series without labels. A latency or error rate is `null` (no data) for an operation with no
 * call in the window; the system figures are `null` while the monitor's system metrics are off.
 *
 * @example
 * ```ts
 * const sources = performanceSources(enterprise.performance);
 * const p95 = await sources.find((s) => s.name === 'operation.p95')!.read();
 * // [{ labels: { operation: 'UserService.find' }, value: 12.4 }, ...]
 * ```
 */
export function performanceSources(
  monitor: PerformanceReader,
  options: PerformanceSourceOptions = {},
): ValueSource[] {
  const window = options.window ?? '1m';
  const clock = options.clock ?? systemClock;
  const reuseMs = options.reuseMs ?? 1_000;
  const operations = sharedRead(() => monitor.operations(), reuseMs, clock);
  const sources: ValueSource[] = OPERATION_FIGURES.map(([figure, description, pick]) => ({
    name: `operation.${figure}`,
    description: `${description} (window ${window})`,
    read: async () =>
      (await operations()).map((op) => operationSeries(op, pick(op.windows[window]))),
  }));
  if (options.system === false) return sources;
  const system = sharedRead(() => monitor.system(), reuseMs, clock);
  for (const [figure, description, pick] of SYSTEM_FIGURES) {
    sources.push({
      name: `system.${figure}`,
      description,
      read: async () => {
        const snapshot = await system();
        return [{ labels: {}, value: snapshot === null ? null : pick(snapshot) }];
      },
    });
  }
  return sources;
}

/** The series of one operation: its labels and its name (the monitor reserves the label `operation`). */
function operationSeries(op: OperationStats, value: number | null): SeriesValue {
  return { labels: { ...op.labels, operation: op.name }, value };
}
