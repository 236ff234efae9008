import { type Logger, type RawLineWriter, rawLineWriterOf } from '../core/logger.js';
import type { TraceContext } from '../core/trace-context.js';
import { jsonNumber, RequestLineBatch } from './request-line-batch.js';
import { METHODS, methodIndex, OTHER_METHOD } from './request-methods.js';

// The per-request log line of the request instrumentation: sampled, probes skipped, written through
// the instance's logger (batched when it writes raw lines).

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
  /** The request's W3C trace id, unless the middleware's `tracing` option is off. */
  readonly traceId?: string;
  /** The request's span id (its server span's, with OpenTelemetry), beside `traceId`. */
  readonly spanId?: string;
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

/** Beyond this many distinct routes the pieces of their lines are not cached. */
const MAX_CACHED_ROUTES = 2000;
const HEALTH_PROBE = /\/health\/(?:live|ready)$/;

function defaultSkip(entry: RequestLogEntry): boolean {
  return entry.status < 500 && HEALTH_PROBE.test(entry.route);
}

/** A route's log line pieces: `"route":…,`, whether it is a health probe, and `"method":…,"route":…,` per method. */
interface RouteLine {
  readonly route: string;
  readonly probe: boolean;
  readonly heads: (string | undefined)[];
}

/** @internal What the log line reads of a request: a `RequestRecord`. */
export interface LoggedRequest {
  readonly method: string;
  readonly correlationId: string;
  /** The request's trace, when traced. */
  readonly trace: TraceContext | undefined;
  /** The instance the request is recorded into. */
  readonly enterprise: { readonly logger: Logger };
}

/** @internal The log lines of one instrumentation's requests, as its options ask. */
export class RequestLog {
  readonly #sampleRate: number;
  readonly #skip: (entry: RequestLogEntry) => boolean;
  readonly #message: string;
  #logEnterprise: LoggedRequest['enterprise'] | undefined;
  #logger: Logger | undefined;
  #rawWriter: RawLineWriter | undefined;
  /** The request lines kept back for {@link #rawWriter}. */
  #batch: RequestLineBatch | undefined;
  readonly #lines = new Map<string, RouteLine>();

  /** The options checked by the caller: `sampleRate` from 0 to 1, `skip` a function if given. */
  constructor(
    sampleRate: number,
    skip: ((entry: RequestLogEntry) => boolean) | undefined,
    message: string | undefined,
  ) {
    this.#sampleRate = sampleRate;
    this.#skip = skip ?? defaultSkip;
    this.#message = message ?? 'request completed';
  }

  /** Writes the line of a request that ended, unless it is sampled out or skipped. */
  write(
    record: LoggedRequest,
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
      const index = methodIndex(record.method);
      const head =
        index === OTHER_METHOD
          ? `"method":${JSON.stringify(record.method)},${line.route}`
          : (line.heads[index] ??= `"method":"${METHODS[index]}",${line.route}`);
      // The correlation id needs no escaping: begin() only keeps ids of `[A-Za-z0-9._:@/+=-]`,
      // and trace ids are hex.
      batch.add(head, status, durationMs, record.correlationId, aborted, record.trace);
      return;
    }
    const trace = record.trace;
    const entry: RequestLogEntry =
      trace === undefined
        ? {
            method: record.method,
            route,
            status,
            durationMs: Math.round(durationMs * 1000) / 1000,
            correlationId: record.correlationId,
            aborted,
          }
        : {
            method: record.method,
            route,
            status,
            durationMs: Math.round(durationMs * 1000) / 1000,
            correlationId: record.correlationId,
            traceId: trace.traceId,
            spanId: trace.spanId,
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

  /** The instance's `http` logger, made again when requests go to another instance. */
  #loggerOf(enterprise: LoggedRequest['enterprise']): Logger {
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
}

/**
 * The members of a request's log line as JSON, in the order the logger would write the entry's
 * keys. Numbers that are not finite are written as `null`, as `JSON.stringify` would.
 */
function serializeEntry(entry: RequestLogEntry): string {
  return (
    `"method":${JSON.stringify(entry.method)},"route":${JSON.stringify(entry.route)},` +
    `"status":${jsonNumber(entry.status)},"durationMs":${jsonNumber(entry.durationMs)},` +
    `"correlationId":${JSON.stringify(entry.correlationId)},` +
    (entry.traceId === undefined
      ? ''
      : `"traceId":${JSON.stringify(entry.traceId)},"spanId":${JSON.stringify(entry.spanId)},`) +
    `"aborted":${entry.aborted === true}`
  );
}
