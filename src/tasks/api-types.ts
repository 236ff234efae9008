import type { Duration } from '../core/duration.js';
import type { TraceContext } from '../core/trace-context.js';
import type { TaskPriorityValue } from './priority.js';
import type {
  BackoffSpec,
  GroupInfo,
  QueueLimits,
  TaskErrorInfo,
  TaskState,
  WorkerInfo,
} from './types.js';

/**
 * The task names of an application and their payload types. Empty by default: any name and any
 * payload are accepted. Augment it once and `submitTask` checks both at compile time (and then
 * refuses names that are not in it).
 *
 * @example
 * ```ts
 * declare module '@revcopy/enterprise/tasks' {
 *   interface TaskRegistry {
 *     process_analytics: { userId: number };
 *     send_welcome_email: string;
 *     nightly_cleanup: undefined; // submitted without a payload
 *   }
 * }
 * await submitTask('process_analytics', { userId: 123 });
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: applications fill it in through declaration merging.
export interface TaskRegistry {}

/** Task names `submitTask` accepts: any string while {@link TaskRegistry} is empty, else its keys. */
export type TaskName<R = TaskRegistry> = [keyof R] extends [never] ? string : keyof R & string;

/** The payload type of task `N`: from {@link TaskRegistry}, or anything for an unregistered name. */
export type TaskPayload<N extends string, R = TaskRegistry> = N extends keyof R ? R[N] : any;

/** `[payload, options?]`, with the payload optional when the task's payload type allows `undefined`. */
export type SubmitArgs<N extends string, R = TaskRegistry> =
  undefined extends TaskPayload<N, R>
    ? [payload?: TaskPayload<N, R>, options?: SubmitOptions]
    : [payload: TaskPayload<N, R>, options?: SubmitOptions];

/** The signature of `submitTask` over a registry (the exported one uses {@link TaskRegistry}). */
export type SubmitTaskFunction<R = TaskRegistry> = <N extends TaskName<R>>(
  name: N,
  ...args: SubmitArgs<N, R>
) => Promise<string>;

/** One entry of `submitTasks`. */
export type TaskSubmission<R = TaskRegistry> = {
  [N in TaskName<R>]: { name: N; payload?: TaskPayload<N, R>; options?: SubmitOptions };
}[TaskName<R>];

/**
 * What a handler gets besides its payload. Destructuring works (`{ signal, progress }`), but
 * `signal`, `progress` and `rateLimited` are accessors, not own fields: a copy made with spread
 * (`{ ...context }`) does not carry them, so name them when passing a copy on (`{ ...context,
 * signal: context.signal, progress: context.progress }`).
 */
export interface TaskContext {
  /** The task id (stable across retries). */
  readonly id: string;
  /** The task name. */
  readonly name: string;
  readonly queue: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /**
   * Aborted when the attempt times out (reason: `TaskTimeoutError`), when the worker lost the lease,
   * or when shutdown gives up waiting. Pass it on to `fetch`, database drivers, timers...
   */
  readonly signal: AbortSignal;
  /** Reports progress (any JSON value), stored with the task and emitted as a `progress` event. */
  progress(value: unknown): void;
  /**
   * Says the remote side rate-limited this attempt, and throws (a `TaskRateLimitedError`): the
   * task goes back in line without spending an attempt, and its group (an ungrouped task: its
   * queue) starts nothing for `retryAfter` (seconds or a string with a unit) in any process.
   *
   * @example
   * ```ts
   * if (res.status === 429) ctx.rateLimited(Number(res.headers.get('retry-after') ?? 1));
   * ```
   */
  rateLimited(retryAfter: Duration): never;
}

/**
 * A task handler: gets the payload and a {@link TaskContext}; what it returns (JSON) is stored as
 * the task's result; what it throws fails the attempt.
 */
export type TaskHandler<P = any, R = unknown> = (payload: P, context: TaskContext) => R;

/** Backoff between retries, as options take it. */
export interface BackoffOptions {
  /** @defaultValue 'exponential' */
  type?: BackoffSpec['type'];
  /** First retry delay (seconds or a string with a unit). @defaultValue '1s' */
  delay?: Duration;
  /** Growth factor per attempt (exponential). @defaultValue 2 */
  factor?: number;
  /** Longest delay. @defaultValue '5m' */
  maxDelay?: Duration;
  /** Fraction of each delay that is random, 0 to 1. @defaultValue 0.2 */
  jitter?: number;
}

/** Defaults of a task kind, given where its handler is registered; submit options override them. */
export interface TaskDefinitionOptions {
  /** Queue its tasks go to. @defaultValue TASK_QUEUE_NAME */
  queue?: string;
  /** @defaultValue TaskPriority.NORMAL */
  priority?: TaskPriorityValue;
  /** Retries after the first attempt. @defaultValue TASK_MAX_RETRIES */
  maxRetries?: number;
  backoff?: BackoffOptions | BackoffSpec['type'];
  /** Per-attempt timeout; `0` for none. @defaultValue none */
  timeout?: Duration;
}

/** Options of `submitTask`. Durations are seconds or strings with a unit (`'500ms'`, `'5m'`). */
export interface SubmitOptions extends TaskDefinitionOptions {
  /** Run no sooner than this long from now. */
  delay?: Duration;
  /** Run no sooner than this time (a `Date` or epoch milliseconds). Wins over `delay`. */
  runAt?: Date | number;
  /** Ids of tasks (same queue) that must complete first. */
  dependsOn?: readonly string[];
  /**
   * When a dependency ends dead or cancelled: `true` kills this task too (it goes to the dead letter
   * queue with the reason), `false` runs it anyway. @defaultValue true
   */
  failOnDependencyFailure?: boolean;
  /** A caller-chosen id: submitting the same id twice creates one task. @defaultValue a random UUID */
  id?: string;
  /**
   * Keeps `id` taken for this long after the task is submitted, even once retention removed the
   * task: a submit of the same id meanwhile creates nothing (deduplication). Without it, an id is
   * taken only while its task is stored. @defaultValue none
   */
  uniqueFor?: Duration;
  /**
   * The group (a tenant, an account) the task belongs to: within its queue, ready tasks of
   * different groups are claimed in turns, so a group with many tasks does not starve the others;
   * priorities order the tasks inside a group. 1 or more characters from `[A-Za-z0-9_.:@/+=-]`,
   * counting toward the 200 characters of the task id. See "Groups" in docs/tasks.md.
   * @defaultValue none (ungrouped)
   */
  group?: string;
  /**
   * Accept a name no handler is registered for in this process even though some are (see
   * "Unknown task names" in docs/tasks.md). @defaultValue false
   */
  allowUnknown?: boolean;
}

/** A task as `tasks.get()` shows it: payload, result and progress parsed back from JSON. */
export interface TaskInfo<P = unknown, R = unknown> {
  id: string;
  name: string;
  queue: string;
  state: TaskState;
  payload: P;
  priority: number;
  /** Attempts started so far. */
  attempts: number;
  /** The group it was submitted with, if any. */
  group?: string;
  maxRetries: number;
  /** Set once completed. */
  result?: R;
  /** The last attempt's error (name, message, stack, code). */
  error?: TaskErrorInfo;
  progress?: unknown;
  dependsOn: readonly string[];
  /** Dependencies still to complete while blocked. */
  pendingDependencies?: readonly string[];
  workerId?: string;
  createdAt: Date;
  runAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** The W3C trace context the task was submitted in (see docs/tracing.md). */
  trace?: TraceContext;
}

/** Events of a task manager (`enterprise.tasks.on(...)`), for tasks submitted or run by this process. */
export interface TaskEvents {
  submitted: [event: { id: string; name: string; queue: string; state: TaskState }];
  started: [event: { id: string; name: string; queue: string; attempt: number; workerId: string }];
  progress: [event: { id: string; name: string; queue: string; progress: unknown }];
  completed: [
    event: {
      id: string;
      name: string;
      queue: string;
      attempt: number;
      durationMs: number;
      result: unknown;
    },
  ];
  /** An attempt failed; `willRetry` says whether a `retried` or a `dead` event follows. */
  failed: [
    event: {
      id: string;
      name: string;
      queue: string;
      attempt: number;
      durationMs: number;
      error: TaskErrorInfo;
      willRetry: boolean;
    },
  ];
  retried: [
    event: {
      id: string;
      name: string;
      queue: string;
      attempt: number;
      runAt: Date;
      delayMs: number;
    },
  ];
  /** A task went to the dead letter queue (out of retries, or a dependency failed). */
  dead: [
    event: { id: string; name: string; queue: string; attempts: number; error: TaskErrorInfo },
  ];
}

/** A worker pool in `stats()`, with its health. */
export interface WorkerStats extends WorkerInfo {
  /** Heartbeating and, while holding tasks, completing them. */
  healthy: boolean;
  /** Why it is unhealthy. */
  reason?: string;
}

/** Failures of one kind: same task name, error name and message. */
export interface FailureGroup {
  task: string;
  errorName: string;
  /** The message with numbers and ids replaced by `#`, so similar failures group together. */
  message: string;
  count: number;
  lastAt: Date;
  /** The id of the last task that failed this way. */
  lastTaskId: string;
}

/** One group of a queue in `stats()`. */
export interface GroupStats extends GroupInfo {
  /** Tasks of the group completed per second by this process over about the last minute. */
  throughput: number;
}

/** The groups of a queue in `stats()`: the deepest ones, the rest summed as "other". */
export interface QueueGroupStats {
  /** Groups with work, held tasks, paused or waiting out a limit. */
  total: number;
  waiting: number;
  active: number;
  /** The queue's limits and group defaults. */
  limits: QueueLimits;
  /** The deepest groups (at most 10). */
  top: GroupStats[];
  /** The groups beyond `top`, summed. */
  other: { groups: number; waiting: number; active: number };
}

/** One queue in `stats()`. */
export interface QueueStats {
  name: string;
  paused: boolean;
  waiting: number;
  delayed: number;
  blocked: number;
  active: number;
  completed: number;
  dead: number;
  /** Age of the oldest ready task still waiting, in milliseconds (0 when none waits). */
  oldestWaitingMs: number;
  /** Tasks of this queue completed per second by this process over the last minute. */
  throughput: number;
  /**
   * Attempts of this queue that failed per second in this process over the last minute (retried
   * ones included), the failure twin of `throughput`: `failedPerSecond / (throughput +
   * failedPerSecond)` is the queue's failure rate.
   */
  failedPerSecond: number;
  /** Its groups, when it has some or limits (and the backend keeps groups). */
  groups?: QueueGroupStats;
  /** Worker pools of every process consuming this queue. */
  workers: WorkerStats[];
}

/** `tasks.stats()`. */
export interface TaskStats {
  /** The backend's name: `memory`, `redis`. */
  backend: string;
  queues: QueueStats[];
  /** Worker pools of every process, over all queues (the same entries as in `queues`). */
  workers: WorkerStats[];
  /** This process: attempts finished per second over the last minute. */
  throughput: { completedPerSecond: number; failedPerSecond: number };
  /** This process since start. */
  totals: { completed: number; failed: number; retried: number; dead: number };
  /**
   * Failure analysis: attempts that failed in this process, grouped by task name, error name and
   * message, most frequent first.
   */
  failures: FailureGroup[];
  /** The same grouping over the most recent dead tasks of every queue (all processes). */
  deadLetterFailures: FailureGroup[];
}
