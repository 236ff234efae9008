import { currentContext } from '../core/context.js';
import { newSpanId, newTraceId, type TraceContext } from '../core/trace-context.js';
import { OtelBridge } from './otel-bridge.js';
import type { Attributes } from './types.js';

// The spans of a request, a task's submission and execution, and a cache tier's remote calls:
// OpenTelemetry spans when an SDK is registered (through the monitor's bridge), otherwise ids of
// our own, so that log lines carry the same fields either way.

/** The kinds of span, as OpenTelemetry names them. @internal */
export type TraceSpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** How a span is opened. @internal */
export interface TraceSpanOptions {
  kind: TraceSpanKind;
  /**
   * Its parent: a remote context (an inbound `traceparent`, a task's stored one), `'current'` for
   * the span the caller runs in (a new trace outside any), or `undefined` for a new trace.
   */
  parent: TraceContext | 'current' | undefined;
  /** Spans this one is causally linked to (a consumer span links to the producer's). */
  links?: readonly TraceContext[];
  attributes?: Attributes;
}

/** The slice of `@opentelemetry/api` spans of every kind need. */
interface OtelApi {
  trace: {
    setSpan(context: unknown, span: OtelSpan): unknown;
    setSpanContext(context: unknown, spanContext: OtelSpanContext): unknown;
    getSpan(context: unknown): OtelSpan | undefined;
    deleteSpan(context: unknown): unknown;
  };
  context: { active(): unknown; with<R>(context: unknown, fn: () => R): R };
  createTraceState?: (raw?: string) => unknown;
  SpanStatusCode: { ERROR: number };
}
interface OtelSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: unknown;
}
interface OtelSpan {
  spanContext(): OtelSpanContext;
  setAttributes(attributes: Attributes): void;
  updateName(name: string): void;
  setStatus(status: { code: number; message?: string }): void;
  recordException(exception: Error | string): void;
  end(): void;
}
interface OtelTracer {
  startSpan(
    name: string,
    options: {
      kind: number;
      attributes?: Attributes;
      links?: { context: OtelSpanContext }[];
    },
    context: unknown,
  ): OtelSpan;
}

const KINDS: Record<TraceSpanKind, number> = {
  internal: 0,
  server: 1,
  client: 2,
  producer: 3,
  consumer: 4,
};

/** New traces this package starts are sampled: the SDK's sampler decides for OpenTelemetry ones. */
const SAMPLED = 1;

/**
 * One span in flight: an OpenTelemetry span when an SDK is registered, else only its ids.
 * {@link TraceSpan.trace} is what the work it covers runs with (request context, log lines).
 *
 * @internal
 */
export class TraceSpan {
  readonly trace: TraceContext;
  readonly #api: OtelApi | undefined;
  readonly #span: OtelSpan | undefined;
  readonly #context: unknown;
  #ended = false;

  constructor(trace: TraceContext, api?: OtelApi, span?: OtelSpan, context?: unknown) {
    this.trace = trace;
    this.#api = api;
    this.#span = span;
    this.#context = context;
  }

  /** Whether this is an OpenTelemetry span. */
  get otel(): boolean {
    return this.#span !== undefined;
  }

  /** Runs `fn` with this span active for OpenTelemetry (a no-op wrapper without an SDK). */
  run<R>(fn: () => R): R {
    return this.#api === undefined ? fn() : this.#api.context.with(this.#context, fn);
  }

  /** Adds attributes (OpenTelemetry only). Never throws. */
  setAttributes(attributes: Attributes): void {
    try {
      this.#span?.setAttributes(attributes);
    } catch {
      // A tracer that throws costs the attribute, never the traced work.
    }
  }

  /** Renames the span (a request's once its route is known). Never throws. */
  updateName(name: string): void {
    try {
      this.#span?.updateName(name);
    } catch {
      // As above.
    }
  }

  /** Ends the span, as failed with `error` when `failed`. Only the first call counts; never throws. */
  end(failed = false, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span === undefined) return;
    try {
      if (failed) {
        const message =
          error === undefined ? undefined : error instanceof Error ? error.message : String(error);
        if (error !== undefined) span.recordException(error instanceof Error ? error : message!);
        span.setStatus(
          message === undefined
            ? { code: this.#api!.SpanStatusCode.ERROR }
            : { code: this.#api!.SpanStatusCode.ERROR, message },
        );
      }
      span.end();
    } catch {
      // As above.
    }
  }
}

/**
 * Opens spans of every kind: OpenTelemetry spans through the monitor's bridge when an SDK is
 * registered (so they join the host's traces and exporters), else spans that only carry W3C ids.
 *
 * @example
 * ```ts
 * const span = monitor.tracer.start('publish emails', { kind: 'producer', parent: 'current' });
 * try { await send(); } finally { span.end(); }
 * ```
 * @internal
 */
export class Tracer {
  readonly #bridge: OtelBridge;
  /** Look again for an SDK registered later, at most this often (0: never; the monitor rechecks). */
  readonly #recheckMs: number;
  #recheckAt = 0;

  constructor(bridge: OtelBridge, recheckMs = 0) {
    this.#bridge = bridge;
    this.#recheckMs = recheckMs;
  }

  /** Whether spans are OpenTelemetry spans (an SDK is registered and the bridge is on). */
  get otel(): boolean {
    const bridge = this.#bridge;
    if (this.#recheckMs > 0 && !bridge.active) {
      const now = Date.now();
      if (now >= this.#recheckAt) {
        this.#recheckAt = now + this.#recheckMs;
        bridge.recheck();
      }
    }
    return bridge.active;
  }

  /** Opens a span. An OpenTelemetry setup that throws gives a span with ids only; never throws. */
  start(name: string, options: TraceSpanOptions): TraceSpan {
    if (this.otel) {
      try {
        return this.#startOtel(name, options);
      } catch {
        // Fall through to a span of our own: tracing never fails the traced work.
      }
    }
    const parent = options.parent === 'current' ? currentContext()?.trace : options.parent;
    return new TraceSpan(
      parent === undefined
        ? { traceId: newTraceId(), spanId: newSpanId(), traceFlags: SAMPLED }
        : {
            traceId: parent.traceId,
            spanId: newSpanId(),
            traceFlags: parent.traceFlags,
            traceState: parent.traceState,
          },
    );
  }

  /**
   * The span the host's own OpenTelemetry instrumentation made active (an HTTP server span, say),
   * as a trace context; `undefined` without an SDK or without such a span.
   */
  activeOtelTrace(): TraceContext | undefined {
    if (!this.#bridge.active) return undefined;
    try {
      const api = this.#bridge.api as OtelApi;
      const span = api.trace.getSpan(api.context.active());
      return span === undefined ? undefined : fromOtel(span.spanContext());
    } catch {
      return undefined;
    }
  }

  #startOtel(name: string, options: TraceSpanOptions): TraceSpan {
    const api = this.#bridge.api as OtelApi;
    const tracer = this.#bridge.tracer as OtelTracer;
    const active = api.context.active();
    let parent: unknown;
    if (options.parent === 'current') {
      const trace = currentContext()?.trace;
      // Our context carries a trace the OpenTelemetry context lost (no context manager, a
      // callback queued elsewhere): it is the parent.
      parent =
        api.trace.getSpan(active) !== undefined || trace === undefined
          ? active
          : api.trace.setSpanContext(active, toOtel(api, trace, false));
    } else if (options.parent === undefined) {
      parent = api.trace.deleteSpan(active);
    } else {
      parent = api.trace.setSpanContext(active, toOtel(api, options.parent, true));
    }
    const links = options.links?.map((link) => ({ context: toOtel(api, link, true) }));
    const span = tracer.startSpan(
      name,
      {
        kind: KINDS[options.kind],
        ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
        ...(links === undefined || links.length === 0 ? {} : { links }),
      },
      parent,
    );
    return new TraceSpan(fromOtel(span.spanContext()), api, span, api.trace.setSpan(parent, span));
  }
}

function toOtel(api: OtelApi, trace: TraceContext, remote: boolean): OtelSpanContext {
  const context: OtelSpanContext = {
    traceId: trace.traceId,
    spanId: trace.spanId,
    traceFlags: trace.traceFlags,
    isRemote: remote,
  };
  if (trace.traceState !== undefined && api.createTraceState !== undefined) {
    context.traceState = api.createTraceState(trace.traceState);
  }
  return context;
}

function fromOtel(context: OtelSpanContext): TraceContext {
  const state = (context.traceState as { serialize?: () => string } | undefined)?.serialize?.();
  return state === undefined || state === ''
    ? { traceId: context.traceId, spanId: context.spanId, traceFlags: context.traceFlags }
    : {
        traceId: context.traceId,
        spanId: context.spanId,
        traceFlags: context.traceFlags,
        traceState: state,
      };
}

let processTracer: Tracer | undefined;

/**
 * @internal The tracer of code that has no instance's monitor at hand (a cache built with
 * `createCache()`): OpenTelemetry spans once an SDK is registered (`'auto'`).
 */
export function defaultTracer(): Tracer {
  processTracer ??= new Tracer(new OtelBridge('auto'), 5_000);
  return processTracer;
}
