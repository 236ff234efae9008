import { createRequire } from 'node:module';
import { MissingDependencyError } from '../core/errors.js';
import type { Attributes } from './types.js';

/** The slice of `@opentelemetry/api` the bridge uses. */
interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): OtelTracer;
    getTracerProvider(): { getDelegate?: () => object };
    setSpan(context: unknown, span: OtelSpan): unknown;
  };
  context: { active(): unknown; with<R>(context: unknown, fn: () => R): R };
  SpanStatusCode: { ERROR: number };
}
interface OtelTracer {
  startSpan(name: string, options: { attributes?: Attributes }, context: unknown): OtelSpan;
}
interface OtelSpan {
  setStatus(status: { code: number; message?: string }): void;
  recordException(exception: Error | string): void;
  end(): void;
}

/** An OpenTelemetry span opened for one monitored call. */
export interface BridgedSpan {
  span: OtelSpan;
  context: unknown;
}

/**
 * Mirrors monitored spans to OpenTelemetry when `@opentelemetry/api` is installed. Spans are opened
 * in the active OpenTelemetry context and made active for the call, so spans created inside (by
 * database instrumentation, say) become their children.
 *
 * @internal
 */
export class OtelBridge {
  #api: OtelApi | undefined;
  #tracer: OtelTracer | undefined;
  #mode: boolean | 'auto';
  #checked = false;
  #active = false;

  constructor(mode: boolean | 'auto') {
    this.#mode = mode;
    if (mode === false) return;
    try {
      const require = createRequire(import.meta.url);
      this.#api = require('@opentelemetry/api') as OtelApi;
    } catch (error) {
      if (mode === true) {
        throw new MissingDependencyError('@opentelemetry/api', 'performance.openTelemetry', error);
      }
    }
  }

  /**
   * Whether spans are mirrored. In `'auto'` mode the answer is decided once, at the first span:
   * yes when a tracer provider has been registered, so a process without an OpenTelemetry SDK pays
   * nothing for the bridge.
   */
  get active(): boolean {
    if (this.#checked) return this.#active;
    this.#checked = true;
    try {
      return (this.#active = this.#detect());
    } catch {
      // An OpenTelemetry setup that throws while being inspected is treated as absent.
      return (this.#active = false);
    }
  }

  #detect(): boolean {
    const api = this.#api;
    if (api === undefined) return false;
    if (this.#mode === 'auto') {
      const delegate = api.trace.getTracerProvider().getDelegate?.();
      if (delegate === undefined || delegate.constructor.name === 'NoopTracerProvider')
        return false;
    }
    this.#tracer = api.trace.getTracer('@revcopy/enterprise');
    return true;
  }

  /** `@opentelemetry/api` when spans are mirrored ({@link active}), else `undefined`. */
  get api(): unknown {
    return this.active ? this.#api : undefined;
  }

  /** The tracer spans are opened with, when {@link active}. */
  get tracer(): unknown {
    return this.active ? this.#tracer : undefined;
  }

  /** Checks again, at the next span, whether a tracer provider is registered. */
  recheck(): void {
    this.#checked = false;
  }

  start(name: string, attributes: Attributes): BridgedSpan {
    const api = this.#api!;
    const parent = api.context.active();
    const span = this.#tracer!.startSpan(name, { attributes }, parent);
    return { span, context: api.trace.setSpan(parent, span) };
  }

  run<R>(bridged: BridgedSpan, fn: () => R): R {
    return this.#api!.context.with(bridged.context, fn);
  }

  end(bridged: BridgedSpan, error: unknown, failed: boolean): void {
    if (failed) {
      const message = error instanceof Error ? error.message : String(error);
      bridged.span.recordException(error instanceof Error ? error : message);
      bridged.span.setStatus({ code: this.#api!.SpanStatusCode.ERROR, message });
    }
    bridged.span.end();
  }
}
