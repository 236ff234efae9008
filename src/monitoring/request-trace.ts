// The middleware's W3C trace context: an inbound `traceparent` / `tracestate` continued, or a new
// trace started; an OpenTelemetry server span when an SDK is registered (unless the host's own
// HTTP instrumentation already made one, which is then used as it is).
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import {
  newSpanId,
  newTraceId,
  parseTraceparent,
  parseTracestate,
  type TraceContext,
} from '../core/trace-context.js';
import type { Tracer, TraceSpan } from '../performance/tracer.js';

/**
 * The middleware's `tracing` option, as an object.
 *
 * @example
 * ```ts
 * app.use(enterpriseMiddleware({ tracing: { trustTraceparent: false } }));
 * ```
 */
export interface RequestTracingOptions {
  /**
   * Continue the trace of a valid inbound `traceparent` (and its `tracestate`); `false` starts a
   * new trace for every request (an edge service whose clients must not choose trace ids).
   * @defaultValue true
   */
  trustTraceparent?: boolean;
}

/** What the middleware traces with; `undefined` when the `tracing` option is `false`. @internal */
export interface RequestTracing {
  readonly trustTraceparent: boolean;
}

/** @internal The `tracing` option, checked. */
export function requestTracing(option: unknown): RequestTracing | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return { trustTraceparent: true };
  if (option === null || typeof option !== 'object') {
    throw new InvalidArgumentError(
      `tracing=${describeValue(option)} is invalid: expected a boolean or { trustTraceparent }`,
      { argument: 'tracing', value: option, expected: 'a boolean or { trustTraceparent }' },
    );
  }
  const trust = (option as RequestTracingOptions).trustTraceparent ?? true;
  if (typeof trust !== 'boolean') {
    throw new InvalidArgumentError(
      `tracing.trustTraceparent=${describeValue(trust)} is invalid: expected a boolean`,
      { argument: 'tracing.trustTraceparent', value: trust, expected: 'a boolean' },
    );
  }
  return { trustTraceparent: trust };
}

/** @internal The trace a request runs in, and its OpenTelemetry server span if one was opened. */
export interface RequestTraceStart {
  trace: TraceContext;
  span: TraceSpan | undefined;
}

/**
 * @internal Starts a request's trace: the parent is the inbound `traceparent` when valid and
 * trusted, else none (a new trace). With OpenTelemetry, a server span named after the method
 * (renamed `METHOD /route` at the end); a span the host's instrumentation made active is used
 * instead, with no second server span.
 */
export function startRequestTrace(
  tracing: RequestTracing,
  tracer: Tracer,
  method: string,
  traceparent: unknown,
  tracestate: unknown,
): RequestTraceStart {
  let parent = tracing.trustTraceparent ? parseTraceparent(traceparent) : undefined;
  if (parent !== undefined) {
    const state = parseTracestate(tracestate);
    if (state !== undefined) parent = { ...parent, traceState: state };
  }
  if (tracer.otel) {
    const host = tracer.activeOtelTrace();
    if (host !== undefined) return { trace: host, span: undefined };
    const span = tracer.start(method, {
      kind: 'server',
      parent,
      attributes: { 'http.request.method': method },
    });
    return { trace: span.trace, span: span.otel ? span : undefined };
  }
  return {
    trace:
      parent === undefined
        ? { traceId: newTraceId(), spanId: newSpanId(), traceFlags: 1 }
        : {
            traceId: parent.traceId,
            spanId: newSpanId(),
            traceFlags: parent.traceFlags,
            traceState: parent.traceState,
          },
    span: undefined,
  };
}

/** @internal Names and ends a request's server span once the response is complete. */
export function endRequestSpan(
  span: TraceSpan,
  method: string,
  route: string | undefined,
  status: number,
  aborted: boolean,
): void {
  if (route !== undefined) {
    span.updateName(`${method} ${route}`);
    span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
  } else {
    span.setAttributes({ 'http.response.status_code': status });
  }
  span.end(aborted || status >= 500);
}
