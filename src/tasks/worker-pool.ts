import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AnyFunction } from '../core/decorators.js';
import type { Logger } from '../core/logger.js';
import { backoffDelay } from './backoff.js';
import { TaskPayloadError, TaskTimeoutError, TaskUnknownError } from './errors.js';
import { decodeJson, encodeJson, toErrorInfo } from './payload.js';
import type { TaskContext } from './task-types.js';
import type {
  AttemptOutcome,
  ClaimedTask,
  FinishResult,
  Lease,
  TaskBackend,
  TaskErrorInfo,
  TaskRecord,
  WorkerInfo,
} from './types.js';

/** A handler as the pool calls it, or why there is none. @internal */
export type ResolvedHandler = { fn: AnyFunction; thisArg: unknown } | { missing: string };

/** What a pool reports to its manager. @internal */
export interface PoolHooks {
  resolve(name: string): ResolvedHandler | undefined;
  started(task: TaskRecord, workerId: string): void;
  progress(task: TaskRecord, progress: unknown): void;
  completed(task: TaskRecord, durationMs: number, result: unknown): void;
  failed(task: TaskRecord, durationMs: number, error: TaskErrorInfo, willRetry: boolean): void;
  retried(task: TaskRecord, runAt: number, delayMs: number): void;
  dead(task: TaskRecord, error: TaskErrorInfo): void;
  /** Dependents the backend killed because a task of this pool died. */
  killed(queue: string, ids: readonly string[]): void;
}

/** @internal */
export interface PoolSettings {
  queue: string;
  minConcurrency: number;
  maxConcurrency: number;
  initialConcurrency: number;
  leaseMs: number;
  heartbeatMs: number;
  /** Tasks claimed ahead of a free slot, so a claim round trip overlaps running tasks. */
  prefetch: number;
  /** Longest single `waitForWork`. */
  idleWaitMs: number;
  /** How often auto-scaling looks at the backlog (only when min < max). */
  scaleIntervalMs: number;
  /** Scale up when the oldest ready task has waited this long. */
  targetWaitMs: number;
}

interface Running {
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
}

interface PendingOutcome {
  outcome: AttemptOutcome;
  after: (result: FinishResult) => void;
}

const MAX_TIMER = 2_147_483_647;

/** A lease the pool lost (expired and taken over); the attempt is abandoned. */
class TaskLeaseLostError extends Error {
  override name = 'TaskLeaseLostError';
}

/** The reason running handlers are aborted with when shutdown stops waiting for them. */
class TaskShutdownError extends Error {
  override name = 'TaskShutdownError';
}

/**
 * Runs tasks of one queue in up to `concurrency` slots: claims for every free slot in one call,
 * waits with `waitForWork` instead of polling, records outcomes in batches (one `finish` per turn
 * of the event loop), renews every lease in one call, and uses one timer for all timeouts.
 *
 * @internal
 */
export class WorkerPool {
  readonly id: string;
  readonly queue: string;
  readonly #backend: TaskBackend;
  readonly #hooks: PoolHooks;
  readonly #log: Logger;
  readonly #settings: PoolSettings;
  readonly #running = new Map<string, Running>();
  /** Claimed ahead of a free slot (prefetch), in claim order; their leases are renewed too. */
  #buffer: ClaimedTask[] = [];
  readonly #abort = new AbortController();
  #pending: PendingOutcome[] = [];
  #flushScheduled = false;
  #flushing: Promise<void> | undefined;
  #concurrency: number;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #slotWaiter: (() => void) | undefined;
  #timers: NodeJS.Timeout[] = [];
  #deadlineTimer: NodeJS.Timeout | undefined;
  #deadlineAt = Number.POSITIVE_INFINITY;
  #idleTicks = 0;
  #processed = 0;
  #failed = 0;
  #lastCompletedAt: number | undefined;
  readonly #startedAt = Date.now();

  constructor(backend: TaskBackend, settings: PoolSettings, hooks: PoolHooks, log: Logger) {
    this.#backend = backend;
    this.#settings = settings;
    this.#hooks = hooks;
    this.#log = log;
    this.queue = settings.queue;
    this.#concurrency = Math.min(
      settings.maxConcurrency,
      Math.max(settings.minConcurrency, settings.initialConcurrency),
    );
    this.id = `${hostname()}:${process.pid}:${settings.queue}:${randomBytes(4).toString('hex')}`;
  }

  /** Current number of slots. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#running.size;
  }

  /** This pool's heartbeat record. */
  info(): WorkerInfo {
    const info: WorkerInfo = {
      id: this.id,
      queue: this.queue,
      host: hostname(),
      pid: process.pid,
      concurrency: this.#concurrency,
      active: this.#running.size,
      processed: this.#processed,
      failed: this.#failed,
      startedAt: this.#startedAt,
      lastHeartbeatAt: Date.now(),
    };
    if (this.#lastCompletedAt !== undefined) info.lastCompletedAt = this.#lastCompletedAt;
    return info;
  }

  start(): void {
    if (this.#loop !== undefined) return;
    const { leaseMs, heartbeatMs, minConcurrency, maxConcurrency, scaleIntervalMs } =
      this.#settings;
    this.#every(Math.max(50, Math.floor(leaseMs / 3)), () => this.#renew());
    this.#every(heartbeatMs, () => this.#heartbeat());
    if (minConcurrency < maxConcurrency) this.#every(scaleIntervalMs, () => this.#scale());
    void this.#heartbeat();
    this.#loop = this.#run();
  }

  /**
   * Stops claiming, waits for running tasks until `deadline` (epoch ms), aborts and gives back
   * the rest, records what finished and removes the pool's worker entry.
   */
  async stop(deadline: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#abort.abort();
    this.#wakeLoop();
    await this.#loop;
    while (this.#running.size > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        timer.unref?.();
        this.#slotWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const leftovers: Lease[] = this.#buffer.map((c) => ({ id: c.task.id, token: c.token }));
    this.#buffer = [];
    for (const running of this.#running.values()) {
      running.done = true;
      abort(
        running,
        new TaskShutdownError('the worker is shutting down; the task is given back to the queue'),
      );
      leftovers.push({ id: running.task.id, token: running.token });
    }
    this.#running.clear();
    await this.#drain(deadline + 5_000);
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    if (leftovers.length > 0) {
      await this.#backend.release(this.queue, leftovers).catch((error) => {
        this.#log.warn(
          { err: error, queue: this.queue, tasks: leftovers.length },
          'could not give running tasks back; they are recovered when their lease expires',
        );
      });
    }
    await this.#backend.removeWorker(this.queue, this.id).catch((error) => {
      this.#log.debug({ err: error, queue: this.queue }, 'could not remove the worker entry');
    });
  }

  #every(ms: number, fn: () => unknown): void {
    const timer = setInterval(() => {
      if (!this.#stopping) void fn();
    }, ms);
    timer.unref?.();
    this.#timers.push(timer);
  }

  async #run(): Promise<void> {
    let errorDelay = 0;
    let drained = false;
    const signal = this.#abort.signal;
    while (!this.#stopping) {
      this.#fill();
      const free = this.#concurrency - this.#running.size;
      const prefetch = this.#settings.prefetch;
      const room = free + Math.max(0, prefetch - this.#buffer.length);
      // With every slot busy, the buffer is topped up only once half of it is used, so claims
      // come in batches rather than one per finished task.
      const topUp = this.#buffer.length <= prefetch / 2;
      // Nothing to ask for, the queue had no more, or no refill due while every slot is busy:
      // wait for a slot.
      if (room <= 0 || (free <= 0 && (drained || !topUp))) {
        await new Promise<void>((resolve) => {
          this.#slotWaiter = resolve;
        });
        drained = false;
        continue;
      }
      let claimed: ClaimedTask[];
      try {
        claimed = await this.#backend.claim(this.queue, this.id, room, this.#settings.leaseMs);
        errorDelay = 0;
      } catch (error) {
        errorDelay = Math.min(5_000, Math.max(100, errorDelay * 2));
        this.#log.warn(
          { err: error, queue: this.queue, retryInMs: errorDelay },
          'claiming tasks failed; trying again',
        );
        await pause(errorDelay, signal);
        continue;
      }
      for (const task of claimed) this.#buffer.push(task);
      if (this.#stopping) break;
      this.#fill();
      drained = claimed.length < room;
      if (drained && this.#buffer.length === 0 && this.#running.size < this.#concurrency) {
        drained = false;
        try {
          await this.#backend.waitForWork(this.queue, this.#settings.idleWaitMs, signal);
        } catch (error) {
          this.#log.debug({ err: error, queue: this.queue }, 'waiting for work failed');
          await pause(500, signal);
        }
      }
    }
  }

  /** Starts claimed tasks in the free slots (a synchronous handler frees its slot at once). */
  #fill(): void {
    while (this.#buffer.length > 0 && this.#running.size < this.#concurrency && !this.#stopping) {
      const claimed = this.#buffer.shift()!;
      try {
        this.#start(claimed);
      } catch (error) {
        // A handler lookup or a thenable that threw: the attempt fails, the loop goes on.
        const running = this.#running.get(claimed.task.id);
        if (running !== undefined) this.#settle(running, false, error, true);
        else this.#log.error({ err: error, task: claimed.task.id }, 'a task could not be started');
      }
    }
  }

  #wakeLoop(): void {
    const waiter = this.#slotWaiter;
    this.#slotWaiter = undefined;
    waiter?.();
  }

  #start(claimed: ClaimedTask): void {
    const task = claimed.task;
    const now = Date.now();
    const running: Running = {
      task,
      token: claimed.token,
      controller: undefined,
      abortReason: undefined,
      started: performance.now(),
      deadline: task.timeoutMs > 0 ? now + task.timeoutMs : Number.POSITIVE_INFINITY,
      done: false,
    };
    this.#running.set(task.id, running);
    this.#hooks.started(task, this.id);

    if (this.#stopping) {
      // Claimed in the same turn shutdown began: give it back rather than start it.
      running.done = true;
      this.#running.delete(task.id);
      void this.#backend
        .release(this.queue, [{ id: task.id, token: claimed.token }])
        .catch(() => {});
      return;
    }
    if (task.attempts > task.maxRetries + 1) {
      // Its earlier attempts were lost with their workers (leases expired): a task that brings its
      // worker down every time must end, not circle forever.
      this.#settle(
        running,
        false,
        new TaskLeaseLostError(
          `task ${task.id} was started ${task.attempts - 1} times without finishing (its worker stopped or lost the lease), more than maxRetries=${task.maxRetries} allows`,
        ),
        false,
      );
      return;
    }
    const handler = this.#hooks.resolve(task.name);
    if (handler === undefined || 'missing' in handler) {
      const message =
        handler === undefined
          ? `no handler is registered for task "${task.name}" in the worker process ${this.id}; register it with @BackgroundTask or backgroundTask() there`
          : handler.missing;
      this.#settle(
        running,
        false,
        new TaskUnknownError(message, { name: task.name, id: task.id }),
        true,
      );
      return;
    }
    let payload: unknown;
    try {
      payload = decodeJson(task.payload);
    } catch (error) {
      this.#settle(
        running,
        false,
        new TaskPayloadError(
          `the stored payload of task ${task.id} is not valid JSON`,
          { id: task.id },
          error,
        ),
        false,
      );
      return;
    }
    if (running.deadline !== Number.POSITIVE_INFINITY) this.#armDeadline(running.deadline);
    const context: TaskContext = {
      id: task.id,
      name: task.name,
      queue: task.queue,
      attempt: task.attempts,
      get signal() {
        if (running.controller === undefined) {
          running.controller = new AbortController();
          if (running.abortReason !== undefined) running.controller.abort(running.abortReason);
        }
        return running.controller.signal;
      },
      progress: (value) => this.#progress(running, value),
    };
    let result: unknown;
    try {
      result = handler.fn.call(handler.thisArg, payload, context);
    } catch (error) {
      this.#settle(running, false, error, true);
      return;
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      (result as PromiseLike<unknown>).then(
        (value) => this.#settle(running, true, value, true),
        (error) => this.#settle(running, false, error, true),
      );
    } else {
      this.#settle(running, true, result, true);
    }
  }

  #progress(running: Running, value: unknown): void {
    if (running.done) return;
    let text: string;
    try {
      text = encodeJson(value, 'progress');
    } catch (error) {
      this.#log.warn({ err: error, task: running.task.id }, 'progress ignored: not JSON');
      return;
    }
    this.#hooks.progress(running.task, value);
    void this.#backend
      .setProgress(this.queue, { id: running.task.id, token: running.token }, text)
      .catch((error) => {
        this.#log.debug({ err: error, task: running.task.id }, 'progress could not be stored');
      });
  }

  /** Ends an attempt: frees its slot now and queues its outcome for the next batch. */
  #settle(running: Running, ok: boolean, value: unknown, retryable: boolean): void {
    if (running.done) return;
    running.done = true;
    this.#running.delete(running.task.id);
    const task = running.task;
    const durationMs = performance.now() - running.started;
    const lease = { id: task.id, token: running.token };
    const now = Date.now();
    if (ok) {
      let result: string | undefined;
      try {
        result = encodeJson(value, 'result');
      } catch (error) {
        // The work is done; running it again for an unstorable result would repeat its effects.
        this.#log.warn(
          { err: error, task: task.id, name: task.name },
          'the task completed but its result cannot be stored as JSON; it is dropped',
        );
        result = undefined;
      }
      this.#queueOutcome({ ...lease, kind: 'completed', result, finishedAt: now }, (r) => {
        if (!r.accepted) return this.#lost(task);
        this.#processed += 1;
        this.#lastCompletedAt = now;
        this.#hooks.completed(task, durationMs, value);
      });
    } else {
      const error = toErrorInfo(value);
      const willRetry = retryable && task.attempts <= task.maxRetries;
      if (willRetry) {
        const delayMs = backoffDelay(task.backoff, task.attempts);
        const runAt = now + delayMs;
        this.#queueOutcome({ ...lease, kind: 'retry', error, runAt }, (r) => {
          if (!r.accepted) return this.#lost(task);
          this.#failed += 1;
          this.#hooks.failed(task, durationMs, error, true);
          this.#hooks.retried(task, runAt, delayMs);
        });
      } else {
        this.#queueOutcome({ ...lease, kind: 'dead', error, finishedAt: now }, (r) => {
          if (!r.accepted) return this.#lost(task);
          this.#failed += 1;
          this.#hooks.failed(task, durationMs, error, false);
          this.#hooks.dead({ ...task, error, state: 'dead' }, error);
          if (r.killed !== undefined && r.killed.length > 0)
            this.#hooks.killed(this.queue, r.killed);
        });
      }
    }
    this.#wakeLoop();
  }

  #lost(task: TaskRecord): void {
    this.#log.warn(
      { task: task.id, name: task.name, queue: this.queue },
      'the outcome of a task was refused: its lease had expired and another worker took it over',
    );
  }

  #queueOutcome(outcome: AttemptOutcome, after: (result: FinishResult) => void): void {
    this.#pending.push({ outcome, after });
    if (this.#flushScheduled || this.#flushing !== undefined) return;
    this.#flushScheduled = true;
    // Every attempt that settles in this turn of the event loop goes into one `finish` call.
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  #flush(): Promise<void> {
    if (this.#flushing !== undefined) return this.#flushing;
    if (this.#pending.length === 0) return Promise.resolve();
    this.#flushing = (async () => {
      const batch = this.#pending;
      this.#pending = [];
      try {
        const results = await this.#backend.finish(
          this.queue,
          batch.map((p) => p.outcome),
        );
        for (let i = 0; i < batch.length; i++) {
          const result = results[i] ?? { id: batch[i]!.outcome.id, accepted: false };
          try {
            batch[i]!.after(result);
          } catch (error) {
            this.#log.error({ err: error }, 'a task outcome listener failed');
          }
        }
      } catch (error) {
        // Keep them (in order) and try again: the leases are renewed meanwhile.
        this.#pending = batch.concat(this.#pending);
        this.#log.warn(
          { err: error, queue: this.queue, outcomes: batch.length },
          'recording task outcomes failed; trying again',
        );
        await pause(500, undefined);
      } finally {
        this.#flushing = undefined;
      }
      if (this.#pending.length > 0 && !this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          void this.#flush();
        });
      }
    })();
    return this.#flushing;
  }

  /** Records every pending outcome, trying until `deadline`. */
  async #drain(deadline: number): Promise<void> {
    while ((this.#pending.length > 0 || this.#flushing !== undefined) && Date.now() < deadline) {
      await this.#flush();
    }
  }

  async #renew(): Promise<void> {
    const leases: Lease[] = [];
    for (const running of this.#running.values()) {
      leases.push({ id: running.task.id, token: running.token });
    }
    for (const pending of this.#pending) {
      leases.push({ id: pending.outcome.id, token: pending.outcome.token });
    }
    for (const claimed of this.#buffer) leases.push({ id: claimed.task.id, token: claimed.token });
    if (leases.length === 0) return;
    try {
      const lost = await this.#backend.renewLeases(this.queue, leases, this.#settings.leaseMs);
      if (lost.length > 0) {
        const gone = new Set(lost);
        this.#buffer = this.#buffer.filter((c) => !gone.has(c.task.id));
      }
      for (const id of lost) {
        const running = this.#running.get(id);
        if (running === undefined) continue;
        running.done = true;
        this.#running.delete(id);
        abort(
          running,
          new TaskLeaseLostError(`the lease on task ${id} expired and another worker may run it`),
        );
        this.#lost(running.task);
      }
      if (lost.length > 0) this.#wakeLoop();
    } catch (error) {
      this.#log.warn({ err: error, queue: this.queue }, 'renewing task leases failed');
    }
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.#backend.heartbeat(this.info(), this.#settings.heartbeatMs * 3);
    } catch (error) {
      this.#log.debug({ err: error, queue: this.queue }, 'heartbeat failed');
    }
  }

  /**
   * Auto-scaling: grows by half when every slot is busy and the oldest ready task has waited longer
   * than `targetWaitMs`; shrinks by one after three looks in a row with nothing waiting and fewer
   * than half the slots busy.
   */
  async #scale(): Promise<void> {
    const { minConcurrency, maxConcurrency, targetWaitMs } = this.#settings;
    let counts: Awaited<ReturnType<TaskBackend['counts']>>;
    try {
      counts = await this.#backend.counts(this.queue);
    } catch {
      return;
    }
    const waitedMs = counts.oldestWaitingAt === undefined ? 0 : Date.now() - counts.oldestWaitingAt;
    const busy = this.#running.size >= this.#concurrency;
    if (
      counts.waiting > 0 &&
      busy &&
      waitedMs >= targetWaitMs &&
      this.#concurrency < maxConcurrency
    ) {
      const next = Math.min(maxConcurrency, this.#concurrency + Math.ceil(this.#concurrency / 2));
      this.#log.debug({ queue: this.queue, from: this.#concurrency, to: next }, 'scaling up');
      this.#concurrency = next;
      this.#idleTicks = 0;
      this.#wakeLoop();
      return;
    }
    if (counts.waiting === 0 && this.#running.size < this.#concurrency / 2) {
      this.#idleTicks += 1;
      if (this.#idleTicks >= 3 && this.#concurrency > minConcurrency) {
        this.#concurrency -= 1;
        this.#idleTicks = 0;
      }
    } else {
      this.#idleTicks = 0;
    }
  }

  /** One timer for every timeout: set for the earliest deadline, moved when an earlier one comes. */
  #armDeadline(at: number): void {
    if (at >= this.#deadlineAt) return;
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineAt = at;
    this.#deadlineTimer = setTimeout(
      () => this.#expire(),
      Math.min(MAX_TIMER, Math.max(0, at - Date.now())),
    );
    this.#deadlineTimer.unref?.();
  }

  #expire(): void {
    this.#deadlineTimer = undefined;
    this.#deadlineAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const running of [...this.#running.values()]) {
      if (running.deadline <= now) {
        const error = new TaskTimeoutError(
          `task ${running.task.id} (${running.task.name}) timed out after ${running.task.timeoutMs} ms`,
          { id: running.task.id, name: running.task.name, timeoutMs: running.task.timeoutMs },
        );
        abort(running, error);
        this.#settle(running, false, error, true);
      } else if (running.deadline < next) {
        next = running.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#armDeadline(next);
  }
}

/** Aborts the attempt's signal (now, or when the handler first reads it). */
function abort(running: Running, reason: unknown): void {
  if (running.abortReason !== undefined) return;
  running.abortReason = reason;
  running.controller?.abort(reason);
}

/** Sleeps `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
