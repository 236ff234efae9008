import type { ActiveSpan, RequestContext } from '../core/context.js';
import type { TraceContext } from '../core/trace-context.js';
import type { OperationSeries } from './operation-series.js';
import type { BridgedSpan } from './otel-bridge.js';
import type { Attributes } from './types.js';

/**
 * One monitored call in flight. It becomes the current span of the request context while the call
 * runs, so spans opened inside record it as their parent.
 *
 * @internal
 */
export class Span implements ActiveSpan {
  otel: BridgedSpan | undefined = undefined;
  /** The W3C trace of the context the call ran in, if any: its events and log lines carry the id. */
  trace: TraceContext | undefined = undefined;

  constructor(
    readonly name: string,
    readonly parent: ActiveSpan | undefined,
    readonly series: OperationSeries,
    readonly attributes: Attributes,
    readonly thresholdMs: number,
    readonly correlationId: string | undefined,
    readonly start: number,
  ) {}

  /** A span opened in the request context `context`: its span is the parent, its id is kept. */
  static in(
    context: RequestContext | undefined,
    name: string,
    series: OperationSeries,
    attributes: Attributes,
    thresholdMs: number,
    start: number,
  ): Span {
    const span = new Span(
      name,
      context?.span,
      series,
      attributes,
      thresholdMs,
      context?.correlationId,
      start,
    );
    span.trace = context?.trace;
    return span;
  }

  /** Names of the enclosing spans, innermost first. */
  parentNames(): string[] {
    const names: string[] = [];
    for (let p = this.parent; p !== undefined; p = p.parent) names.push(p.name);
    return names;
  }
}
