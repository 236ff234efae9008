import { type Clock, systemClock } from '../core/clock.js';
import {
  type ActiveSpan,
  isValidCorrelationId,
  type RequestContext,
  runInContext,
} from '../core/context.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { TraceContext } from '../core/trace-context.js';
import { uuid } from '../core/uuid.js';
import type { OperationHandle } from '../performance/call-site.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';
import type { TraceSpan } from '../performance/tracer.js';
import { checkLabels } from '../performance/validation.js';
import { defaultMonitoredInstance, type MonitoredInstance } from './monitored-instance.js';
import {
  type MiddlewareAnalyticsOptions,
  type RequestAnalytics,
  requestAnalytics,
} from './request-analytics.js';
import { RequestLog, type RequestLogOptions } from './request-log.js';
import { METHODS, methodIndex } from './request-methods.js';
import {
  type GuardedRequest,
  type MiddlewareSecurityOptions,
  observeResponse,
  type RequestSecurity,
  requestSecurity,
  type SecurityVerdict,
} from './request-security.js';
import {
  endRequestSpan,
  type RequestTracing,
  type RequestTracingOptions,
  requestTracing,
  startRequestTrace,
} from './request-trace.js';
import {
  BASIC_SECURITY_HEADERS,
  type SecurityHeadersOptions,
  securityHeaders,
} from './security-headers.js';

/** The operation every instrumented request is recorded as. */
export const HTTP_OPERATION = 'http.request';

/** The `route` label of a request no route of the host matched (a 404): never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The header that carries the correlation id in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

export type { MiddlewareAnalyticsOptions, RequestUsage } from './request-analytics.js';
export type { RequestLogEntry, RequestLogOptions } from './request-log.js';
export type {
  MiddlewareSecurityOptions,
  RouteRateLimit,
  SecurityRefusal,
  SecurityVerdict,
} from './request-security.js';
export type { RequestTracingOptions } from './request-trace.js';

/**
 * Options of the request instrumentation shared by every framework adapter's middleware.
 *
 * @example
 * ```ts
 * app.use(enterpriseMiddleware({ log: { sampleRate: 0.1 }, securityHeaders: 'helmet' }));
 * ```
 */
export interface RequestInstrumentationOptions {
  /** The instance to record into. @defaultValue the default instance (`getEnterprise()`), resolved per request */
  enterprise?: MonitoredInstance;
  /**
   * Security headers set on every response before the host's handler runs (so a header the host
   * sets itself wins):
   * - `'basic'` (or `true`): {@link BASIC_SECURITY_HEADERS}, `X-Content-Type-Options: nosniff`,
   *   which changes nothing a page or an API client relies on;
   * - `'helmet'`: all of helmet's defaults, Content-Security-Policy and HSTS included, which can
   *   block a host's inline scripts, cross-origin resources and framing;
   * - options: helmet's defaults with some of them changed or left out;
   * - `false`: none.
   *
   * `X-Powered-By` is removed unless this is `false`. @defaultValue 'basic'
   */
  securityHeaders?: boolean | 'basic' | 'helmet' | SecurityHeadersOptions;
  /**
   * Reuse a valid inbound `x-request-id` as the correlation id (1 to 128 characters from
   * `[A-Za-z0-9._:@/+=-]`); `false` always generates a new one (a service exposed to untrusted
   * clients that must not choose ids). @defaultValue true
   */
  trustRequestId?: boolean;
  /**
   * W3C trace context: a valid inbound `traceparent` (version 00, or a later version read by its
   * first four fields; ids not all zero) and its `tracestate` are continued, anything else starts
   * a new trace. The trace id and the request's span id are in the request context
   * (`getTraceContext()`), in every log line written while the request runs, in the request's log
   * line and in the tasks it submits. With an OpenTelemetry SDK registered, the request is a
   * server span (or the span of the host's own HTTP instrumentation, when it made one). The
   * response does not carry `traceparent`. `false` turns tracing off. @defaultValue true
   */
  tracing?: boolean | RequestTracingOptions;
  /** The per-request log line: options, or `false` for none. @defaultValue true */
  log?: boolean | RequestLogOptions;
  /** Record `http.request` in the performance monitor. @defaultValue true */
  metrics?: boolean;
  /**
   * Hand every request to the instance's security module (`enterprise.security`, built on first
   * use) before the host's handler runs: bans and allow/deny lists, the screening for attacks
   * (refused with a 403 in mode `block`), and rate limits (the module's `rateLimit.default` and
   * the `rateLimits` given here, refused with a 429 and `RateLimit` / `Retry-After` headers); an
   * allowed request gets its `RateLimit` headers. A refused request never reaches the route. The
   * module's own settings (mode, trusted proxies, stores) are the instance's `security` options.
   * Needs the security module loaded (`@revcopy/enterprise` or `@revcopy/enterprise/security`).
   * A failure of the module never fails a request: it is logged and the request goes on.
   * @defaultValue false
   */
  security?: boolean | MiddlewareSecurityOptions;
  /**
   * Track each completed request into the instance's analytics (`enterprise.analytics`, built on
   * first use) as an event named by its method, route template and status class
   * (`GET /users/:id 2xx`; never the raw path), with successful health probes left out; options
   * name the events differently or skip some. Event counts, top events and funnels then cover
   * the routes. Needs the analytics module loaded (`@revcopy/enterprise` or
   * `@revcopy/enterprise/analytics`). A failure never fails a request. @defaultValue false
   */
  analytics?: boolean | MiddlewareAnalyticsOptions;
}

/** Status classes by `Math.floor(status / 100)`; index 0 for anything outside 100..599. */
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const ABORTED_CLASS = 6;
const CLASS_COUNT = 7;
/** Beyond this many distinct routes the handles are not cached (the monitor caps series anyway). */
const MAX_CACHED_ROUTES = 2000;
/** The span every request context starts with, so spans opened by handlers name it as their parent. */
const REQUEST_SPAN: ActiveSpan = Object.freeze({ name: HTTP_OPERATION, parent: undefined });

/**
 * One request in flight. It is also the request's context in the context store (it has the
 * `correlationId` and `span` fields a context has), which saves an allocation per request.
 *
 * @internal
 */
export class RequestRecord implements RequestContext, GuardedRequest {
  readonly correlationId: string;
  /** Spans opened while the request runs name `http.request` as their parent. */
  readonly span: ActiveSpan = REQUEST_SPAN;
  readonly enterprise: MonitoredInstance;
  readonly start: number;
  readonly method: string;
  /** The route template, when the adapter learns it before the end. */
  route: string | undefined = undefined;
  /** Set once the request is recorded, so a second end (error then close) is ignored. */
  done = false;
  /** What the security module decided, with the `security` option on. */
  verdict: SecurityVerdict | undefined = undefined;
  /** The request's trace and span ids; `undefined` with the `tracing` option off. */
  trace: TraceContext | undefined = undefined;
  /** The request's OpenTelemetry server span, when one was opened. */
  traceSpan: TraceSpan | undefined = undefined;

  constructor(correlationId: string, enterprise: MonitoredInstance, start: number, method: string) {
    this.correlationId = correlationId;
    this.enterprise = enterprise;
    this.start = start;
    this.method = method;
  }
}

/** Handles per monitor, cached by route then method and status class. */
interface HandleCache {
  readonly monitor: PerformanceMonitor;
  readonly generation: number;
  readonly routes: Map<string, (OperationHandle | undefined)[]>;
}

/**
 * The framework-agnostic half of every adapter's middleware: correlation id, request context,
 * security headers, the `http.request` timing and the per-request log line. An adapter calls
 * {@link RequestInstrumentation.begin} when a request arrives, runs the rest of the host's chain
 * through {@link RequestInstrumentation.run}, and calls {@link RequestInstrumentation.end} with the
 * route template and status once the response is complete. Handles on the monitor's series are
 * cached per route, method and status class, so a request allocates little beyond its record.
 *
 * @example
 * ```ts
 * const instrumentation = new RequestInstrumentation({ log: { sampleRate: 0.2 } });
 * const record = instrumentation.begin(req.method, req.headers['x-request-id']);
 * res.setHeader('x-request-id', record.correlationId);
 * instrumentation.run(record, () => handle(req, res));
 * res.on('close', () => instrumentation.end(record, '/users/:id', res.statusCode, !res.writableFinished));
 * ```
 */
export class RequestInstrumentation {
  /** Security headers to set on each response, as `[name, value]` pairs; empty when turned off. */
  readonly headers: readonly (readonly [string, string])[];
  /** The same headers as an object, by lower-case name. Frozen. */
  readonly headerObject: Readonly<Record<string, string>>;
  /** Whether `X-Powered-By` is to be removed. */
  readonly hidePoweredBy: boolean;
  /** The `security` option's guard; `undefined` when off, the one check the hot path pays then. */
  readonly security: RequestSecurity | undefined;
  readonly #fixed: MonitoredInstance | undefined;
  readonly #trustId: boolean;
  readonly #metrics: boolean;
  readonly #tracing: RequestTracing | undefined;
  readonly #analytics: RequestAnalytics | undefined;
  /** The per-request log line; `undefined` when turned off. */
  readonly #requestLog: RequestLog | undefined;
  #cache: HandleCache | undefined;

  constructor(options: RequestInstrumentationOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw invalid('options', options, 'an options object');
    }
    const headers = options.securityHeaders ?? 'basic';
    let set: Readonly<Record<string, string>>;
    if (headers === false) set = {};
    else if (headers === true || headers === 'basic') set = BASIC_SECURITY_HEADERS;
    else if (headers === 'helmet') set = securityHeaders();
    else if (headers !== null && typeof headers === 'object') set = securityHeaders(headers);
    else {
      throw invalid(
        'securityHeaders',
        headers,
        "'basic', 'helmet', a boolean or security header options",
      );
    }
    this.headers = Object.entries(set).map(([name, value]) => [name, value] as const);
    this.headerObject = Object.freeze(Object.fromEntries(this.headers));
    this.hidePoweredBy = headers !== false;
    this.#fixed = options.enterprise;
    this.#trustId = options.trustRequestId ?? true;
    this.#metrics = options.metrics ?? true;
    this.#tracing = requestTracing(options.tracing);
    this.#analytics = requestAnalytics(options.analytics);
    const log = options.log ?? true;
    if (log !== true && log !== false && (log === null || typeof log !== 'object')) {
      throw invalid('log', log, 'a boolean or request log options');
    }
    const logOptions = typeof log === 'object' ? log : {};
    const rate = logOptions.sampleRate ?? 1;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw invalid('log.sampleRate', rate, 'a number from 0 to 1');
    }
    if (logOptions.skip !== undefined && typeof logOptions.skip !== 'function') {
      throw invalid('log.skip', logOptions.skip, 'a function');
    }
    this.#requestLog =
      log === false ? undefined : new RequestLog(rate, logOptions.skip, logOptions.message);
    this.security = requestSecurity(options.security, headers !== false);
  }

  /** The instance requests are recorded into now: the fixed one, else the current default. */
  enterprise(): MonitoredInstance {
    return this.#fixed ?? defaultMonitoredInstance();
  }

  /**
   * Starts a request: picks its correlation id (the inbound one when valid and trusted, else a
   * new UUID), continues the inbound `traceparent` / `tracestate` or starts a trace, and notes the
   * start time. The adapter echoes `record.correlationId` in `x-request-id`.
   */
  begin(
    method: string,
    inboundId: unknown,
    traceparent?: unknown,
    tracestate?: unknown,
  ): RequestRecord {
    const enterprise = this.#fixed ?? defaultMonitoredInstance();
    const id =
      this.#trustId && typeof inboundId === 'string' && isValidCorrelationId(inboundId)
        ? inboundId
        : uuid();
    const record = new RequestRecord(id, enterprise, now(enterprise.config.clock), method);
    if (this.#tracing !== undefined) {
      try {
        const started = startRequestTrace(
          this.#tracing,
          enterprise.performance.tracer,
          record.method,
          traceparent,
          tracestate,
        );
        record.trace = started.trace;
        record.traceSpan = started.span;
      } catch {
        // Tracing must never fail a request: it goes on without a trace.
      }
    }
    return record;
  }

  /**
   * Runs `fn` (the rest of the host's chain) in the request's context: `getCorrelationId()` returns
   * the request's id anywhere below, and spans opened there name `http.request` as their parent.
   */
  run<T>(record: RequestRecord, fn: (...args: any[]) => T): T {
    const span = record.traceSpan;
    return span === undefined ? runInContext(record, fn) : runInContext(record, () => span.run(fn));
  }

  /**
   * Ends a request: records `http.request` with its `route`, `method` and `status_class` labels and
   * writes the log line. Only the first call per record counts. Never throws.
   *
   * @param route - the route template; `undefined` when no route matched (recorded as `unmatched`).
   * @param aborted - the client left before the response was complete (status class `aborted`).
   */
  end(record: RequestRecord, route: string | undefined, status: number, aborted = false): void {
    if (record.done) return;
    record.done = true;
    if (record.traceSpan !== undefined) {
      // Never throws: a tracer's failure costs the span only.
      endRequestSpan(record.traceSpan, record.method, route ?? record.route, status, aborted);
    }
    try {
      const enterprise = record.enterprise;
      const clock = enterprise.config.clock;
      const label = route ?? record.route ?? UNMATCHED_ROUTE;
      const cls = aborted ? ABORTED_CLASS : statusClassIndex(status);
      if (this.#metrics) {
        const monitor = enterprise.performance;
        const handle = this.#handle(monitor, label, record.method, cls);
        monitor.recordTimed(
          HTTP_OPERATION,
          handle,
          record.start,
          status >= 500,
          record.correlationId,
          record.trace,
        );
      }
      this.#requestLog?.write(record, label, status, aborted, now(clock) - record.start);
      if (record.verdict !== undefined && !aborted) observeResponse(record, status);
      // The method as labels name it: a client's made-up verbs must not make new events.
      this.#analytics?.track(
        enterprise,
        METHODS[methodIndex(record.method)]!,
        label,
        cls === ABORTED_CLASS ? 'aborted' : STATUS_CLASSES[cls]!,
        status,
      );
    } catch {
      // Instrumentation must never break the host's response; a failure here only costs its metric.
    }
  }

  #handle(
    monitor: PerformanceMonitor,
    route: string,
    method: string,
    cls: number,
  ): OperationHandle {
    let cache = this.#cache;
    if (
      cache === undefined ||
      cache.monitor !== monitor ||
      cache.generation !== monitor.generation
    ) {
      cache = { monitor, generation: monitor.generation, routes: new Map() };
      this.#cache = cache;
    }
    const index = methodIndex(method);
    let slots = cache.routes.get(route);
    if (slots === undefined) {
      slots = new Array<OperationHandle | undefined>(METHODS.length * CLASS_COUNT);
      if (cache.routes.size < MAX_CACHED_ROUTES) cache.routes.set(route, slots);
    }
    const slot = index * CLASS_COUNT + cls;
    let handle = slots[slot];
    if (handle === undefined) {
      const labels = checkLabels({
        method: METHODS[index]!,
        route,
        status_class: cls === ABORTED_CLASS ? 'aborted' : STATUS_CLASSES[cls]!,
      });
      handle = monitor.handle(HTTP_OPERATION, labels, undefined);
      slots[slot] = handle;
    }
    return handle;
  }
}

/**
 * The status class label of `status`: `2xx`, `4xx`, ... (`other` outside 100..599).
 *
 * @example
 * ```ts
 * statusClass(404); // '4xx'
 * ```
 */
export function statusClass(status: number): string {
  return STATUS_CLASSES[statusClassIndex(status)]!;
}

function statusClassIndex(status: number): number {
  const cls = (status / 100) | 0;
  return cls >= 1 && cls <= 5 ? cls : 0;
}

function now(clock: Clock): number {
  return clock === systemClock ? performance.now() : clock.now();
}

function invalid(argument: string, value: unknown, expected: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${argument}=${describeValue(value)} is invalid: expected ${expected}`,
    { argument, value, expected },
  );
}
