import type { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { OperationSeries } from './operation-series.js';
import type { Span } from './span.js';
import type { MonitorSettings, PerformanceEvents, SlowEvent } from './types.js';

/** Name of the series that collects calls to operations beyond the cap. */
export const OVERFLOW_OPERATION = '_overflow';

/**
 * @internal What a monitor tells about calls beyond the ordinary: a `slow` event for every slow
 * call (logged at most once per series every `slowLogIntervalMs`), and one `overflow` warning
 * when the cap on operations is reached.
 */
export class MonitorWarnings {
  readonly #events: Emitter<PerformanceEvents>;
  readonly #settings: MonitorSettings;
  readonly #log: Logger;
  readonly #lastSlowLog = new Map<OperationSeries, number>();
  #overflowWarned = false;

  constructor(events: Emitter<PerformanceEvents>, settings: MonitorSettings, log: Logger) {
    this.#events = events;
    this.#settings = settings;
    this.#log = log;
  }

  /** Emits `slow` for a call over its threshold, and logs it unless its series was just logged. */
  slow(span: Span, durationMs: number, failed: boolean): void {
    const event: SlowEvent = {
      name: span.name,
      labels: span.series.labels,
      durationMs,
      thresholdMs: span.thresholdMs,
      attributes: span.attributes,
      correlationId: span.correlationId,
      parent: span.parent?.name,
      error: failed,
      timestamp: new Date(this.#settings.clock.epochNow()).toISOString(),
    };
    const trace = span.trace;
    if (trace !== undefined) event.traceId = trace.traceId;
    this.#events.emit('slow', event);
    const now = this.#settings.clock.now();
    const last = this.#lastSlowLog.get(span.series);
    if (last === undefined || now - last >= this.#settings.slowLogIntervalMs) {
      this.#lastSlowLog.set(span.series, now);
      this.#log.warn(
        {
          operation: span.name,
          labels: span.series.labels,
          durationMs: Math.round(durationMs * 1000) / 1000,
          thresholdMs: span.thresholdMs,
          attributes: span.attributes,
          parent: span.parent?.name,
          correlationId: span.correlationId,
          ...(trace === undefined ? {} : { traceId: trace.traceId, spanId: trace.spanId }),
        },
        'slow operation',
      );
    }
  }

  /** Warns, once, that operations beyond the cap are counted under the overflow series. */
  overflow(name: string, labels: Record<string, string>): void {
    if (this.#overflowWarned) return;
    this.#overflowWarned = true;
    const maxMetrics = this.#settings.maxMetrics;
    this.#log.warn(
      { operation: name, labels, maxMetrics },
      `PERFORMANCE_MAX_METRICS (${maxMetrics}) operations are tracked; further operations are counted under "${OVERFLOW_OPERATION}"`,
    );
    this.#events.emit('overflow', { name, labels, maxMetrics });
  }

  /** Forgets the last logs and the overflow warning, with the operations. */
  reset(): void {
    this.#lastSlowLog.clear();
    this.#overflowWarned = false;
  }
}
