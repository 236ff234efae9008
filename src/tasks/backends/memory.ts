import { randomBytes } from 'node:crypto';
import { LifecycleError } from '../../core/errors.js';
import { TaskDependencyError } from '../errors.js';
import { type RetentionOptions, resolveRetention } from '../retention.js';
import type {
  AddOutcome,
  AttemptOutcome,
  ClaimedTask,
  FinishResult,
  GroupList,
  GroupSettings,
  Lease,
  NewTask,
  QueueCounts,
  QueueLimits,
  RetentionSpec,
  StoredSchedule,
  TaskBackend,
  TaskBackendEvent,
  TaskRecord,
  WorkerInfo,
} from '../types.js';
import {
  cancelTask,
  listDead,
  purgeDead,
  queueCounts,
  restoreDead,
  retryDead,
} from './memory/admin.js';
import { readyAt, takeReady } from './memory/claim.js';
import { settleNewTasks } from './memory/dependencies.js';
import { BackendListeners } from './memory/events.js';
import { configureGroup, configureQueue, groupPause } from './memory/group-admin.js';
import { recoverExpired, release, renewLeases } from './memory/leases.js';
import { recordOutcomes } from './memory/outcomes.js';
import { compact, promoteDue, QueueState, type Waiter, wakeWaiters } from './memory/queue-state.js';
import { applyRetention } from './memory/retention.js';
import type { Slot } from './memory/slot.js';
import { heartbeat, listWorkers } from './memory/workers.js';

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
  readonly #schedules = new Map<string, StoredSchedule>();
  /** `queue \0 id` -> until when the id stays taken (`uniqueForMs`). */
  readonly #unique = new Map<string, number>();
  readonly #listeners = new BackendListeners();
  /** The counters of limits shared by several queues, by name. */
  readonly #shared = new Map<string, { window: number; used: number }>();
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
    for (const slot of killed) this.#listeners.emit('dead', slot.record);
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
    for (const slot of takeReady(state, max, now)) {
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
    const at = readyAt(state, now);
    if (at <= now) return Promise.resolve();
    let wait = timeoutMs;
    if (at !== Number.POSITIVE_INFINITY) wait = Math.min(wait, at - now);
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
    return renewLeases(this.#queues.get(queue), leases, leaseMs);
  }

  async finish(
    queue: string,
    outcomes: readonly AttemptOutcome[],
    started: readonly Lease[] = [],
  ): Promise<FinishResult[]> {
    const state = this.#queues.get(queue);
    const { results, events } = recordOutcomes(state, outcomes, started, this.#retention);
    this.#listeners.emitAll(events);
    return results;
  }

  async release(queue: string, leases: readonly Lease[]): Promise<void> {
    const state = this.#queues.get(queue);
    if (state !== undefined) release(state, leases);
  }

  async recoverExpired(queue: string, now: number): Promise<number> {
    const state = this.#queues.get(queue);
    if (state === undefined) return 0;
    const { recovered, events } = recoverExpired(state, this.#retention, now);
    this.#listeners.emitAll(events);
    return recovered;
  }

  async setProgress(queue: string, lease: Lease, progress: string): Promise<boolean> {
    const slot = this.#queues.get(queue)?.active.get(lease.id);
    if (slot === undefined || slot.token !== lease.token) return false;
    slot.record.progress = progress;
    this.#listeners.emit('progress', slot.record);
    return true;
  }

  async get(queue: string, id: string): Promise<TaskRecord | undefined> {
    const slot = this.#queues.get(queue)?.tasks.get(id);
    return slot === undefined ? undefined : snapshot(slot.record);
  }

  async cancel(queue: string, id: string): Promise<boolean> {
    const state = this.#queues.get(queue);
    const cancelled = state === undefined ? undefined : cancelTask(state, id, this.#retention);
    if (cancelled === undefined) return false;
    this.#listeners.emit('cancelled', cancelled.record);
    for (const killedId of cancelled.killed) {
      this.#listeners.emit('dead', state!.tasks.get(killedId)!.record);
    }
    return true;
  }

  async counts(queue: string): Promise<QueueCounts> {
    return queueCounts(this.#queues.get(queue));
  }

  async listDead(queue: string, offset: number, limit: number): Promise<TaskRecord[]> {
    const state = this.#queues.get(queue);
    if (state === undefined || limit <= 0) return [];
    return listDead(state, offset, limit);
  }

  async retryDead(queue: string, id: string): Promise<boolean> {
    const state = this.#queues.get(queue);
    return state === undefined ? false : retryDead(state, queue, id);
  }

  async purgeDead(queue: string): Promise<number> {
    const state = this.#queues.get(queue);
    return state === undefined ? 0 : purgeDead(state);
  }

  async restoreDead(queue: string, records: readonly TaskRecord[]): Promise<AddOutcome[]> {
    this.#open();
    if (records.length === 0) return [];
    return restoreDead(this.#queue(queue), queue, records, () => ++this.#seq);
  }

  async pause(queue: string): Promise<void> {
    this.#queue(queue).paused = true;
    this.#listeners.announce('paused', queue);
  }

  async resume(queue: string): Promise<void> {
    const state = this.#queue(queue);
    state.paused = false;
    wakeWaiters(state);
    this.#listeners.announce('resumed', queue);
  }

  async configureQueue(queue: string, limits: QueueLimits): Promise<void> {
    let shared: { window: number; used: number } | undefined;
    if (limits.sharedLimit !== undefined) {
      const name = limits.sharedLimit.name;
      shared = this.#shared.get(name) ?? { window: -1, used: 0 };
      this.#shared.set(name, shared);
    }
    configureQueue(this.#queue(queue), limits, shared);
    this.#listeners.announce('limits', queue);
  }

  async configureGroup(queue: string, group: string, settings: GroupSettings): Promise<void> {
    configureGroup(this.#queue(queue), group, settings);
  }

  async pauseGroup(queue: string, group: string): Promise<void> {
    groupPause(this.#queue(queue), group, true);
    this.#listeners.announceGroup('group-paused', queue, group);
  }

  async resumeGroup(queue: string, group: string): Promise<void> {
    groupPause(this.#queue(queue), group, false);
    this.#listeners.announceGroup('group-resumed', queue, group);
  }

  async pausedGroups(queue: string): Promise<string[]> {
    const groups = this.#queues.get(queue)?.groups.byName.values() ?? [];
    return [...groups]
      .filter((g) => g.paused)
      .map((g) => g.name)
      .sort();
  }

  async queueLimits(queue: string): Promise<QueueLimits> {
    return { ...(this.#queues.get(queue)?.groups.limits ?? {}) };
  }

  async groups(queue: string, limit: number): Promise<GroupList> {
    const state = this.#queues.get(queue);
    return state === undefined ? EMPTY_GROUPS : state.groups.list(limit, Date.now());
  }

  async heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void> {
    heartbeat(this.#queue(worker.queue), worker, ttlMs);
  }

  async removeWorker(queue: string, workerId: string): Promise<void> {
    this.#queues.get(queue)?.workers.delete(workerId);
  }

  async workers(queue: string): Promise<WorkerInfo[]> {
    const state = this.#queues.get(queue);
    return state === undefined ? [] : listWorkers(state);
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

  async schedules(): Promise<StoredSchedule[]> {
    return [...this.#schedules.values()].map((record) => ({ ...record }));
  }

  async saveSchedule(record: StoredSchedule): Promise<void> {
    this.#schedules.set(record.name, { ...record });
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.#schedules.delete(name);
  }

  async queues(): Promise<string[]> {
    return [...this.#queues.keys()];
  }

  subscribe(listener: (event: TaskBackendEvent) => void): () => void {
    return this.#listeners.subscribe(listener);
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
}

const EMPTY_GROUPS: GroupList = Object.freeze({
  total: 0,
  waiting: 0,
  active: 0,
  limits: {},
  groups: [],
}) as GroupList;

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
