import { EnterpriseError } from '../core/errors.js';

/**
 * A payload (or a handler's result) cannot be stored as JSON: a function, a symbol, a BigInt, a
 * cycle, `undefined` at the top level, a non-finite number... The message names the path of the
 * offending value. Also a payload whose JSON text is longer than `tasks.maxPayloadBytes` (context
 * `bytes` and `limit`). Thrown by `submitTask` before anything is stored.
 *
 * @example
 * ```ts
 * await submitTask('send_email', { to: 'a@b.c', onDone: () => {} }); // TaskPayloadError (E_TASK_PAYLOAD): payload.onDone is a function
 * ```
 */
export class TaskPayloadError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_PAYLOAD', message, { context, cause });
  }
}

/**
 * A `submitMany` of more tasks than one backend call stores (1,000) was stored in part: a batch
 * failed after earlier ones were stored. `context.stored` says how many, `context.storedIds`
 * which, `context.total` how many the call had; `cause` is the backend's error. Submitting the
 * same tasks again with the same ids creates only the missing ones.
 *
 * @example
 * ```ts
 * try {
 *   await tasks.submitMany(manyTasks);
 * } catch (error) {
 *   if (error instanceof TaskSubmitIncompleteError) console.warn(`${error.context.stored} stored`);
 * }
 * ```
 */
export class TaskSubmitIncompleteError extends EnterpriseError {
  constructor(
    message: string,
    context: { stored: number; total: number; storedIds: readonly string[] },
    cause?: unknown,
  ) {
    super('E_TASK_SUBMIT_INCOMPLETE', message, { context, cause });
  }
}

/**
 * No handler is registered under a task name: thrown by `submitTask` when this process has
 * handlers for the queue but not that one (`strict` submit option), and recorded as the failure of
 * a task that a worker claimed without having its handler.
 *
 * @example
 * ```ts
 * await submitTask('no_such_task', {}, { strict: true }); // TaskUnknownError (E_TASK_UNKNOWN)
 * ```
 */
export class TaskUnknownError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_TASK_UNKNOWN', message, { context });
  }
}

/**
 * Dependencies are wrong: a cycle among the tasks of one `submitTasks` call, a dependency id that
 * names no task of the queue, or (as the recorded error of a dependent) a dependency that ended dead
 * or cancelled.
 *
 * @example
 * ```ts
 * await submitTask('report', {}, { dependsOn: ['missing-id'] }); // TaskDependencyError (E_TASK_DEPENDENCY)
 * ```
 */
export class TaskDependencyError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_TASK_DEPENDENCY', message, { context });
  }
}

/**
 * An attempt ran past its `timeout`. The handler's `signal` is aborted with this error, the attempt
 * is recorded as failed with it, and the worker slot is freed even if the handler never settles.
 *
 * @example
 * ```ts
 * backgroundTask('slow', async (_p, { signal }) => fetch(url, { signal }), { timeout: '30s' });
 * ```
 */
export class TaskTimeoutError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_TASK_TIMEOUT', message, { context });
  }
}

/**
 * A schedule cannot be set up: a cron expression or time zone that does not parse, an interval that
 * is not a positive duration, or a schedule name that is already taken.
 *
 * @example
 * ```ts
 * scheduler.schedulePeriodic('every day', 'nightly', 'optimize_database'); // TaskScheduleError (E_TASK_SCHEDULE)
 * ```
 */
export class TaskScheduleError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_SCHEDULE', message, { context, cause });
  }
}

/**
 * `waitFor` gave up: the task did not finish within the timeout. The task itself keeps going.
 *
 * @example
 * ```ts
 * await tasks.waitFor(id, { timeout: '5s' }); // TaskWaitTimeoutError (E_TASK_WAIT_TIMEOUT)
 * ```
 */
export class TaskWaitTimeoutError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_TASK_WAIT_TIMEOUT', message, { context });
  }
}

/**
 * `waitFor` settled on a task that ended dead or cancelled; `task` holds the record (with its
 * error) and `cause` the stored error rebuilt as an `Error`.
 *
 * @example
 * ```ts
 * try { await tasks.waitFor(id); } catch (e) { if (e instanceof TaskFailedError) console.log(e.task.error); }
 * ```
 */
export class TaskFailedError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_FAILED', message, { context, cause });
  }
}

/**
 * The error name and code a backend records on a dependent killed because a dependency ended dead
 * or cancelled (the message names the dependency id and its state), so failure analysis groups
 * them the same way whichever backend stored them.
 */
export const DEPENDENCY_FAILED = Object.freeze({
  name: 'TaskDependencyError',
  code: 'E_TASK_DEPENDENCY',
  message: (dependencyId: string, state: string) =>
    `dependency ${dependencyId} ended ${state}, so this task will not run`,
});

/**
 * How often a task may be handed to a worker that then lost it before its start was recorded
 * (the worker died with the task prefetched, or its handler blocked the event loop before the
 * start could be sent), before a backend gives up on it. Such deliveries cost no attempt; this
 * bound keeps a task that stops every worker it reaches from circling forever.
 */
export const UNSTARTED_DELIVERIES = Object.freeze({
  limit: 10,
  name: 'TaskLeaseLostError',
  code: 'E_TASK_LEASE_LOST',
  message: (deliveries: number) =>
    `the task was handed to a worker ${deliveries} times and each time the worker stopped (or its lease expired) before the start of its handler was recorded`,
});

/**
 * A sandboxed handler's file cannot serve: it does not exist (thrown when the handler is
 * registered), or it loads but its default export is not a function, or it fails to load (the
 * recorded error of the attempt). `context.file` is the resolved path.
 *
 * @example
 * ```ts
 * backgroundTask('resize', { sandbox: './no-such-file.js' }); // TaskSandboxFileError (E_TASK_SANDBOX_FILE)
 * ```
 */
export class TaskSandboxFileError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_SANDBOX_FILE', message, { context, cause });
  }
}

/**
 * The worker thread or child process running a sandboxed handler ended while the attempt ran: it
 * ran out of memory, called `process.exit`, was killed, or threw outside the handler's promise.
 * The attempt fails (and is retried as usual); the pool starts a new thread for the next task.
 * `context` holds `kind`, `exitCode` and `reason`.
 *
 * @example
 * ```ts
 * // handler.js: export default () => process.exit(1);
 * // the attempt fails with TaskSandboxCrashError (E_TASK_SANDBOX_CRASH)
 * ```
 */
export class TaskSandboxCrashError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_SANDBOX_CRASH', message, { context, cause });
  }
}

/**
 * A value cannot cross into or out of a sandbox: the payload sent to a worker thread or child
 * process, or the result it sends back, is not structured-cloneable (a function, a symbol, a class
 * instance with private state...). The attempt fails with it; nothing crashes.
 *
 * @example
 * ```ts
 * // handler.js: export default () => ({ done: () => {} });
 * // the attempt fails with TaskSandboxCloneError (E_TASK_SANDBOX_CLONE)
 * ```
 */
export class TaskSandboxCloneError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_SANDBOX_CLONE', message, { context, cause });
  }
}

/**
 * What `context.rateLimited(retryAfter)` throws inside a handler: the remote side refused for now.
 * The worker hands the task back without spending an attempt, and its group (an ungrouped task:
 * its queue) starts nothing for `retryAfterMs` in any process. Rethrow it if you catch it.
 *
 * @example
 * ```ts
 * backgroundTask('charge', async (payload, ctx) => {
 *   const res = await fetch(url);
 *   if (res.status === 429) ctx.rateLimited(Number(res.headers.get('retry-after') ?? 1)); // throws
 * });
 * ```
 */
export class TaskRateLimitedError extends EnterpriseError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super('E_TASK_RATE_LIMITED', message, { context: { retryAfterMs } });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A group name that cannot be used: empty, longer than the task id allows with it (a group
 * counts toward the 200 characters of a task id), or with a character outside
 * `[A-Za-z0-9_.:@/+=-]`. Thrown by `submitTask` and the group calls before anything is stored.
 *
 * @example
 * ```ts
 * await submitTask('sync', {}, { group: 'tenant 42' }); // TaskGroupError (E_TASK_GROUP)
 * ```
 */
export class TaskGroupError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_TASK_GROUP', message, { context });
  }
}

/**
 * A rate limit or group setting that cannot be used: a limit that is not a positive whole number,
 * a window that is not a positive duration, a weight or cap that is not positive, or a backend
 * without groups and limits.
 *
 * @example
 * ```ts
 * await tasks.configureQueue('emails', { rateLimit: { limit: 0, per: '1s' } }); // TaskLimitError (E_TASK_LIMIT)
 * ```
 */
export class TaskLimitError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_TASK_LIMIT', message, { context });
  }
}
