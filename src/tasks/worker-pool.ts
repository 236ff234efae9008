import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../core/logger.js';
import { TaskPayloadError, TaskTimeoutError, TaskUnknownError } from './errors.js';
import { decodeJson, encodeJson } from './payload.js';
import type { ClaimedTask, Lease, QueueCounts, TaskBackend, WorkerInfo } from './types.js';
import {
  AttemptContext,
  abort,
  type Running,
  TaskLeaseLostError,
  TaskShutdownError,
} from './worker-pool/attempt.js';
import { scaleStep } from './worker-pool/autoscale.js';
import { OutcomeBatches } from './worker-pool/outcomes.js';
import type { PoolHooks, PoolSettings } from './worker-pool/types.js';
import { pause, settledBy } from './worker-pool/waits.js';

export type { PoolHooks, PoolSettings, ResolvedHandler } from './worker-pool/types.js';

const MAX_TIMER = 2_147_483_647;

/** Claims a pool keeps in flight at once (see `#run`). */
const MAX_CLAIMS_IN_FLIGHT = 2;

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
  /** Starts and outcomes waiting for the next `finish`. */
  readonly #outcomes: OutcomeBatches;
  /** Reports a handler's progress (one function per pool, shared by every context). */
  readonly #report = (running: Running, value: unknown): void => this.#progress(running, value);
  #concurrency: number;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #slotWaiter: (() => void) | undefined;
  #timers: NodeJS.Timeout[] = [];
  #deadlineTimer: NodeJS.Timeout | undefined;
  #deadlineAt = Number.POSITIVE_INFINITY;
  #idleTicks = 0;
  /** Claims in flight, and how many tasks they asked for. */
  readonly #claims = new Set<Promise<void>>();
  #asked = 0;
  /** The last claim returned fewer tasks than it asked for: the queue had no more ready. */
  #drained = false;
  /** After a failed claim: no claim before this time (epoch ms); 0 when none failed. */
  #retryAt = 0;
  #errorDelay = 0;
  /** Set once stop() gave the buffer back: a claim answering later gives its tasks back itself. */
  #returnLateClaims = false;
  /** The queue is paused: start nothing, claim nothing, give back what a claim brings. */
  #paused = false;
  readonly #startedAt = Date.now();

  constructor(backend: TaskBackend, settings: PoolSettings, hooks: PoolHooks, log: Logger) {
    this.#backend = backend;
    this.#settings = settings;
    this.#hooks = hooks;
    this.#log = log;
    this.queue = settings.queue;
    this.#outcomes = new OutcomeBatches(backend, settings.queue, hooks, log);
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
      processed: this.#outcomes.processed,
      failed: this.#outcomes.failed,
      startedAt: this.#startedAt,
      lastHeartbeatAt: Date.now(),
    };
    const lastCompletedAt = this.#outcomes.lastCompletedAt;
    if (lastCompletedAt !== undefined) info.lastCompletedAt = lastCompletedAt;
    return info;
  }

  start(): void {
    if (this.#loop !== undefined) return;
    const { leaseMs, heartbeatMs, minConcurrency, maxConcurrency, scaleIntervalMs } =
      this.#settings;
    // Renewal goes on during shutdown: the tasks it waits for (and those not yet given back) must
    // keep their leases, or another worker would recover and run them while they still run here.
    this.#every(Math.max(50, Math.floor(leaseMs / 3)), () => this.#renew(), true);
    this.#every(heartbeatMs, () => this.#heartbeat());
    if (minConcurrency < maxConcurrency) this.#every(scaleIntervalMs, () => this.#scale());
    void this.#heartbeat();
    this.#loop = this.#run();
  }

  /**
   * Stops claiming, gives back what it claimed and did not start, waits for running tasks until
   * `deadline` (epoch ms), aborts and gives back the rest, records what finished and removes the
   * pool's worker entry.
   */
  async stop(deadline: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#abort.abort();
    this.#wakeLoop();
    await this.#loop;
    // Claims still in flight put their tasks in the buffer. What was claimed and never started
    // goes back now rather than after the running tasks end: other workers can run it meanwhile.
    // A claim that has not answered by the deadline is not waited for (a custom backend's call
    // may hang): its tasks go back whenever it answers (see #claim).
    await settledBy(Promise.all(this.#claims), deadline);
    this.#returnLateClaims = true;
    if (this.#buffer.length > 0) {
      const buffered: Lease[] = this.#buffer.map((c) => ({ id: c.task.id, token: c.token }));
      this.#buffer = [];
      await this.#giveBack(buffered);
    }
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
    const leftovers: Lease[] = [];
    for (const running of this.#running.values()) {
      running.done = true;
      abort(
        running,
        new TaskShutdownError('the worker is shutting down; the task is given back to the queue'),
      );
      leftovers.push({ id: running.task.id, token: running.token });
    }
    this.#running.clear();
    await this.#outcomes.drain(deadline + 5_000);
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    if (leftovers.length > 0) await this.#giveBack(leftovers);
    await this.#backend.removeWorker(this.queue, this.id).catch((error) => {
      this.#log.debug({ err: error, queue: this.queue }, 'could not remove the worker entry');
    });
  }

  /**
   * Stops starting tasks and claiming, at once (running tasks go on). What is already claimed stays
   * in the buffer until {@link returnPrefetched}: the caller first makes sure no other worker can
   * claim it (pauses the queue in the backend), then gives it back.
   */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Gives back the tasks claimed and not started (the attempt is not counted), and waits for the
   * claims in flight, which give theirs back once they answer (see `#claim`), for up to a lease.
   * Does nothing for tasks when the pool was resumed meanwhile.
   */
  async returnPrefetched(): Promise<void> {
    if (this.#paused && this.#buffer.length > 0) {
      const buffered: Lease[] = this.#buffer.map((c) => ({ id: c.task.id, token: c.token }));
      this.#buffer = [];
      await this.#giveBack(buffered);
    }
    await settledBy(Promise.all(this.#claims), Date.now() + this.#settings.leaseMs);
  }

  /** Starts tasks and claims again after {@link pause}. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#wakeLoop();
  }

  /** Gives tasks back to the queue; on failure they are recovered when their lease expires. */
  async #giveBack(leases: Lease[]): Promise<void> {
    try {
      await this.#backend.release(this.queue, leases);
    } catch (error) {
      this.#log.warn(
        { err: error, queue: this.queue, tasks: leases.length },
        'could not give tasks back; they are recovered when their lease expires',
      );
    }
  }

  /** Runs `fn` every `ms` until stop() ends; while stopping only when `whileStopping`. */
  #every(ms: number, fn: () => unknown, whileStopping = false): void {
    const timer = setInterval(() => {
      if (whileStopping || !this.#stopping) void fn();
    }, ms);
    timer.unref?.();
    this.#timers.push(timer);
  }

  /**
   * The claim loop. A claim asks for the free slots plus the prefetch reserve, minus what is
   * buffered or already asked for; while every slot is busy it waits until half the reserve is
   * used, so claims stay batched. Up to {@link MAX_CLAIMS_IN_FLIGHT} claims are in flight: under
   * load the next batch is asked for as soon as the current one arrives, so Redis prepares it
   * while this process runs the current one (the two overlap instead of taking turns).
   */
  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!this.#stopping) {
      if (this.#paused) {
        await this.#nextWake();
        continue;
      }
      this.#fill();
      const free = this.#concurrency - this.#running.size;
      const coming = this.#buffer.length + this.#asked;
      const want = free + this.#settings.prefetch - coming;
      if (this.#claims.size === 0) {
        if (this.#retryAt > 0) {
          const wait = this.#retryAt - Date.now();
          this.#retryAt = 0;
          if (wait > 0) await pause(wait, signal);
          continue;
        }
        if (this.#drained) {
          this.#drained = false;
          if (this.#buffer.length === 0 && free > 0) {
            // The queue had nothing more and a slot is idle: block until work is added.
            try {
              await this.#backend.waitForWork(this.queue, this.#settings.idleWaitMs, signal);
            } catch (error) {
              this.#log.debug({ err: error, queue: this.queue }, 'waiting for work failed');
              await pause(500, signal);
            }
          } else {
            // Every slot is busy: ask again once one frees.
            await this.#nextWake();
          }
          continue;
        }
      }
      // Ask when a slot would otherwise stay idle, or once half the reserve is used.
      if (
        want > 0 &&
        !this.#drained &&
        this.#retryAt === 0 &&
        this.#claims.size < MAX_CLAIMS_IN_FLIGHT &&
        (free > coming || want * 2 >= this.#settings.prefetch)
      ) {
        this.#claim(want);
        continue;
      }
      await this.#nextWake();
    }
  }

  /** Sends one claim for `max` tasks; its tasks join the buffer and wake the loop. */
  #claim(max: number): void {
    this.#asked += max;
    let request: Promise<ClaimedTask[]>;
    try {
      request = this.#backend.claim(this.queue, this.id, max, this.#settings.leaseMs);
    } catch (error) {
      // A backend that throws rather than rejecting (a hand-written one that checks its state
      // first) is a failed claim like any other: thrown here, it would end the claim loop.
      request = Promise.reject(error);
    }
    const claim = request.then(
      (claimed) => {
        this.#errorDelay = 0;
        if (this.#returnLateClaims || this.#paused) {
          // Answered after stop() stopped waiting for it, or after the queue was paused: nobody
          // runs these here now. A pause waits for this (returnPrefetched), a stop does not.
          if (claimed.length > 0) {
            return this.#giveBack(claimed.map((c) => ({ id: c.task.id, token: c.token })));
          }
          return;
        }
        // Even when stopping: buffered tasks are given back by stop().
        for (let i = 0; i < claimed.length; i++) this.#buffer.push(claimed[i]!);
        this.#drained = claimed.length < max;
      },
      (error: unknown) => {
        this.#errorDelay = Math.min(5_000, Math.max(100, this.#errorDelay * 2));
        this.#retryAt = Date.now() + this.#errorDelay;
        this.#log.warn(
          { err: error, queue: this.queue, retryInMs: this.#errorDelay },
          'claiming tasks failed; trying again',
        );
      },
    );
    const settled = claim.then(() => {
      this.#asked -= max;
      this.#claims.delete(settled);
      this.#wakeLoop();
    });
    this.#claims.add(settled);
  }

  /** Resolves at the next {@link #wakeLoop} (a slot freed, a claim came back, stop, scaling). */
  #nextWake(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#slotWaiter = resolve;
    });
  }

  /** Starts claimed tasks in the free slots (a synchronous handler frees its slot at once). */
  #fill(): void {
    while (
      this.#buffer.length > 0 &&
      this.#running.size < this.#concurrency &&
      !this.#stopping &&
      !this.#paused
    ) {
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
      outcome: undefined,
      value: undefined,
      durationMs: 0,
      delayMs: 0,
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
      // The claimed record is the pool's own (a fresh one per claim). Its payload text is most
      // of the memory an attempt holds until its outcome is recorded, and it is not read again:
      // dropping it keeps the garbage collector from copying it from young generation to old.
      task.payload = '';
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
    this.#outcomes.started(running);
    const context = new AttemptContext(running, this.#report);
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
    running.durationMs = performance.now() - running.started;
    this.#outcomes.ended(running, ok, value, retryable);
    this.#wakeLoop();
  }

  async #renew(): Promise<void> {
    const leases: Lease[] = [];
    for (const running of this.#running.values()) {
      leases.push({ id: running.task.id, token: running.token });
    }
    this.#outcomes.pendingLeases(leases);
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
        this.#outcomes.lost(running.task);
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

  /** One look of auto-scaling (see {@link scaleStep}). */
  async #scale(): Promise<void> {
    let counts: QueueCounts;
    try {
      counts = await this.#backend.counts(this.queue);
    } catch {
      return;
    }
    const from = this.#concurrency;
    const step = scaleStep(counts, this.#running.size, from, this.#idleTicks, this.#settings);
    this.#concurrency = step.concurrency;
    this.#idleTicks = step.idleTicks;
    if (step.grew) {
      this.#log.debug({ queue: this.queue, from, to: step.concurrency }, 'scaling up');
      this.#wakeLoop();
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
