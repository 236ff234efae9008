import { randomBytes } from 'node:crypto';
import { LifecycleError } from '../../core/errors.js';
import { TaskDependencyError, UNSTARTED_DELIVERIES } from '../errors.js';
import { type RetentionOptions, resolveRetention } from '../retention.js';
import type {
  AddOutcome,
  AttemptOutcome,
  ClaimedTask,
  FinishResult,
  Lease,
  NewTask,
  QueueCounts,
  RetentionSpec,
  TaskBackend,
  TaskBackendEvent,
  TaskRecord,
  WorkerInfo,
} from '../types.js';
import { settleDependents, settleNewTasks } from './memory/dependencies.js';
import {
  compact,
  giveBack,
  leave,
  makeReady,
  nextDue,
  promoteDue,
  QueueState,
  startAttempt,
  type Waiter,
  wakeWaiters,
} from './memory/queue-state.js';
import { applyRetention } from './memory/retention.js';
import type { Slot } from './memory/slot.js';

/** Options of {@link memoryTaskBackend}. */
export interface MemoryTaskBackendOptions {
  /** How many finished tasks are kept, and how long. */
  retention?: RetentionOptions;
}

/**
 * The zero-infrastructure backend: every queue lives in this process. Tasks do not survive a
 * restart and are not shared with other processes; use the Redis backend for that.
 *
 * Ready tasks sit in a binary heap ordered by priority then submission order, delayed tasks in a
 * heap ordered by due time, so a claim costs O(log n) per task however long the queue is.
 *
 * @example
 * ```ts
 * const enterprise = createEnterprise({ tasks: { backend: memoryTaskBackend({ retention: { completed: { count: 100 } } }) } });
 * ```
 */
export function memoryTaskBackend(options: MemoryTaskBackendOptions = {}): MemoryTaskBackend {
  return new MemoryTaskBackend(options);
}

/** @see {@link memoryTaskBackend} */
export class MemoryTaskBackend implements TaskBackend {
  readonly name = 'memory';
  readonly #queues = new Map<string, QueueState>();
  readonly #slots = new Map<string, number>();
  /** `queue \0 id` -> until when the id stays taken (`uniqueForMs`). */
  readonly #unique = new Map<string, number>();
  readonly #listeners = new Set<(event: TaskBackendEvent) => void>();
  readonly #retention: RetentionSpec;
  readonly #tokenPrefix = randomBytes(6).toString('hex');
  #seq = 0;
  #tokens = 0;
  #closed = false;

  constructor(options: MemoryTaskBackendOptions = {}) {
    this.#retention = resolveRetention(options.retention);
  }

  /** The retention applied to finished tasks. */
  get retention(): RetentionSpec {
    return this.#retention;
  }

  async add(tasks: readonly NewTask[]): Promise<AddOutcome[]> {
    this.#open();
    // Validate the whole call before storing any of it.
    const inCall = new Map<string, NewTask>();
    for (const task of tasks) {
      const key = `${task.queue}\u0000${task.id}`;
      if (!inCall.has(key)) inCall.set(key, task);
    }
    for (const task of tasks) {
      const state = this.#queues.get(task.queue);
      for (const dependency of task.dependsOn) {
        if (state?.tasks.has(dependency) || inCall.has(`${task.queue}\u0000${dependency}`))
          continue;
        throw new TaskDependencyError(
          `task ${task.id} depends on ${dependency}, which is no task of queue ${task.queue}`,
          { id: task.id, dependency, queue: task.queue },
        );
      }
    }

    const now = Date.now();
    const outcomes: AddOutcome[] = [];
    const created: Array<{ slot: Slot; state: QueueState }> = [];
    for (const task of tasks) {
      const state = this.#queue(task.queue);
      const existing = state.tasks.get(task.id);
      if (existing !== undefined) {
        outcomes.push({ id: task.id, created: false, state: existing.record.state });
        continue;
      }
      const uniqueKey = `${task.queue}\u0000${task.id}`;
      if ((this.#unique.get(uniqueKey) ?? 0) > now) {
        // Removed by retention, its id still taken: it ran (or ended) already.
        outcomes.push({ id: task.id, created: false, state: 'completed' });
        continue;
      }
      if (task.uniqueForMs !== undefined && task.uniqueForMs > 0) {
        this.#unique.set(uniqueKey, now + task.uniqueForMs);
        forgetExpired(this.#unique, now);
      }
      const { uniqueForMs: _unique, ...fields } = task;
      const slot: Slot = {
        record: {
          ...fields,
          dependsOn: [...task.dependsOn],
          backoff: { ...task.backoff },
          state: 'blocked',
          attempts: 0,
        },
        seq: ++this.#seq,
        gen: 0,
        token: undefined,
        leaseUntil: 0,
        started: false,
        unstarted: 0,
        dependents: undefined,
      };
      state.tasks.set(task.id, slot);
      state.counts.blocked += 1;
      created.push({ slot, state });
      outcomes.push({ id: task.id, created: true, state: 'blocked' });
    }

    // Settle the new tasks dependencies first, so a dependent sees its dependency's final state.
    const killed = settleNewTasks(created, now);

    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      const slot = this.#queues.get(tasks[i]!.queue)!.tasks.get(outcome.id);
      if (slot !== undefined) outcome.state = slot.record.state;
    }
    const woken = new Set<QueueState>();
    for (const { slot, state } of created) {
      if (slot.record.state === 'waiting' || slot.record.state === 'delayed') woken.add(state);
    }
    for (const state of woken) wakeWaiters(state);
    if (killed.length > 0) {
      for (const { state } of created) applyRetention(state, this.#retention, now);
    }
    for (const slot of killed) this.#emit('dead', slot.record);
    return outcomes;
  }

  async claim(
    queue: string,
    workerId: string,
    max: number,
    leaseMs: number,
  ): Promise<ClaimedTask[]> {
    this.#open();
    const state = this.#queues.get(queue);
    if (state === undefined || state.paused || max <= 0) return [];
    const now = Date.now();
    promoteDue(state, now);
    const claimed: ClaimedTask[] = [];
    while (claimed.length < max) {
      const entry = state.ready.pop();
      if (entry === undefined) break;
      const slot = entry.slot;
      if (entry.gen !== slot.gen || slot.record.state !== 'waiting') continue;
      slot.gen += 1;
      state.counts.waiting -= 1;
      const record = slot.record;
      record.state = 'active';
      record.workerId = workerId;
      slot.token = `${this.#tokenPrefix}${(++this.#tokens).toString(36)}`;
      slot.leaseUntil = now + leaseMs;
      slot.started = false;
      state.active.set(record.id, slot);
      // The attempt counts once its start is recorded (finish); the copy carries its number.
      claimed.push({
        task: { ...record, attempts: record.attempts + 1, startedAt: now },
        token: slot.token,
        leaseUntil: slot.leaseUntil,
      });
    }
    compact(state);
    return claimed;
  }

  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (signal.aborted) return Promise.resolve();
    const state = this.#queue(queue);
    const now = Date.now();
    if (!state.paused && (state.counts.waiting > 0 || nextDue(state) <= now)) {
      return Promise.resolve();
    }
    let wait = timeoutMs;
    const due = nextDue(state);
    if (!state.paused && due !== Number.POSITIVE_INFINITY) wait = Math.min(wait, due - now);
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', waiter.resolve);
          state.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.resolve, Math.max(0, wait));
      timer.unref?.();
      signal.addEventListener('abort', waiter.resolve, { once: true });
      state.waiters.add(waiter);
    });
  }

  async renewLeases(queue: string, leases: readonly Lease[], leaseMs: number): Promise<string[]> {
    const state = this.#queues.get(queue);
    const lost: string[] = [];
    const until = Date.now() + leaseMs;
    for (const lease of leases) {
      const slot = state?.active.get(lease.id);
      if (slot === undefined || slot.token !== lease.token) lost.push(lease.id);
      else slot.leaseUntil = until;
    }
    return lost;
  }

  async finish(
    queue: string,
    outcomes: readonly AttemptOutcome[],
    started: readonly Lease[] = [],
  ): Promise<FinishResult[]> {
    const state = this.#queues.get(queue);
    const results: FinishResult[] = [];
    const events: Array<[TaskBackendEvent['type'], TaskRecord]> = [];
    let wake = false;
    const now = Date.now();
    for (const lease of started) {
      const slot = state?.active.get(lease.id);
      if (slot !== undefined && slot.token === lease.token) startAttempt(slot, now);
    }
    for (const outcome of outcomes) {
      const slot = state?.active.get(outcome.id);
      if (state === undefined || slot === undefined || slot.token !== outcome.token) {
        results.push({ id: outcome.id, accepted: false });
        continue;
      }
      startAttempt(slot, now);
      state.active.delete(outcome.id);
      slot.token = undefined;
      const record = slot.record;
      record.workerId = undefined;
      if (outcome.kind === 'retry') {
        record.error = outcome.error;
        record.runAt = outcome.runAt;
        makeReady(state, slot, Date.now());
        wake = true;
        events.push(['retry', record]);
        results.push({ id: outcome.id, accepted: true });
        continue;
      }
      record.finishedAt = outcome.finishedAt;
      let result: FinishResult;
      if (outcome.kind === 'completed') {
        record.state = 'completed';
        record.result = outcome.result;
        state.completed.set(record.id, outcome.finishedAt);
        events.push(['completed', record]);
        result = { id: outcome.id, accepted: true, ...settleDependents(state, slot, true) };
      } else {
        record.state = 'dead';
        record.error = outcome.error;
        state.dead.set(record.id, outcome.finishedAt);
        events.push(['dead', record]);
        result = { id: outcome.id, accepted: true, ...settleDependents(state, slot, false) };
      }
      if (result.released !== undefined && result.released.length > 0) wake = true;
      for (const id of result.killed ?? []) events.push(['dead', state.tasks.get(id)!.record]);
      results.push(result);
    }
    if (state !== undefined) {
      applyRetention(state, this.#retention, Date.now());
      if (wake) wakeWaiters(state);
    }
    for (const [type, record] of events) this.#emit(type, record);
    return results;
  }

  async release(queue: string, leases: readonly Lease[]): Promise<void> {
    const state = this.#queues.get(queue);
    if (state === undefined) return;
    const now = Date.now();
    let released = false;
    for (const lease of leases) {
      const slot = state.active.get(lease.id);
      if (slot === undefined || slot.token !== lease.token) continue;
      if (slot.started) slot.record.attempts = Math.max(0, slot.record.attempts - 1);
      giveBack(state, slot, now);
      released = true;
    }
    if (released) wakeWaiters(state);
  }

  async recoverExpired(queue: string, now: number): Promise<number> {
    const state = this.#queues.get(queue);
    if (state === undefined) return 0;
    let recovered = 0;
    const events: Array<[TaskBackendEvent['type'], TaskRecord]> = [];
    for (const slot of [...state.active.values()]) {
      if (slot.leaseUntil >= now) continue;
      if (!slot.started && ++slot.unstarted >= UNSTARTED_DELIVERIES.limit) {
        // Lost before any start was recorded, again and again: it stops every worker it reaches.
        state.active.delete(slot.record.id);
        slot.token = undefined;
        const record = slot.record;
        record.workerId = undefined;
        record.state = 'dead';
        record.finishedAt = now;
        record.error = {
          name: UNSTARTED_DELIVERIES.name,
          code: UNSTARTED_DELIVERIES.code,
          message: UNSTARTED_DELIVERIES.message(slot.unstarted),
        };
        state.dead.set(record.id, now);
        events.push(['dead', record]);
        const { killed } = settleDependents(state, slot, false);
        for (const id of killed ?? []) events.push(['dead', state.tasks.get(id)!.record]);
        continue;
      }
      giveBack(state, slot, now);
      recovered += 1;
    }
    if (events.length > 0) applyRetention(state, this.#retention, now);
    // Dependents of a task that died here may have been released too.
    if (recovered > 0 || events.length > 0) wakeWaiters(state);
    for (const [type, record] of events) this.#emit(type, record);
    return recovered;
  }

  async setProgress(queue: string, lease: Lease, progress: string): Promise<boolean> {
    const slot = this.#queues.get(queue)?.active.get(lease.id);
    if (slot === undefined || slot.token !== lease.token) return false;
    slot.record.progress = progress;
    this.#emit('progress', slot.record);
    return true;
  }

  async get(queue: string, id: string): Promise<TaskRecord | undefined> {
    const slot = this.#queues.get(queue)?.tasks.get(id);
    return slot === undefined ? undefined : snapshot(slot.record);
  }

  async cancel(queue: string, id: string): Promise<boolean> {
    const state = this.#queues.get(queue);
    const slot = state?.tasks.get(id);
    if (state === undefined || slot === undefined) return false;
    const current = slot.record.state;
    if (current !== 'waiting' && current !== 'delayed' && current !== 'blocked') return false;
    const now = Date.now();
    leave(state, slot);
    slot.record.state = 'cancelled';
    slot.record.finishedAt = now;
    state.cancelled.set(id, now);
    const { killed, released } = settleDependents(state, slot, false);
    applyRetention(state, this.#retention, now);
    if (released !== undefined && released.length > 0) wakeWaiters(state);
    this.#emit('cancelled', slot.record);
    for (const killedId of killed ?? []) this.#emit('dead', state.tasks.get(killedId)!.record);
    return true;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const state = this.#queues.get(queue);
    if (state === undefined) {
      return {
        waiting: 0,
        delayed: 0,
        blocked: 0,
        active: 0,
        completed: 0,
        dead: 0,
        paused: false,
      };
    }
    const counts: QueueCounts = {
      waiting: state.counts.waiting,
      delayed: state.counts.delayed,
      blocked: state.counts.blocked,
      active: state.active.size,
      completed: state.completed.size,
      dead: state.dead.size,
      paused: state.paused,
    };
    for (;;) {
      const top = state.oldest.peek();
      if (top === undefined) break;
      if (top.gen === top.slot.gen && top.slot.record.state === 'waiting') {
        counts.oldestWaitingAt = top.slot.record.createdAt;
        break;
      }
      state.oldest.pop();
    }
    return counts;
  }

  async listDead(queue: string, offset: number, limit: number): Promise<TaskRecord[]> {
    const state = this.#queues.get(queue);
    if (state === undefined || limit <= 0) return [];
    const ids = [...state.dead.keys()];
    const out: TaskRecord[] = [];
    for (let i = ids.length - 1 - Math.max(0, offset); i >= 0 && out.length < limit; i--) {
      out.push(snapshot(state.tasks.get(ids[i]!)!.record));
    }
    return out;
  }

  async retryDead(queue: string, id: string): Promise<boolean> {
    const state = this.#queues.get(queue);
    const slot = state?.tasks.get(id);
    if (state === undefined || slot === undefined || slot.record.state !== 'dead') return false;
    const record = slot.record;
    // It waits for its dependencies again; one that failed must be retried first.
    const pending: string[] = [];
    for (const dependencyId of record.dependsOn) {
      const dependency = state.tasks.get(dependencyId)?.record;
      if (dependency === undefined || dependency.state === 'completed') continue;
      if (dependency.state === 'dead' || dependency.state === 'cancelled') {
        if (!record.failOnDependencyFailure) continue;
        throw new TaskDependencyError(
          `task ${id} cannot be retried while its dependency ${dependencyId} is ${dependency.state}: retry ${dependencyId} first`,
          { queue, id, dependency: dependencyId, state: dependency.state },
        );
      }
      pending.push(dependencyId);
    }
    state.dead.delete(id);
    record.attempts = 0;
    record.finishedAt = undefined;
    record.runAt = Date.now();
    record.state = 'blocked';
    slot.unstarted = 0;
    state.counts.blocked += 1;
    if (pending.length > 0) {
      slot.gen += 1;
      record.pendingDependencies = pending;
      for (const dependencyId of pending) {
        (state.tasks.get(dependencyId)!.dependents ??= []).push(id);
      }
      return true;
    }
    makeReady(state, slot, record.runAt);
    wakeWaiters(state);
    return true;
  }

  async purgeDead(queue: string): Promise<number> {
    const state = this.#queues.get(queue);
    if (state === undefined) return 0;
    const purged = state.dead.size;
    for (const id of state.dead.keys()) state.tasks.delete(id);
    state.dead.clear();
    return purged;
  }

  async pause(queue: string): Promise<void> {
    this.#queue(queue).paused = true;
    this.#announce('paused', queue);
  }

  async resume(queue: string): Promise<void> {
    const state = this.#queue(queue);
    state.paused = false;
    wakeWaiters(state);
    this.#announce('resumed', queue);
  }

  /** Tells subscribers about a change of a whole queue (no task id or name). */
  #announce(type: 'paused' | 'resumed', queue: string): void {
    const event: TaskBackendEvent = { type, queue, id: '', name: '' };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own; the queue's state already changed.
      }
    }
  }

  async heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void> {
    const now = Date.now();
    const workers = this.#queue(worker.queue).workers;
    workers.set(worker.id, { info: { ...worker }, expiresAt: now + ttlMs });
    // Workers that stopped without saying so leave even when nobody lists them.
    for (const [id, entry] of workers) if (entry.expiresAt <= now) workers.delete(id);
  }

  async removeWorker(queue: string, workerId: string): Promise<void> {
    this.#queues.get(queue)?.workers.delete(workerId);
  }

  async workers(queue: string): Promise<WorkerInfo[]> {
    const state = this.#queues.get(queue);
    if (state === undefined) return [];
    const now = Date.now();
    const out: WorkerInfo[] = [];
    for (const [id, entry] of state.workers) {
      if (entry.expiresAt <= now) state.workers.delete(id);
      else out.push({ ...entry.info });
    }
    return out;
  }

  async claimScheduleSlot(name: string, slot: number, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const key = `${name}\u0000${slot}`;
    const until = this.#slots.get(key);
    if (until !== undefined && until > now) return false;
    this.#slots.set(key, now + ttlMs);
    forgetExpired(this.#slots, now);
    return true;
  }

  async queues(): Promise<string[]> {
    return [...this.#queues.keys()];
  }

  subscribe(listener: (event: TaskBackendEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const state of this.#queues.values()) wakeWaiters(state);
    this.#listeners.clear();
  }

  /** A closed store takes no new tasks and hands none out (a worker then backs off instead of spinning). */
  #open(): void {
    if (this.#closed) throw closedError();
  }

  #queue(queue: string): QueueState {
    let state = this.#queues.get(queue);
    if (state === undefined) {
      state = new QueueState();
      this.#queues.set(queue, state);
    }
    return state;
  }

  #emit(type: TaskBackendEvent['type'], record: TaskRecord): void {
    if (this.#listeners.size === 0) return;
    const event: TaskBackendEvent = { type, queue: record.queue, id: record.id, name: record.name };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own; the state change already happened.
      }
    }
  }
}

/** Forgets expired entries now and then, so a long run of schedules stays bounded. */
function forgetExpired(map: Map<string, number>, now: number): void {
  if (map.size <= 1_000 || map.size % 100 !== 0) return;
  for (const [key, until] of map) if (until <= now) map.delete(key);
}

function closedError(): LifecycleError {
  return new LifecycleError('the memory task backend is closed', { backend: 'memory' });
}

function snapshot(record: TaskRecord): TaskRecord {
  return { ...record };
}
