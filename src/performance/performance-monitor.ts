import { currentContext } from '../core/context.js';
import type { AnyFunction } from '../core/decorators.js';
import { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { TraceContext } from '../core/trace-context.js';
import { CallRecorder } from './call-recorder.js';
import type { CallSite, OperationHandle } from './call-site.js';
import { MonitorReports } from './monitor-reports.js';
import { OVERFLOW_OPERATION } from './monitor-warnings.js';
import { OperationRegistry } from './operation-registry.js';
import { type MetricFamily, type PrometheusInput, renderPrometheus } from './prometheus.js';
import { Span } from './span.js';
import { SystemMetrics } from './system-metrics.js';
import { Tracer } from './tracer.js';
import type {
  Attributes,
  BottleneckOptions,
  BottleneckReport,
  MonitorOptions,
  MonitorSettings,
  OperationStats,
  OperationTotalsSnapshot,
  OperationWindows,
  PerformanceEvents,
  PerformanceSummary,
  SystemMetricsSnapshot,
} from './types.js';
import {
  checkAttributes,
  checkLabels,
  checkName,
  checkOptions,
  invalidArgument,
  normalizeMonitorOptions,
} from './validation.js';
import { wrapFunction } from './wrap-function.js';

export { OVERFLOW_OPERATION };

/**
 * Collects the duration of monitored calls into per-operation statistics over rolling windows,
 * detects slow calls and bottlenecks, samples system metrics and renders it all as JSON or as
 * Prometheus text.
 *
 * Get one from `createEnterprise().performance`; the default instance's is exported as
 * `performanceMonitor`.
 *
 * @example
 * ```ts
 * const { performance } = createEnterprise({ performance: { alertThresholdMs: 200 } });
 * performance.on('slow', (event) => console.warn(event.name, event.durationMs));
 * await performance.context('db.query', { table: 'users' }, () => db.query(sql));
 * console.log(performance.getStats('db.query')?.windows['1m'].p95);
 * ```
 */
export class PerformanceMonitor extends Emitter<PerformanceEvents> {
  readonly #settings: MonitorSettings;
  readonly #clock: MonitorSettings['clock'];
  readonly #log: Logger;
  readonly #system: SystemMetrics | undefined;
  readonly #startedAt: number;
  /** The series, one per operation and label set. */
  readonly #registry: OperationRegistry;
  /** The hot path: times calls and records them in their series. */
  readonly #recorder: CallRecorder;
  readonly #reports: MonitorReports;
  /**
   * @internal The spans of requests, tasks and cache tiers: OpenTelemetry spans through this
   * monitor's bridge when an SDK is registered, else W3C ids of the package's own.
   */
  readonly tracer: Tracer;

  /** @internal Instances come from `createEnterprise()`; the monitor is its `performance`. */
  constructor(settings: MonitorSettings, logger: Logger) {
    super();
    this.#settings = settings;
    this.#clock = settings.clock;
    this.#log = logger;
    this.#startedAt = settings.clock.now();
    this.#recorder = new CallRecorder(this, settings, logger);
    this.tracer = new Tracer(this.#recorder.otel);
    this.#registry = new OperationRegistry(settings, this.#recorder.warnings);
    this.#system =
      settings.systemMetricsIntervalMs === false
        ? undefined
        : new SystemMetrics(settings.systemMetricsIntervalMs, (error) =>
            this.#log.warn({ err: error }, 'system metrics sample failed'),
          );
    this.#reports = new MonitorReports({
      series: this.#registry.series,
      byName: this.#registry.byName,
      settings,
      system: this.#system,
      startedAt: this.#startedAt,
      log: logger,
    });
  }

  /** The global slow-call threshold, in milliseconds. */
  get thresholdMs(): number {
    return this.#settings.alertThresholdMs;
  }

  /** Starts the system metrics sampler (called by `enterprise.start()`). */
  start(): void {
    this.#recorder.otel.recheck();
    this.#system?.start();
  }

  /** Stops the sampler (called by `enterprise.shutdown()`). */
  stop(): void {
    this.#system?.stop();
  }

  /**
   * Runs `fn` as a span named `name` and records its duration; returns what `fn` returns (the same
   * promise, for async functions). A span opened inside records this one as its parent.
   *
   * @example
   * ```ts
   * const rows = await monitor.context('db.query', { table: 'users' }, () => pool.query(sql));
   * ```
   */
  context<T>(nameOrOptions: string | (MonitorOptions & { name: string }), fn: () => T): T;
  context<T>(name: string, attributes: Attributes | undefined, fn: () => T): T;
  context<T>(
    nameOrOptions: string | (MonitorOptions & { name: string }),
    attributesOrFn: Attributes | undefined | (() => T),
    maybeFn?: () => T,
  ): T {
    const fn = typeof attributesOrFn === 'function' ? attributesOrFn : maybeFn;
    const options = normalizeMonitorOptions(
      nameOrOptions,
      typeof attributesOrFn === 'function' ? undefined : { attributes: attributesOrFn },
    );
    const name = checkName(options.name);
    if (typeof fn !== 'function') throw invalidArgument('fn', fn);
    const handle = this.handle(name, checkLabels(options.labels), options.thresholdMs);
    return this.run(
      handle,
      name,
      checkAttributes(options.attributes),
      options.thresholdMs ?? this.#settings.alertThresholdMs,
      fn,
      undefined,
      [],
    );
  }

  /**
   * Returns a function that behaves like `fn` and records each call, on this instance (the twin of
   * `monitorPerformance`, which uses the default instance). Same arguments as `monitorPerformance`.
   *
   * @example
   * ```ts
   * const fetchUser = monitor.wrap('fetch_user', async (id: string) => db.users.find(id));
   * const parse = monitor.wrap({ name: 'parse', thresholdMs: 5 }, JSON.parse);
   * ```
   */
  wrap<F extends AnyFunction>(
    nameOrOptions: string | (MonitorOptions & { name: string }),
    fn: F,
    options?: Omit<MonitorOptions, 'name'>,
  ): F {
    return wrapFunction(nameOrOptions, fn, options, () => this);
  }

  /** @internal Runs `fn` as a call of `site`'s operation. */
  call<T>(
    site: CallSite,
    fn: (...args: any[]) => T,
    thisArg: unknown,
    args: readonly unknown[],
  ): T {
    const handle = site.resolve(this);
    return this.run(
      handle,
      site.name,
      site.attributes,
      site.thresholdMs ?? this.thresholdMs,
      fn,
      thisArg,
      args,
    );
  }

  /**
   * @internal Resolves the series for `name` and `labels`, creating it if the cap allows.
   * Call sites cache the handle and check {@link OperationHandle.generation} against
   * {@link PerformanceMonitor.generation}.
   */
  handle(
    name: string,
    checkedLabels: Record<string, string>,
    thresholdMs: number | undefined,
  ): OperationHandle {
    return {
      series: this.#registry.resolve(name, checkedLabels, thresholdMs),
      generation: this.#registry.generation,
    };
  }

  /** @internal Incremented by {@link reset}; cached handles from older generations are stale. */
  get generation(): number {
    return this.#registry.generation;
  }

  /** @internal The hot path shared by every decorator, wrapper and context. */
  run<T>(
    handle: OperationHandle,
    name: string,
    attributes: Attributes,
    thresholdMs: number,
    fn: (...args: any[]) => T,
    thisArg: unknown,
    args: readonly unknown[],
  ): T {
    const parent = currentContext();
    const span = Span.in(
      parent,
      name,
      handle.series,
      attributes,
      thresholdMs,
      this.#recorder.now(),
    );
    return this.#recorder.run(span, parent, fn, thisArg, args);
  }

  /**
   * Records a call that was timed elsewhere, such as an HTTP request measured from its first byte
   * to the response's `finish` event, whose labels (route, status class) are only known at the end.
   * It counts, raises `slow` events and appears in statistics exactly like a monitored call; the
   * current request context supplies the parent span and correlation id.
   *
   * @example
   * ```ts
   * const started = performance.now();
   * res.on('finish', () => {
   *   monitor.record('http.request', performance.now() - started, {
   *     labels: { route: '/users/:id', method: req.method, status_class: `${Math.floor(res.statusCode / 100)}xx` },
   *     error: res.statusCode >= 500,
   *   });
   * });
   * ```
   */
  record(name: string, durationMs: number, options: RecordOptions = {}): void {
    checkName(name);
    if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) {
      throw invalidArgument(
        'durationMs',
        durationMs,
        'a finite, non-negative number of milliseconds',
      );
    }
    const { error = false, ...rest } = checkOptions(options) as RecordOptions;
    const handle = this.handle(name, checkLabels(rest.labels), rest.thresholdMs);
    const span = Span.in(
      currentContext(),
      name,
      handle.series,
      checkAttributes(rest.attributes),
      rest.thresholdMs ?? this.#settings.alertThresholdMs,
      this.#clock.now() - durationMs,
    );
    this.#recorder.finish(span, error === true, undefined, durationMs);
  }

  /**
   * @internal Records a call of `name` timed by its caller from `start` (this monitor's clock) to
   * now, on a handle with the global threshold (the HTTP instrumentation's path: one call per
   * request). A span object is made only when something will read it: a slow call or a `span`
   * listener; the series is then recorded by {@link finish}, as for every other call.
   */
  recordTimed(
    name: string,
    handle: OperationHandle,
    start: number,
    failed: boolean,
    correlationId: string | undefined,
    trace?: TraceContext,
  ): void {
    this.#recorder.recordTimed(name, handle.series, start, failed, correlationId, trace);
  }

  /**
   * @internal For the package's own modules (the task engine): records a call at `site` that its
   * caller timed, ending now, with the site's labels, attributes and threshold and the current
   * request context as parent. Counted, raised as `slow` and emitted as a `span` exactly like a
   * monitored call; a span object is made only when something will read it.
   *
   * @example
   * ```ts
   * const site = new CallSite('task', { labels: { task: 'resize', queue: 'default' } });
   * monitor.recordDuration(site, 12.5, false);
   * ```
   */
  recordDuration(site: CallSite, durationMs: number, failed: boolean): void {
    const handle = site.resolve(this);
    this.#recorder.recordDuration(
      site.name,
      handle.series,
      site.attributes,
      site.thresholdMs,
      durationMs,
      failed,
    );
  }

  /** @internal Records a finished span. Never throws. */
  finish(span: Span, failed: boolean, error: unknown): void {
    this.#recorder.finish(span, failed, error);
  }

  /** A listener that throws is logged; the monitored call and the other listeners go on. */
  protected override onListenerError(error: unknown, event: keyof PerformanceEvents): void {
    this.#log.error({ err: error, event }, 'a performance event listener threw');
  }

  /**
   * Statistics of one operation over every window. With `labels`, of that label set only; without,
   * merged over all label sets of `name`. `undefined` when the operation was never called.
   *
   * @example
   * ```ts
   * monitor.getStats('UserService.login')?.windows['5m'].p99;
   * ```
   */
  getStats(
    name: string,
    labels?: Record<string, string | number | boolean>,
  ): OperationStats | undefined {
    return this.#reports.getStats(name, labels);
  }

  /** Statistics of every operation and label set. */
  operations(): OperationStats[] {
    return this.#reports.operations();
  }

  /**
   * Ranks operations by their share of the total time spent and by p95 latency over `window`.
   *
   * @example
   * ```ts
   * const { byTotalTime } = monitor.bottlenecks({ window: '15m', limit: 3 });
   * ```
   */
  bottlenecks(options: BottleneckOptions = {}): BottleneckReport {
    return this.#reports.bottlenecks(options);
  }

  /** The latest system metrics sample, or `null` when system metrics are turned off. */
  system(): SystemMetricsSnapshot | null {
    return this.#system?.snapshot() ?? null;
  }

  /**
   * Everything above as one JSON-serializable object: operations over every window, overflow,
   * bottlenecks and system metrics.
   *
   * @example
   * ```ts
   * app.get('/perf', (_req, res) => res.json(monitor.summary()));
   * ```
   */
  summary(): PerformanceSummary {
    return this.#reports.summary();
  }

  /**
   * What every operation recorded since its statistics began (or since the last {@link reset}):
   * counts, errors, total time and the histogram buckets. Two snapshots of one generation subtract
   * bucket by bucket into the exact histogram of the calls in between, which is how the metrics
   * history makes its per-minute rollups.
   *
   * @example
   * ```ts
   * const before = monitor.operationTotals();
   * await work();
   * const after = monitor.operationTotals();
   * const calls = after.operations[0]!.count - before.operations[0]!.count;
   * ```
   */
  operationTotals(): OperationTotalsSnapshot {
    return { generation: this.#registry.generation, operations: this.#reports.operationTotals() };
  }

  /**
   * Every operation over every window (`1m`, `5m`, `15m`, `all`) as counts and histogram buckets
   * rather than percentiles: what a cluster view adds up across processes to answer percentiles of
   * all their calls together.
   *
   * @example
   * ```ts
   * const [first] = monitor.operationWindows();
   * console.log(first?.windows['1m'].count, first?.windows['1m'].histogram.indexes.length);
   * ```
   */
  operationWindows(): OperationWindows[] {
    return this.#reports.operationWindows();
  }

  /** Forgets every operation and its statistics. Cached call-site handles renew themselves. */
  reset(): void {
    this.#registry.reset();
    this.#recorder.warnings.reset();
  }

  /**
   * The metrics in the Prometheus text exposition format (version 0.0.4): one duration histogram
   * per operation, error and slow-call counters, and the system metrics.
   *
   * @example
   * ```ts
   * res.setHeader('content-type', 'text/plain; version=0.0.4');
   * res.end(monitor.toPrometheus());
   * ```
   */
  toPrometheus(): string {
    return renderPrometheus(this.prometheusInput());
  }

  /** @internal What the Prometheus renderers (text and the prom-client bridge) read. */
  prometheusInput(): PrometheusInput {
    return this.#reports.prometheusInput();
  }

  /**
   * Adds metric families computed at each scrape by another module (the cache adds its hits,
   * misses and tier health this way). A collector must always return the same family names, with
   * or without samples, so the prom-client bridge can register them up front. Returns the function
   * that removes the collector.
   *
   * @example
   * ```ts
   * const remove = monitor.addCollector(() => [
   *   { name: 'app_queue_depth', help: 'Jobs waiting.', type: 'gauge', samples: [{ name: 'app_queue_depth', labels: {}, value: queue.size }] },
   * ]);
   * ```
   */
  addCollector(collector: () => MetricFamily[]): () => void {
    return this.#reports.addCollector(collector);
  }
}

/** Options of {@link PerformanceMonitor.record}. */
export interface RecordOptions extends Omit<MonitorOptions, 'name'> {
  /** Whether the call failed. @defaultValue false */
  error?: boolean;
}
