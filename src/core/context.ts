import { AsyncLocalStorage } from 'node:async_hooks';
import { describeValue, InvalidArgumentError } from './errors.js';
import type { TraceContext } from './trace-context.js';
import { uuid } from './uuid.js';

/** The span that is running, as the request context sees it. The performance module fills it in. */
export interface ActiveSpan {
  /** Operation name, e.g. `UserService.authenticate` or `http.request`. */
  readonly name: string;
  /** The span this one was opened in, if any. */
  readonly parent: ActiveSpan | undefined;
}

/** What the package knows about the unit of work in progress (usually one incoming request). */
export interface RequestContext {
  /**
   * Ties together every log line, span and event of one request. `undefined` when a span was opened
   * outside {@link withContext} (and outside any adapter's request).
   */
  readonly correlationId: string | undefined;
  /** The innermost span opened in this context, if any. */
  readonly span: ActiveSpan | undefined;
  /**
   * The W3C trace and the span this unit of work runs in: continued from an inbound `traceparent`
   * or started by the HTTP middleware, or carried by a task from its submitter to its worker.
   */
  readonly trace?: TraceContext | undefined;
}

/** Options of {@link withContext}. */
export interface ContextOptions {
  /** Reuse this id (an inbound `x-request-id`, say) instead of generating one. */
  correlationId?: string;
}

const STORAGE = Symbol.for('@revcopy/enterprise/request-context');
let storage: AsyncLocalStorage<RequestContext> | undefined;

/**
 * The one context store of the process, kept on `globalThis` so the ESM and CommonJS builds of the
 * package, loaded side by side, see the same correlation id and spans. Created on first use.
 */
function contextStorage(): AsyncLocalStorage<RequestContext> {
  if (storage !== undefined) return storage;
  const holder = globalThis as { [STORAGE]?: AsyncLocalStorage<RequestContext> };
  holder[STORAGE] ??= new AsyncLocalStorage<RequestContext>();
  storage = holder[STORAGE];
  return storage;
}
const CORRELATION_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Whether `value` can be used as a correlation id: 1 to 128 characters from a safe set (letters,
 * digits and `._:@/+=-`), so an inbound header cannot inject anything into logs or responses.
 *
 * @example
 * ```ts
 * isValidCorrelationId(req.headers['x-request-id']); // false for undefined, '', or 'a\nb'
 * ```
 */
export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && CORRELATION_ID.test(value);
}

/**
 * Runs `fn` in a new request context with its own correlation id, which {@link getCorrelationId}
 * returns anywhere below it, across `await`s and timers. Returns what `fn` returns.
 *
 * @example
 * ```ts
 * await withContext({ correlationId: req.headers['x-request-id'] }, async () => {
 *   logger.info(getCorrelationId()); // the inbound id
 * });
 * ```
 */
export function withContext<T>(fn: () => T): T;
export function withContext<T>(options: ContextOptions, fn: () => T): T;
export function withContext<T>(first: ContextOptions | (() => T), second?: () => T): T {
  const fn = typeof first === 'function' ? first : second;
  const options = typeof first === 'function' ? {} : (first ?? {});
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError('withContext needs a function to run', {
      argument: 'fn',
      value: fn,
      expected: 'a function',
    });
  }
  const { correlationId } = options;
  if (correlationId !== undefined && !isValidCorrelationId(correlationId)) {
    throw new InvalidArgumentError(
      `correlationId=${describeValue(correlationId)} is invalid: expected 1 to 128 characters from [A-Za-z0-9._:@/+=-]`,
      { argument: 'correlationId', value: correlationId, expected: 'a safe id string' },
    );
  }
  return contextStorage().run({ correlationId: correlationId ?? uuid(), span: undefined }, fn);
}

/**
 * The correlation id of the current request context, or `undefined` outside one.
 *
 * @example
 * ```ts
 * res.setHeader('x-request-id', getCorrelationId() ?? 'none');
 * ```
 */
export function getCorrelationId(): string | undefined {
  return contextStorage().getStore()?.correlationId;
}

/**
 * The current request context (correlation id and innermost span), or `undefined` outside one.
 * A copy with these two fields: the object the store holds may carry more (the HTTP middleware's
 * record of the request), which is not the caller's to read or to log.
 *
 * @example
 * ```ts
 * const span = getContext()?.span; // e.g. { name: 'UserService.login', parent: { name: 'http.request' } }
 * ```
 */
export function getContext(): RequestContext | undefined {
  const context = contextStorage().getStore();
  if (context === undefined) return undefined;
  return context.trace === undefined
    ? { correlationId: context.correlationId, span: context.span }
    : { correlationId: context.correlationId, span: context.span, trace: context.trace };
}

/**
 * The W3C trace context of the current unit of work (an instrumented request, a task's
 * execution), or `undefined` outside one: the ids every log line of it carries, and what an
 * outgoing call passes on in `traceparent` (see `formatTraceparent`).
 *
 * @example
 * ```ts
 * const trace = getTraceContext();
 * if (trace) headers.traceparent = formatTraceparent(trace);
 * ```
 */
export function getTraceContext(): TraceContext | undefined {
  return contextStorage().getStore()?.trace;
}

/** @internal The current context without the public wrapper, for hot paths. */
export function currentContext(): RequestContext | undefined {
  return contextStorage().getStore();
}

/**
 * @internal Runs `fn` in `context`, an object the caller made (and must not change while `fn`
 * and what it starts run).
 */
export function runInContext<R>(context: RequestContext, fn: () => R): R {
  return contextStorage().run(context, fn);
}

/**
 * @internal Runs `fn` with `span` as the innermost span, keeping the surrounding correlation id.
 */
export function runInSpan<R>(
  span: ActiveSpan,
  parent: RequestContext | undefined,
  fn: (...args: any[]) => R,
  thisArg: unknown,
  args: readonly unknown[],
): R {
  // Reflect.apply as the callback avoids allocating a closure per call on this hot path.
  return contextStorage().run(
    { correlationId: parent?.correlationId, span, trace: parent?.trace },
    Reflect.apply as (f: typeof fn, t: unknown, a: readonly unknown[]) => R,
    fn,
    thisArg,
    args,
  );
}
