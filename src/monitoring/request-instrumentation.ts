import { type Clock, systemClock } from '../core/clock.js';
import {
  type ActiveSpan,
  isValidCorrelationId,
  type RequestContext,
  runInContext,
} from '../core/context.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { type Logger, type RawLineWriter, rawLineWriterOf } from '../core/logger.js';
import { uuid } from '../core/uuid.js';
import type { OperationHandle } from '../performance/call-site.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';
import { checkLabels } from '../performance/validation.js';
import { defaultMonitoredInstance, type MonitoredInstance } from './monitored-instance.js';
import { jsonNumber, RequestLineBatch } from './request-line-batch.js';
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

/** What the per-request log line holds, handed to {@link RequestLogOptions.skip}. */
export interface RequestLogEntry {
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The route template (`/users/:id`), or `unmatched`. */
  readonly route: string;
  /** The response status code (0 when the client left before a response started). */
  readonly status: number;
  /** Milliseconds from the first byte seen by the middleware to the end of the response. */
  readonly durationMs: number;
  /** The request's correlation id. */
  readonly correlationId: string;
  /** Whether the client closed the connection before the response was complete. */
  readonly aborted: boolean;
}

/** How the middleware logs its one line per request. */
export interface RequestLogOptions {
  /**
   * Fraction of requests logged, from 0 to 1. Failed requests (status 500 and above, aborted
   * requests) are always logged. @defaultValue 1
   */
  sampleRate?: number;
  /**
   * Returns true for requests not to log at all. @defaultValue skips successful liveness and
   * readiness probes (routes ending in `/health/live` or `/health/ready`), which orchestrators send
   * every few seconds.
   */
  skip?: (entry: RequestLogEntry) => boolean;
  /** Log message. @defaultValue 'request completed' */
  message?: string;
}

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
   *   the one header of helmet's defaults that protects today's browsers on any response and changes
   *   no behaviour a page or an API client relies on;
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
  /** The per-request log line: options, or `false` for none. @defaultValue true */
  log?: boolean | RequestLogOptions;
  /** Record `http.request` in the performance monitor. @defaultValue true */
  metrics?: boolean;
}

/** Status classes by `Math.floor(status / 100)`; index 0 for anything outside 100..599. */
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const ABORTED_CLASS = 6;
const CLASS_COUNT = 7;
/** Methods kept as labels; anything else (WebDAV, custom verbs) is counted as `OTHER`. */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'OTHER'] as const;
const METHOD_INDEX = new Map<string, number>(METHODS.map((method, index) => [method, index]));
const OTHER_METHOD = METHODS.length - 1;
/** Beyond this many distinct routes the handles are not cached (the monitor caps series anyway). */
const MAX_CACHED_ROUTES = 2000;
/** The span every request context starts with, so spans opened by handlers name it as their parent. */
const REQUEST_SPAN: ActiveSpan = Object.freeze({ name: HTTP_OPERATION, parent: undefined });
const HEALTH_PROBE = /\/health\/(?:live|ready)$/;

function defaultSkip(entry: RequestLogEntry): boolean {
  return entry.status < 500 && HEALTH_PROBE.test(entry.route);
}

/**
 * One request in flight. It is also the request's context in the context store (it has the
 * `correlationId` and `span` fields a context has), which saves an allocation per request.
 *
 * @internal
 */
export class RequestRecord implements RequestContext {
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

  constructor(correlationId: string, enterprise: MonitoredInstance, start: number, method: string) {
    this.correlationId = correlationId;
    this.enterprise = enterprise;
    this.start = start;
    this.method = method;
  }
}

/** A route's log line pieces: `"route":…,`, whether it is a health probe, and `"method":…,"route":…,` per method. */
interface RouteLine {
  readonly route: string;
  readonly probe: boolean;
  readonly heads: (string | undefined)[];
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
 * route template and status once the response is complete.
 *
 * It is built for the hot path: handles on the monitor's series are cached per route, method and
 * status class, and the record of a request is the only object allocated for it besides the
 * context store's own.
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
  readonly #fixed: MonitoredInstance | undefined;
  readonly #trustId: boolean;
  readonly #metrics: boolean;
  readonly #log: boolean;
  readonly #sampleRate: number;
  readonly #skip: (entry: RequestLogEntry) => boolean;
  readonly #message: string;
  #cache: HandleCache | undefined;
  #logEnterprise: MonitoredInstance | undefined;
  #logger: Logger | undefined;
  #rawWriter: RawLineWriter | undefined;
  /** The request lines kept back for {@link #rawWriter}. */
  #batch: RequestLineBatch | undefined;
  readonly #lines = new Map<string, RouteLine>();

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
    const log = options.log ?? true;
    if (log !== true && log !== false && (log === null || typeof log !== 'object')) {
      throw invalid('log', log, 'a boolean or request log options');
    }
    this.#log = log !== false;
    const logOptions = typeof log === 'object' ? log : {};
    const rate = logOptions.sampleRate ?? 1;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw invalid('log.sampleRate', rate, 'a number from 0 to 1');
    }
    if (logOptions.skip !== undefined && typeof logOptions.skip !== 'function') {
      throw invalid('log.skip', logOptions.skip, 'a function');
    }
    this.#sampleRate = rate;
    this.#skip = logOptions.skip ?? defaultSkip;
    this.#message = logOptions.message ?? 'request completed';
  }

  /** The instance requests are recorded into now: the fixed one, else the current default. */
  enterprise(): MonitoredInstance {
    return this.#fixed ?? defaultMonitoredInstance();
  }

  /**
   * Starts a request: picks its correlation id (the inbound one when valid and trusted, else a
   * new UUID) and notes the start time. The adapter echoes `record.correlationId` in `x-request-id`.
   */
  begin(method: string, inboundId: unknown): RequestRecord {
    const enterprise = this.#fixed ?? defaultMonitoredInstance();
    const id =
      this.#trustId && typeof inboundId === 'string' && isValidCorrelationId(inboundId)
        ? inboundId
        : uuid();
    return new RequestRecord(id, enterprise, now(enterprise.config.clock), method);
  }

  /**
   * Runs `fn` (the rest of the host's chain) in the request's context: `getCorrelationId()` returns
   * the request's id anywhere below, and spans opened there name `http.request` as their parent.
   */
  run<T>(record: RequestRecord, fn: (...args: any[]) => T): T {
    return runInContext(record, fn);
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
        );
      }
      if (this.#log) this.#writeLog(record, label, status, aborted, now(clock) - record.start);
    } catch {
      // Instrumentation must never break the host's response; a failure here only costs its metric.
    }
  }

  #writeLog(
    record: RequestRecord,
    route: string,
    status: number,
    aborted: boolean,
    durationMs: number,
  ): void {
    const failed = aborted || status >= 500;
    if (!failed && this.#sampleRate < 1 && Math.random() >= this.#sampleRate) return;
    const logger = this.#loggerOf(record.enterprise);
    const raw = this.#rawWriter;
    const batch = this.#batch;
    if (batch !== undefined && this.#skip === defaultSkip) {
      // The default logger and the default skip, the common case: the line's parts are kept back
      // with no entry object, to be formatted with the rest of its batch (see RequestLineBatch).
      const line = this.#lineOf(route);
      if (status < 500 && line.probe) return;
      const methodIndex = METHOD_INDEX.get(record.method) ?? OTHER_METHOD;
      const head =
        methodIndex === OTHER_METHOD
          ? `"method":${JSON.stringify(record.method)},${line.route}`
          : (line.heads[methodIndex] ??= `"method":"${METHODS[methodIndex]}",${line.route}`);
      // The correlation id needs no escaping: begin() only keeps ids of `[A-Za-z0-9._:@/+=-]`.
      batch.add(head, status, durationMs, record.correlationId, aborted);
      return;
    }
    const entry: RequestLogEntry = {
      method: record.method,
      route,
      status,
      durationMs: Math.round(durationMs * 1000) / 1000,
      correlationId: record.correlationId,
      aborted,
    };
    if (this.#skip(entry)) return;
    if (raw !== undefined) {
      raw.write(failed ? 'warn' : 'info', serializeEntry(entry), this.#message);
    } else if (failed) {
      logger.warn(entry as unknown as Record<string, unknown>, this.#message);
    } else {
      logger.info(entry as unknown as Record<string, unknown>, this.#message);
    }
  }

  /** The cached JSON pieces of a route's log lines. */
  #lineOf(route: string): RouteLine {
    let line = this.#lines.get(route);
    if (line === undefined) {
      line = {
        route: `"route":${JSON.stringify(route)},`,
        probe: HEALTH_PROBE.test(route),
        heads: new Array<string | undefined>(METHODS.length),
      };
      if (this.#lines.size < MAX_CACHED_ROUTES) this.#lines.set(route, line);
    }
    return line;
  }

  #loggerOf(enterprise: MonitoredInstance): Logger {
    if (this.#logEnterprise !== enterprise || this.#logger === undefined) {
      this.#logEnterprise = enterprise;
      this.#logger = enterprise.logger.child({ module: 'http' });
      this.#batch?.drain();
      this.#rawWriter = rawLineWriterOf(this.#logger);
      this.#batch =
        this.#rawWriter === undefined
          ? undefined
          : new RequestLineBatch(this.#rawWriter, this.#message);
    }
    return this.#logger;
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
    const methodIndex = METHOD_INDEX.get(method) ?? OTHER_METHOD;
    let slots = cache.routes.get(route);
    if (slots === undefined) {
      slots = new Array<OperationHandle | undefined>(METHODS.length * CLASS_COUNT);
      if (cache.routes.size < MAX_CACHED_ROUTES) cache.routes.set(route, slots);
    }
    const slot = methodIndex * CLASS_COUNT + cls;
    let handle = slots[slot];
    if (handle === undefined) {
      const labels = checkLabels({
        method: METHODS[methodIndex]!,
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

/**
 * The members of a request's log line as JSON, in the order the logger would write the entry's
 * keys. Numbers that are not finite are written as `null`, as `JSON.stringify` would.
 */
function serializeEntry(entry: RequestLogEntry): string {
  return (
    `"method":${JSON.stringify(entry.method)},"route":${JSON.stringify(entry.route)},` +
    `"status":${jsonNumber(entry.status)},"durationMs":${jsonNumber(entry.durationMs)},` +
    `"correlationId":${JSON.stringify(entry.correlationId)},"aborted":${entry.aborted === true}`
  );
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
