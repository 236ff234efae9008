import type { AnyFunction } from '../../core/decorators.js';
import { type Duration, parseDuration } from '../../core/duration.js';
import type { TraceSpan } from '../../performance/tracer.js';
import type { TaskContext } from '../api-types.js';
import { TaskPayloadError, TaskRateLimitedError, TaskUnknownError } from '../errors.js';
import { decodeJson } from '../payload.js';
import type { AttemptOutcome, ClaimedTask, TaskRecord } from '../types.js';
import type { PoolHooks } from './types.js';

/** One attempt a pool runs, from its start until its outcome is recorded. */
export interface Running {
  task: TaskRecord;
  token: string;
  /** Created when the handler first reads `signal`: most handlers never do, and it costs. */
  controller: AbortController | undefined;
  /** Why the attempt was aborted, for a `signal` first read afterwards. */
  abortReason: unknown;
  /** performance.now() at start. */
  started: number;
  /** Epoch ms after which the attempt times out; Infinity for none. */
  deadline: number;
  done: boolean;
  /** Set when the attempt ends: what `finish` records (the attempt then waits in `#pending`). */
  outcome: AttemptOutcome | undefined;
  /** What the hooks get once the outcome is recorded: the handler's result, and the timings. */
  value: unknown;
  durationMs: number;
  delayMs: number;
  /** The consumer span the handler runs in; ended when the attempt settles. */
  span: TraceSpan | undefined;
  /** The latest progress reported and not yet sent to the backend (JSON). */
  progressText: string | undefined;
  /** The progress write in flight; the attempt's outcome is recorded after it. */
  progressWrite: Promise<void> | undefined;
}

/** The attempt of a claimed task, starting now. */
export function newAttempt(claimed: ClaimedTask): Running {
  const task = claimed.task;
  return {
    task,
    token: claimed.token,
    controller: undefined,
    abortReason: undefined,
    started: performance.now(),
    deadline: task.timeoutMs > 0 ? Date.now() + task.timeoutMs : Number.POSITIVE_INFINITY,
    done: false,
    outcome: undefined,
    value: undefined,
    durationMs: 0,
    delayMs: 0,
    span: undefined,
    progressText: undefined,
    progressWrite: undefined,
  };
}

/**
 * The context a handler gets. A class, so that `signal` and `progress` are getters on the
 * prototype rather than a getter and a closure built for every attempt; `progress` is still a
 * bound function, as handlers destructure it (`(payload, { progress }) => ...`).
 */
export class AttemptContext implements TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly #running: Running;
  readonly #report: (running: Running, value: unknown) => void;
  #progress: ((value: unknown) => void) | undefined;

  constructor(running: Running, report: (running: Running, value: unknown) => void) {
    const task = running.task;
    this.id = task.id;
    this.name = task.name;
    this.queue = task.queue;
    this.attempt = task.attempts;
    this.#running = running;
    this.#report = report;
  }

  get signal(): AbortSignal {
    const running = this.#running;
    if (running.controller === undefined) {
      running.controller = new AbortController();
      if (running.abortReason !== undefined) running.controller.abort(running.abortReason);
    }
    return running.controller.signal;
  }

  /** A function bound to this attempt (handlers destructure it, as `progress`). */
  get rateLimited(): (retryAfter: Duration) => never {
    return (retryAfter: Duration) => {
      const ms = parseDuration(retryAfter, 'retryAfter');
      throw new TaskRateLimitedError(
        `task ${this.id} was rate-limited by the remote side; its ${this.#running.task.group === undefined ? 'queue' : 'group'} waits ${ms} ms`,
        ms,
      );
    };
  }

  get progress(): (value: unknown) => void {
    this.#progress ??= (value: unknown) => this.#report(this.#running, value);
    return this.#progress;
  }
}

/** A lease the pool lost (expired and taken over); the attempt is abandoned. */
export class TaskLeaseLostError extends Error {
  override name = 'TaskLeaseLostError';
}

/** The reason running handlers are aborted with when shutdown stops waiting for them. */
export class TaskShutdownError extends Error {
  override name = 'TaskShutdownError';
}

/** Aborts the attempt's signal (now, or when the handler first reads it). */
export function abort(running: Running, reason: unknown): void {
  if (running.abortReason !== undefined) return;
  running.abortReason = reason;
  running.controller?.abort(reason);
}

/** What an attempt runs: its handler and payload, or why it cannot run here. */
export type PreparedAttempt =
  | { handler: { fn: AnyFunction; thisArg: unknown }; payload: unknown }
  | { error: Error; retryable: boolean };

/**
 * Checks a claimed task before its handler runs: that it has attempts left, a handler in this
 * process, and a payload that parses. The failure says whether a retry may succeed.
 */
export function prepareAttempt(
  task: TaskRecord,
  hooks: PoolHooks,
  workerId: string,
): PreparedAttempt {
  if (task.attempts > task.maxRetries + 1) {
    // Its earlier attempts were lost with their workers (leases expired): a task that brings its
    // worker down every time must end, not circle forever.
    return {
      error: new TaskLeaseLostError(
        `task ${task.id} was started ${task.attempts - 1} times without finishing (its worker stopped or lost the lease), more than maxRetries=${task.maxRetries} allows`,
      ),
      retryable: false,
    };
  }
  const handler = hooks.resolve(task.name);
  if (handler === undefined || 'missing' in handler) {
    const message =
      handler === undefined
        ? `no handler is registered for task "${task.name}" in the worker process ${workerId}; register it with @BackgroundTask or backgroundTask() there`
        : handler.missing;
    return {
      error: new TaskUnknownError(message, { name: task.name, id: task.id }),
      retryable: true,
    };
  }
  let payload: unknown;
  try {
    payload = decodeJson(task.payload);
    // The claimed record is the pool's own (a fresh one per claim). Its payload text is most
    // of the memory an attempt holds until its outcome is recorded, and it is not read again:
    // dropping it keeps the garbage collector from copying it from young generation to old.
    task.payload = '';
  } catch (error) {
    return {
      error: new TaskPayloadError(
        `the stored payload of task ${task.id} is not valid JSON`,
        { id: task.id },
        error,
      ),
      retryable: false,
    };
  }
  return { handler, payload };
}
