import type { Logger } from '../../core/logger.js';
import { backoffDelay } from '../backoff.js';
import { encodeJson, toErrorInfo } from '../payload.js';
import type { AttemptOutcome, FinishResult, Lease, TaskBackend, TaskRecord } from '../types.js';
import type { Running } from './attempt.js';
import type { PoolHooks } from './types.js';
import { pause } from './waits.js';

/**
 * The outcomes and starts of a pool's attempts, recorded in batches: every attempt that starts or
 * ends in one turn of the event loop goes into one `finish` call, and the hooks run once the
 * backend has answered.
 */
export class OutcomeBatches {
  readonly #backend: TaskBackend;
  readonly #queue: string;
  readonly #hooks: PoolHooks;
  readonly #log: Logger;
  /** Attempts that ended, waiting for the next `finish` (in the order they ended). */
  #pending: Running[] = [];
  /**
   * Attempts whose start the backend has not recorded yet: sent with the next `finish` (an
   * attempt counts only once its start is recorded). One that ends first needs no report: its
   * outcome records the start.
   */
  #unreported: Running[] = [];
  #flushScheduled = false;
  #flushing: Promise<void> | undefined;
  /** Attempts recorded as completed, and as failed (retried or dead). */
  processed = 0;
  failed = 0;
  lastCompletedAt: number | undefined;

  constructor(backend: TaskBackend, queue: string, hooks: PoolHooks, log: Logger) {
    this.#backend = backend;
    this.#queue = queue;
    this.#hooks = hooks;
    this.#log = log;
  }

  /** An attempt's handler is about to run: its start goes with the next batch. */
  started(running: Running): void {
    this.#unreported.push(running);
    if (!this.#flushScheduled && this.#flushing === undefined) this.#scheduleFlush();
  }

  /** An attempt ended: its outcome (completed, retry or dead) goes with the next batch. */
  ended(running: Running, ok: boolean, value: unknown, retryable: boolean): void {
    const task = running.task;
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
      running.value = value;
      running.outcome = {
        kind: 'completed',
        id: task.id,
        token: running.token,
        result,
        finishedAt: now,
      };
    } else if (isRateLimited(value)) {
      running.outcome = {
        kind: 'limited',
        id: task.id,
        token: running.token,
        retryAfterMs: value.retryAfterMs,
      };
    } else {
      const error = toErrorInfo(value);
      if (retryable && task.attempts <= task.maxRetries) {
        running.delayMs = backoffDelay(task.backoff, task.attempts);
        running.outcome = {
          kind: 'retry',
          id: task.id,
          token: running.token,
          error,
          runAt: now + running.delayMs,
        };
      } else {
        running.outcome = {
          kind: 'dead',
          id: task.id,
          token: running.token,
          error,
          finishedAt: now,
        };
      }
    }
    this.#pending.push(running);
    if (!this.#flushScheduled && this.#flushing === undefined) this.#scheduleFlush();
  }

  /** Adds the leases of the attempts whose outcome waits to be recorded (still held). */
  pendingLeases(leases: Lease[]): void {
    for (const pending of this.#pending) leases.push({ id: pending.task.id, token: pending.token });
  }

  /** Records every pending outcome, trying until `deadline`. */
  async drain(deadline: number): Promise<void> {
    while ((this.#pending.length > 0 || this.#flushing !== undefined) && Date.now() < deadline) {
      await this.#flush();
    }
  }

  /** Logs an attempt whose lease went to another worker. */
  lost(task: TaskRecord): void {
    this.#log.warn(
      { task: task.id, name: task.name, queue: this.#queue },
      'the outcome of a task was refused: its lease had expired and another worker took it over',
    );
  }

  #scheduleFlush(): void {
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  /** What follows a recorded outcome: counters and hooks (events, analytics, metrics). */
  #recorded(running: Running, result: FinishResult): void {
    const task = running.task;
    const outcome = running.outcome!;
    const value = running.value;
    running.value = undefined;
    if (!result.accepted) {
      this.lost(task);
      return;
    }
    switch (outcome.kind) {
      case 'completed':
        this.processed += 1;
        this.lastCompletedAt = outcome.finishedAt;
        this.#hooks.completed(task, running.durationMs, value);
        return;
      case 'limited':
        return;
      case 'retry':
        this.failed += 1;
        this.#hooks.failed(task, running.durationMs, outcome.error, true);
        this.#hooks.retried(task, outcome.runAt, running.delayMs);
        return;
      default:
        this.failed += 1;
        this.#hooks.failed(task, running.durationMs, outcome.error, false);
        this.#hooks.dead({ ...task, error: outcome.error, state: 'dead' }, outcome.error);
        if (result.killed !== undefined && result.killed.length > 0)
          this.#hooks.killed(this.#queue, result.killed);
    }
  }

  #flush(): Promise<void> {
    if (this.#flushing !== undefined) return this.#flushing;
    if (this.#pending.length === 0 && this.#unreported.length === 0) return Promise.resolve();
    this.#flushing = (async () => {
      const batch = this.#pending;
      this.#pending = [];
      const running: Running[] = [];
      for (const attempt of this.#unreported) if (!attempt.done) running.push(attempt);
      this.#unreported = [];
      try {
        // An attempt's last progress is stored before its outcome, which would refuse it.
        const writes: Promise<void>[] = [];
        for (const attempt of batch) {
          if (attempt.progressWrite !== undefined) writes.push(attempt.progressWrite);
        }
        if (writes.length > 0) await Promise.all(writes);
        const outcomes: AttemptOutcome[] = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) outcomes[i] = batch[i]!.outcome!;
        const started: Lease[] = new Array(running.length);
        for (let i = 0; i < running.length; i++) {
          started[i] = { id: running[i]!.task.id, token: running[i]!.token };
        }
        const results =
          batch.length === 0 && started.length === 0
            ? []
            : await this.#backend.finish(this.#queue, outcomes, started);
        for (let i = 0; i < batch.length; i++) {
          const result = results[i] ?? { id: outcomes[i]!.id, accepted: false };
          try {
            this.#recorded(batch[i]!, result);
          } catch (error) {
            this.#log.error({ err: error }, 'a task outcome listener failed');
          }
        }
      } catch (error) {
        // Keep them (in order) and try again: the leases are renewed meanwhile.
        this.#pending = batch.concat(this.#pending);
        this.#unreported = running.concat(this.#unreported);
        this.#log.warn(
          { err: error, queue: this.#queue, outcomes: batch.length },
          'recording task outcomes failed; trying again',
        );
        await pause(500, undefined);
      } finally {
        this.#flushing = undefined;
      }
      if ((this.#pending.length > 0 || this.#unreported.length > 0) && !this.#flushScheduled) {
        this.#scheduleFlush();
      }
    })();
    return this.#flushing;
  }
}

/**
 * A handler's signal that the remote side rate-limited it (`context.rateLimited`): recognised by
 * its code, so that one crossing a thread or process boundary as plain data counts too.
 */
function isRateLimited(value: unknown): value is { retryAfterMs: number } {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { code?: unknown; retryAfterMs?: unknown };
  return (
    v.code === 'E_TASK_RATE_LIMITED' && typeof v.retryAfterMs === 'number' && v.retryAfterMs >= 0
  );
}
