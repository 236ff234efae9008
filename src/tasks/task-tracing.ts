import { currentContext, runInContext } from '../core/context.js';
import { newSpanId, newTraceId, type TraceContext } from '../core/trace-context.js';
import type { Tracer, TraceSpan } from '../performance/tracer.js';
import type { NewTask, TaskRecord } from './types.js';

// A task carries the trace it was submitted in from its producer to whichever process runs it,
// as OpenTelemetry's messaging conventions describe: a producer span at submit (`send <queue>`),
// whose context is stored with the task, and a consumer span at execution (`process <queue>`),
// child of and linked to the producer span, that the handler runs in.

/** The `messaging.system` of the spans. */
export const TASK_MESSAGING_SYSTEM = 'revcopy_tasks';

/**
 * @internal Opens the producer span of one submission and stores its trace context in each task.
 * With OpenTelemetry, a `send <queue>` span, child of the span the caller runs in; without it,
 * the caller's own trace context (the request's), or a new trace outside any. `undefined` when
 * there is no tracer.
 */
export function traceSubmission(
  tracer: Tracer | undefined,
  tasks: readonly NewTask[],
): TraceSpan | undefined {
  if (tracer === undefined || tasks.length === 0) return undefined;
  let trace: TraceContext | undefined;
  let span: TraceSpan | undefined;
  if (tracer.otel) {
    const queue = tasks[0]!.queue;
    const oneQueue = tasks.every((task) => task.queue === queue);
    span = tracer.start(`send ${oneQueue ? queue : 'tasks'}`, {
      kind: 'producer',
      parent: 'current',
      attributes: {
        'messaging.system': TASK_MESSAGING_SYSTEM,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'submit',
        ...(oneQueue ? { 'messaging.destination.name': queue } : {}),
        ...(tasks.length === 1
          ? { 'messaging.message.id': tasks[0]!.id }
          : { 'messaging.batch.message_count': tasks.length }),
      },
    });
    trace = span.trace;
  } else {
    trace = currentContext()?.trace ?? {
      traceId: newTraceId(),
      spanId: newSpanId(),
      traceFlags: 1,
    };
  }
  for (const task of tasks) task.trace = trace;
  return span;
}

/**
 * @internal The consumer span of one attempt: `process <queue>`, child of the producer span stored
 * with the task and linked to it; a new trace for a task stored without one.
 */
export function traceExecution(tracer: Tracer, task: TaskRecord): TraceSpan {
  const producer = task.trace;
  return tracer.start(`process ${task.queue}`, {
    kind: 'consumer',
    parent: producer,
    ...(producer === undefined ? {} : { links: [producer] }),
    attributes: {
      'messaging.system': TASK_MESSAGING_SYSTEM,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': task.queue,
      'messaging.message.id': task.id,
      'task.name': task.name,
      'task.attempt': task.attempts,
    },
  });
}

/**
 * @internal Runs a handler in its attempt's span: a context of its own whose trace is the
 * consumer span's (so its log lines carry the trace id and the span id), active for
 * OpenTelemetry too.
 */
export function runInTaskSpan<R>(span: TraceSpan, fn: () => R): R {
  return runInContext({ correlationId: undefined, span: undefined, trace: span.trace }, () =>
    span.run(fn),
  );
}
