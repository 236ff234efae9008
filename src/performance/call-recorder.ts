import { systemClock } from '../core/clock.js';
import { currentContext, type RequestContext, runInSpan } from '../core/context.js';
import type { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { TraceContext } from '../core/trace-context.js';
import { MonitorWarnings } from './monitor-warnings.js';
import type { OperationSeries } from './operation-series.js';
import { type BridgedSpan, OtelBridge } from './otel-bridge.js';
import { Span } from './span.js';
import type { Attributes, MonitorSettings, PerformanceEvents, SpanEvent } from './types.js';

// The hot path of the performance monitor: timing a call and recording it in its series, with the
// OpenTelemetry span, the `slow` warning and the `span` event it may bring.

/** The attributes of a call recorded without any. */
const EMPTY_ATTRIBUTES: Attributes = Object.freeze({});

/**
 * @internal Runs and records calls. A call timed by its caller gets a span object only when
 * something will read it: a slow call or a `span` listener.
 */
export class CallRecorder {
  /** The `slow` events and logs, and the overflow warning. */
  readonly warnings: MonitorWarnings;
  /** The OpenTelemetry spans, when an API is registered. */
  readonly otel: OtelBridge;
  readonly #events: Emitter<PerformanceEvents>;
  readonly #settings: MonitorSettings;
  readonly #clock: MonitorSettings['clock'];
  readonly #log: Logger;

  /** @param events - the monitor, which emits the events. */
  constructor(events: Emitter<PerformanceEvents>, settings: MonitorSettings, log: Logger) {
    this.#events = events;
    this.#settings = settings;
    this.#clock = settings.clock;
    this.#log = log;
    this.warnings = new MonitorWarnings(events, settings, log);
    this.otel = new OtelBridge(settings.openTelemetry);
  }

  /**
   * The hot path's clock read: `performance.now()` called directly for the system clock, one
   * indirection fewer than going through the clock object; the injected clock otherwise.
   */
  now(): number {
    return this.#clock === systemClock ? performance.now() : this.#clock.now();
  }

  /** Runs `fn` as `span`, opened in `parent`, and records it; returns what `fn` returns. */
  run<T>(
    span: Span,
    parent: RequestContext | undefined,
    fn: (...args: any[]) => T,
    thisArg: unknown,
    args: readonly unknown[],
  ): T {
    if (this.otel.active) span.otel = this.#startOtel(span.name, span.attributes);
    let result: T;
    try {
      result =
        span.otel === undefined
          ? runInSpan(span, parent, fn, thisArg, args)
          : this.otel.run(span.otel, () => runInSpan(span, parent, fn, thisArg, args));
    } catch (error) {
      this.finish(span, true, error);
      throw error;
    }
    // Only native promises are timed to their settlement. Other thenables (query builders, lazy
    // tasks) may start work when `then` is called, so they are returned untouched and the call is
    // timed like a synchronous one.
    if (result instanceof Promise) {
      if (result.constructor === Promise) {
        // The caller gets a promise that settles as `result` does. Returning `result` itself with
        // our handlers attached would mark its rejection as handled: a rejection nobody awaited
        // would no longer be reported as unhandled.
        return result.then(
          (value) => {
            this.finish(span, false, undefined);
            return value;
          },
          (error: unknown) => {
            this.finish(span, true, error);
            throw error;
          },
        ) as T;
      }
      // A promise subclass (with methods of its own, such as `cancel()`) is returned as it is.
      result.then(
        () => this.finish(span, false, undefined),
        (error: unknown) => this.finish(span, true, error),
      );
      return result;
    }
    this.finish(span, false, undefined);
    return result;
  }

  /**
   * Records a call of `name` timed by its caller from `start` (this clock) to now, with the global
   * threshold and no parent span.
   */
  recordTimed(
    name: string,
    series: OperationSeries,
    start: number,
    failed: boolean,
    correlationId: string | undefined,
    trace?: TraceContext,
  ): void {
    const now = this.now();
    const duration = Math.max(0, now - start);
    const thresholdMs = this.#settings.alertThresholdMs;
    if (duration > thresholdMs || this.#events.listenerCount('span') > 0) {
      const span = new Span(
        name,
        undefined,
        series,
        EMPTY_ATTRIBUTES,
        thresholdMs,
        correlationId,
        start,
      );
      span.trace = trace;
      this.finish(span, failed, undefined, duration);
      return;
    }
    series.record(duration, failed, false, now);
    series.lastCallAt = now;
  }

  /**
   * Records a call of `name` that lasted `durationMs` and ends now, opened in the current request
   * context (`thresholdMs` undefined for the global threshold).
   */
  recordDuration(
    name: string,
    series: OperationSeries,
    attributes: Attributes,
    thresholdMs: number | undefined,
    durationMs: number,
    failed: boolean,
  ): void {
    const now = this.now();
    const duration = Math.max(0, durationMs);
    const threshold = thresholdMs ?? this.#settings.alertThresholdMs;
    if (duration > threshold || this.#events.listenerCount('span') > 0) {
      const span = Span.in(currentContext(), name, series, attributes, threshold, now - duration);
      this.finish(span, failed, undefined, duration);
      return;
    }
    series.record(duration, failed, false, now);
    series.lastCallAt = now;
  }

  /**
   * Records a finished span. Never throws. `durationMs` is the duration a caller measured itself:
   * reading the clock again would add whatever ran since (a GC pause, an OpenTelemetry span start).
   */
  finish(span: Span, failed: boolean, error: unknown, durationMs?: number): void {
    const now = this.now();
    const duration = durationMs ?? Math.max(0, now - span.start);
    const slow = duration > span.thresholdMs;
    span.series.record(duration, failed, slow, now);
    span.series.lastCallAt = now;
    if (span.otel !== undefined) {
      try {
        this.otel.end(span.otel, error, failed);
      } catch (otelError) {
        this.#log.warn({ err: otelError }, 'OpenTelemetry span could not be ended');
      }
    }
    if (slow) this.warnings.slow(span, duration, failed);
    if (this.#events.listenerCount('span') > 0) {
      const event: SpanEvent = {
        name: span.name,
        labels: span.series.labels,
        attributes: span.attributes,
        durationMs: duration,
        error: failed,
        correlationId: span.correlationId,
        parents: span.parentNames(),
      };
      if (span.trace !== undefined) event.traceId = span.trace.traceId;
      this.#events.emit('span', event);
    }
  }

  /** Opens the OpenTelemetry span; a tracer that throws costs the span, never the call. */
  #startOtel(name: string, attributes: Attributes): BridgedSpan | undefined {
    try {
      return this.otel.start(name, attributes);
    } catch (error) {
      this.#log.warn({ err: error, operation: name }, 'OpenTelemetry span could not be started');
      return undefined;
    }
  }
}
