import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../core/logger.js';
import { encodeJson } from './payload.js';
import { runInTaskSpan } from './task-tracing.js';
import type { ClaimedTask, Lease, TaskBackend, WorkerInfo } from './types.js';
import {
  AttemptContext,
  abort,
  newAttempt,
  prepareAttempt,
  type Running,
  TaskShutdownError,
} from './worker-pool/attempt.js';
import { Autoscaler } from './worker-pool/autoscale.js';
import { AttemptDeadlines } from './worker-pool/deadlines.js';
import { type LeaseHolder, renewPoolLeases } from './worker-pool/lease-renewal.js';
import { OutcomeBatches } from './worker-pool/outcomes.js';
import { Prefetch } from './worker-pool/prefetch.js';
import { storeProgress } from './worker-pool/progress.js';
import { StartGate } from './worker-pool/start-gate.js';
import type { PoolHooks, PoolSettings } from './worker-pool/types.js';
import { pause, settledBy } from './worker-pool/waits.js';

export type { PoolHooks, PoolSettings, ResolvedHandler } from './worker-pool/types.js';

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
  /** Claimed ahead of a free slot, and the claims in flight. */
  readonly #prefetch: Prefetch;
  readonly #abort = new AbortController();
  /** Starts and outcomes waiting for the next `finish`. */
  readonly #outcomes: OutcomeBatches;
  /** What lease renewal works on. */
  readonly #leases: LeaseHolder;
  readonly #deadlines: AttemptDeadlines;
  readonly #autoscaler: Autoscaler;
  /** Paused groups and rate-limit windows: which claimed tasks may still start. */
  readonly #gate: StartGate;
  /** Reports a handler's progress (one function per pool, shared by every context). */
  readonly #report = (running: Running, value: unknown): void => this.#progress(running, value);
  #concurrency: number;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #slotWaiter: (() => void) | undefined;
  #timers: NodeJS.Timeout[] = [];
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
    this.#gate = new StartGate(backend, settings.queue, log);
    this.#prefetch = new Prefetch(backend, settings.queue, this.id, settings.leaseMs, log, {
      paused: () => this.#paused,
      giveBack: (leases) => this.#giveBack(leases),
      settled: () => this.#wakeLoop(),
      keep: (claimed, sentAt) => {
        this.#gate.claimed(claimed, sentAt);
        return !this.#gate.paused(claimed);
      },
    });
    this.#leases = {
      backend,
      queue: settings.queue,
      leaseMs: settings.leaseMs,
      running: this.#running,
      outcomes: this.#outcomes,
      prefetch: this.#prefetch,
      log,
      wake: () => this.#wakeLoop(),
    };
    this.#autoscaler = new Autoscaler(backend, settings, log);
    this.#deadlines = new AttemptDeadlines(this.#running, (running, error) =>
      this.#settle(running, false, error, true),
    );
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
    this.#every(Math.max(50, Math.floor(leaseMs / 3)), () => renewPoolLeases(this.#leases), true);
    this.#every(heartbeatMs, () => this.#heartbeat());
    // Limits set by any process are followed from the next read on, and so are group pauses
    // whose event this process missed.
    this.#every(heartbeatMs, () => Promise.all([this.#gate.refresh(), this.#syncGroups()]));
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
    const prefetch = this.#prefetch;
    await settledBy(Promise.all(prefetch.claims), deadline);
    prefetch.returnLateClaims = true;
    if (prefetch.buffer.length > 0) await this.#giveBack(prefetch.takeBuffered());
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
    this.#deadlines.stop();
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
    const prefetch = this.#prefetch;
    if (this.#paused && prefetch.buffer.length > 0) await this.#giveBack(prefetch.takeBuffered());
    await settledBy(Promise.all(prefetch.claims), Date.now() + this.#settings.leaseMs);
  }

  /**
   * Starts no task of `group` claimed until now, and gives those claimed and not started back (no
   * attempt spent, same place). Called once the backend's pause applies (no later claim brings
   * tasks of it); waits for the claims in flight, which give back theirs, for up to a lease.
   */
  async pauseGroup(group: string): Promise<void> {
    const prefetch = this.#prefetch;
    this.#gate.pauseGroup(group);
    const leases = prefetch.takeBuffered((c) => this.#gate.paused(c));
    if (leases.length > 0) await this.#giveBack(leases);
    await settledBy(Promise.all(prefetch.claims), Date.now() + this.#settings.leaseMs);
  }

  /** Reads the queue's limits now (they were just changed) rather than at the next heartbeat. */
  async refreshLimits(): Promise<void> {
    await this.#gate.refresh();
    this.#wakeLoop();
  }

  /** Forgets a pause of `group` (nothing claimed after the pause was refused anyway). */
  resumeGroup(group: string): void {
    this.#gate.resumeGroup(group);
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
    const prefetch = this.#prefetch;
    // The limits first: the first claims' tasks must know their windows too.
    await settledBy(this.#gate.refresh(), Date.now() + 1_000);
    while (!this.#stopping) {
      if (this.#paused) {
        await this.#nextWake();
        continue;
      }
      this.#fill();
      const free = this.#concurrency - this.#running.size;
      const coming = prefetch.buffer.length + prefetch.asked;
      // Under a rate limit a task claimed ahead would start late, maybe after its claim's window.
      const reserve = this.#gate.limited ? 0 : this.#settings.prefetch;
      const want = free + reserve - coming;
      if (prefetch.claims.size === 0) {
        if (prefetch.retryAt > 0) {
          const wait = prefetch.retryAt - Date.now();
          prefetch.retryAt = 0;
          if (wait > 0) await pause(wait, signal);
          continue;
        }
        if (prefetch.drained) {
          prefetch.drained = false;
          if (prefetch.buffer.length === 0 && free > 0) {
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
        !prefetch.drained &&
        prefetch.retryAt === 0 &&
        prefetch.claims.size < MAX_CLAIMS_IN_FLIGHT &&
        (free > coming || want * 2 >= reserve)
      ) {
        prefetch.claim(want);
        continue;
      }
      await this.#nextWake();
    }
  }

  /** Resolves at the next {@link #wakeLoop} (a slot freed, a claim came back, stop, scaling). */
  #nextWake(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#slotWaiter = resolve;
    });
  }

  /** Starts claimed tasks in the free slots (a synchronous handler frees its slot at once). */
  #fill(): void {
    const prefetch = this.#prefetch;
    let refused: Lease[] | undefined;
    while (
      prefetch.buffer.length > 0 &&
      this.#running.size < this.#concurrency &&
      !this.#stopping &&
      !this.#paused
    ) {
      const claimed = prefetch.buffer.shift()!;
      if (!this.#gate.mayStart(claimed, Date.now())) {
        // Its group was paused, or its claim's window ended: back to its place, no attempt spent.
        (refused ??= []).push({ id: claimed.task.id, token: claimed.token });
        continue;
      }
      try {
        this.#start(claimed);
      } catch (error) {
        // A handler lookup or a thenable that threw: the attempt fails, the loop goes on.
        const running = this.#running.get(claimed.task.id);
        if (running !== undefined) this.#settle(running, false, error, true);
        else this.#log.error({ err: error, task: claimed.task.id }, 'a task could not be started');
      }
    }
    if (refused !== undefined) void this.#giveBack(refused);
  }

  #wakeLoop(): void {
    const waiter = this.#slotWaiter;
    this.#slotWaiter = undefined;
    waiter?.();
  }

  #start(claimed: ClaimedTask): void {
    const task = claimed.task;
    const running = newAttempt(claimed);
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
    const prepared = prepareAttempt(task, this.#hooks, this.id);
    if ('error' in prepared) {
      this.#settle(running, false, prepared.error, prepared.retryable);
      return;
    }
    const { handler, payload } = prepared;
    if (running.deadline !== Number.POSITIVE_INFINITY) this.#deadlines.arm(running.deadline);
    this.#outcomes.started(running);
    const context = new AttemptContext(running, this.#report);
    let result: unknown;
    try {
      const span = this.#hooks.span?.(task);
      running.span = span;
      result =
        span === undefined
          ? handler.fn.call(handler.thisArg, payload, context)
          : runInTaskSpan(span, () => handler.fn.call(handler.thisArg, payload, context));
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
    storeProgress(running, text, this.#backend, this.queue, this.#log);
  }

  /** Ends an attempt: frees its slot now and queues its outcome for the next batch. */
  #settle(running: Running, ok: boolean, value: unknown, retryable: boolean): void {
    if (running.done) return;
    running.done = true;
    this.#running.delete(running.task.id);
    running.durationMs = performance.now() - running.started;
    running.span?.end(!ok, ok ? undefined : value);
    this.#outcomes.ended(running, ok, value, retryable);
    this.#wakeLoop();
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.#backend.heartbeat(this.info(), this.#settings.heartbeatMs * 3);
    } catch (error) {
      this.#log.debug({ err: error, queue: this.queue }, 'heartbeat failed');
    }
  }

  /** Follows the groups paused in the backend (see {@link StartGate.readPausedGroups}). */
  async #syncGroups(): Promise<void> {
    const paused = await this.#gate.readPausedGroups();
    await Promise.all(paused.map((group) => this.pauseGroup(group)));
  }

  /** One look of auto-scaling; after growing, the pool claims for the new slots at once. */
  async #scale(): Promise<void> {
    const step = await this.#autoscaler.look(this);
    if (step === undefined) return;
    this.#concurrency = step.concurrency;
    if (step.grew) this.#wakeLoop();
  }
}
