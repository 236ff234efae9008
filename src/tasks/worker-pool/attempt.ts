import type { TaskContext } from '../api-types.js';
import type { AttemptOutcome, TaskRecord } from '../types.js';

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
