import { randomBytes } from 'node:crypto';
import { LifecycleError } from '../../core/errors.js';
import { DEPENDENCY_FAILED, TaskDependencyError, UNSTARTED_DELIVERIES } from '../errors.js';
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

/** One task as held here: the public record plus the bookkeeping around it. */
interface Slot {
  record: TaskRecord;
  /** Submission order, for FIFO within a priority. */
  seq: number;
  /** Bumped whenever the task leaves a heap, so stale heap entries are recognised and skipped. */
  gen: number;
  token: string | undefined;
  leaseUntil: number;
  /** The current lease's handler start was recorded (its attempt counts). */
  started: boolean;
  /** Leases lost before a start was recorded. */
  unstarted: number;
  /** Ids of blocked tasks waiting for this one. */
  dependents: string[] | undefined;
}

interface Entry {
  slot: Slot;
  gen: number;
  /** Ready heap: priority; delayed heap: runAt; oldest heap: createdAt. */
  a: number;
  b: number;
}

/** A binary min-heap of entries ordered by `a`, then `b`. */
class Heap {
  items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: Entry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(entry, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = entry;
  }

  peek(): Entry | undefined {
    return this.items[0];
  }

  pop(): Entry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && less(items[right]!, items[left]!) ? right : left;
      if (!less(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Drops entries `live` rejects and restores heap order (used when stale entries pile up). */
  compact(live: (entry: Entry) => boolean): void {
    const kept = this.items.filter(live);
    this.items = [];
    for (const entry of kept) this.push(entry);
  }
}

const less = (x: Entry, y: Entry) => x.a < y.a || (x.a === y.a && x.b < y.b);

interface Waiter {
  resolve: () => void;
}

class QueueState {
  readonly tasks = new Map<string, Slot>();
  readonly ready = new Heap();
  readonly delayed = new Heap();
  /** Ready tasks by `createdAt`, for the oldest waiting age. */
  readonly oldest = new Heap();
  readonly active = new Map<string, Slot>();
  /** Finished tasks in the order they finished (Map keeps insertion order): id -> finishedAt. */
  readonly completed = new Map<string, number>();
  readonly dead = new Map<string, number>();
  readonly cancelled = new Map<string, number>();
  readonly counts = { waiting: 0, delayed: 0, blocked: 0 };
  readonly workers = new Map<string, { info: WorkerInfo; expiresAt: number }>();
  readonly waiters = new Set<Waiter>();
  paused = false;
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
    const fresh = new Set<Slot>();
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
      fresh.add(slot);
      outcomes.push({ id: task.id, created: true, state: 'blocked' });
    }

    // Settle the new tasks dependencies first, so a dependent sees its dependency's final state.
    const settled = new Set<Slot>();
    const killed: Slot[] = [];
    const settle = (slot: Slot, state: QueueState, visiting: Set<Slot>) => {
      if (settled.has(slot) || visiting.has(slot)) return;
      visiting.add(slot);
      for (const id of slot.record.dependsOn) {
        const dependency = state.tasks.get(id);
        if (dependency !== undefined && fresh.has(dependency)) {
          settle(dependency, state, visiting);
        }
      }
      visiting.delete(slot);
      settled.add(slot);
      const pending: string[] = [];
      let failed: Slot | undefined;
      for (const id of slot.record.dependsOn) {
        const dependency = state.tasks.get(id)!;
        const dependencyState = dependency.record.state;
        if (dependencyState === 'completed') continue;
        if (dependencyState === 'dead' || dependencyState === 'cancelled') {
          if (slot.record.failOnDependencyFailure) failed ??= dependency;
          continue;
        }
        if (!pending.includes(id)) pending.push(id);
      }
      if (failed !== undefined) {
        this.#kill(state, slot, failed, now);
        killed.push(slot);
        return;
      }
      if (pending.length > 0) {
        slot.record.pendingDependencies = pending;
        for (const id of pending) {
          const dependency = state.tasks.get(id)!;
          (dependency.dependents ??= []).push(slot.record.id);
        }
        return;
      }
      this.#makeReady(state, slot, now);
    };
    if (created.length === 1 && created[0]!.slot.record.dependsOn.length === 0) {
      // The common case, without the bookkeeping above.
      const { slot, state } = created[0]!;
      settled.add(slot);
      this.#makeReady(state, slot, now);
    } else {
      for (const { slot, state } of created) settle(slot, state, new Set());
    }

    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      const slot = this.#queues.get(tasks[i]!.queue)!.tasks.get(outcome.id);
      if (slot !== undefined) outcome.state = slot.record.state;
    }
    const woken = new Set<QueueState>();
    for (const { slot, state } of created) {
      if (slot.record.state === 'waiting' || slot.record.state === 'delayed') woken.add(state);
    }
    for (const state of woken) this.#wake(state);
    if (killed.length > 0) {
      for (const { state } of created) this.#applyRetention(state, now);
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
    this.#promoteDue(state, now);
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
    this.#compact(state);
    return claimed;
  }

  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (signal.aborted) return Promise.resolve();
    const state = this.#queue(queue);
    const now = Date.now();
    if (!state.paused && (state.counts.waiting > 0 || this.#nextDue(state) <= now)) {
      return Promise.resolve();
    }
    let wait = timeoutMs;
    const due = this.#nextDue(state);
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
      if (slot !== undefined && slot.token === lease.token) this.#start(slot, now);
    }
    for (const outcome of outcomes) {
      const slot = state?.active.get(outcome.id);
      if (state === undefined || slot === undefined || slot.token !== outcome.token) {
        results.push({ id: outcome.id, accepted: false });
        continue;
      }
      this.#start(slot, now);
      state.active.delete(outcome.id);
      slot.token = undefined;
      const record = slot.record;
      record.workerId = undefined;
      if (outcome.kind === 'retry') {
        record.error = outcome.error;
        record.runAt = outcome.runAt;
        this.#makeReady(state, slot, Date.now());
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
        result = { id: outcome.id, accepted: true, ...this.#settleDependents(state, slot, true) };
      } else {
        record.state = 'dead';
        record.error = outcome.error;
        state.dead.set(record.id, outcome.finishedAt);
        events.push(['dead', record]);
        result = { id: outcome.id, accepted: true, ...this.#settleDependents(state, slot, false) };
      }
      if (result.released !== undefined && result.released.length > 0) wake = true;
      for (const id of result.killed ?? []) events.push(['dead', state.tasks.get(id)!.record]);
      results.push(result);
    }
    if (state !== undefined) {
      this.#applyRetention(state, Date.now());
      if (wake) this.#wake(state);
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
      this.#giveBack(state, slot, now);
      released = true;
    }
    if (released) this.#wake(state);
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
        const { killed } = this.#settleDependents(state, slot, false);
        for (const id of killed ?? []) events.push(['dead', state.tasks.get(id)!.record]);
        continue;
      }
      this.#giveBack(state, slot, now);
      recovered += 1;
    }
    if (events.length > 0) this.#applyRetention(state, now);
    // Dependents of a task that died here may have been released too.
    if (recovered > 0 || events.length > 0) this.#wake(state);
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
    this.#leave(state, slot);
    slot.record.state = 'cancelled';
    slot.record.finishedAt = now;
    state.cancelled.set(id, now);
    const { killed, released } = this.#settleDependents(state, slot, false);
    this.#applyRetention(state, now);
    if (released !== undefined && released.length > 0) this.#wake(state);
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
    this.#makeReady(state, slot, record.runAt);
    this.#wake(state);
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
    this.#wake(state);
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
    for (const state of this.#queues.values()) this.#wake(state);
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

  /** Moves a `blocked` (new or released) or retried task to waiting or delayed. */
  #makeReady(state: QueueState, slot: Slot, now: number): void {
    const record = slot.record;
    if (record.state === 'blocked') state.counts.blocked -= 1;
    record.pendingDependencies = undefined;
    slot.gen += 1;
    if (record.runAt > now) {
      record.state = 'delayed';
      state.counts.delayed += 1;
      state.delayed.push({ slot, gen: slot.gen, a: record.runAt, b: slot.seq });
    } else {
      this.#enqueue(state, slot);
    }
  }

  #enqueue(state: QueueState, slot: Slot): void {
    slot.record.state = 'waiting';
    state.counts.waiting += 1;
    state.ready.push({ slot, gen: slot.gen, a: slot.record.priority, b: slot.seq });
    state.oldest.push({ slot, gen: slot.gen, a: slot.record.createdAt, b: slot.seq });
  }

  /** Records the start of a held lease's attempt: it counts from now on. */
  #start(slot: Slot, now: number): void {
    if (slot.started) return;
    slot.started = true;
    slot.record.attempts += 1;
    slot.record.startedAt = now;
  }

  /** An active task goes back to waiting (release, lease expiry), keeping its place in line. */
  #giveBack(state: QueueState, slot: Slot, _now: number): void {
    state.active.delete(slot.record.id);
    slot.token = undefined;
    slot.started = false;
    slot.record.workerId = undefined;
    slot.gen += 1;
    this.#enqueue(state, slot);
  }

  /** Takes a waiting, delayed or blocked task out of the counts (its heap entries go stale). */
  #leave(state: QueueState, slot: Slot): void {
    const current = slot.record.state;
    if (current === 'waiting') state.counts.waiting -= 1;
    else if (current === 'delayed') state.counts.delayed -= 1;
    else if (current === 'blocked') state.counts.blocked -= 1;
    slot.gen += 1;
  }

  #promoteDue(state: QueueState, now: number): void {
    for (;;) {
      const top = state.delayed.peek();
      if (top === undefined || top.a > now) return;
      state.delayed.pop();
      const slot = top.slot;
      if (top.gen !== slot.gen || slot.record.state !== 'delayed') continue;
      state.counts.delayed -= 1;
      slot.gen += 1;
      this.#enqueue(state, slot);
    }
  }

  #nextDue(state: QueueState): number {
    for (;;) {
      const top = state.delayed.peek();
      if (top === undefined) return Number.POSITIVE_INFINITY;
      if (top.gen === top.slot.gen && top.slot.record.state === 'delayed') return top.a;
      state.delayed.pop();
    }
  }

  /**
   * Applies a finished dependency to its blocked dependents: removes it from their pending list
   * and releases those with none left; a failed one (dead, cancelled) kills the dependents that
   * fail on dependency failure, and theirs in turn.
   */
  #settleDependents(
    state: QueueState,
    slot: Slot,
    succeeded: boolean,
  ): { released?: string[]; killed?: string[] } {
    const released: string[] = [];
    const killed: string[] = [];
    const now = Date.now();
    const stack: Array<{ slot: Slot; succeeded: boolean }> = [{ slot, succeeded }];
    while (stack.length > 0) {
      const current = stack.pop()!;
      const dependents = current.slot.dependents;
      current.slot.dependents = undefined;
      if (dependents === undefined) continue;
      for (const id of dependents) {
        const dependent = state.tasks.get(id);
        if (dependent === undefined || dependent.record.state !== 'blocked') continue;
        if (!current.succeeded && dependent.record.failOnDependencyFailure) {
          this.#kill(state, dependent, current.slot, now);
          killed.push(id);
          stack.push({ slot: dependent, succeeded: false });
          continue;
        }
        const pending = (dependent.record.pendingDependencies ?? []).filter(
          (dependency) => dependency !== current.slot.record.id,
        );
        if (pending.length > 0) {
          dependent.record.pendingDependencies = pending;
          continue;
        }
        this.#makeReady(state, dependent, now);
        released.push(id);
      }
    }
    return {
      ...(released.length > 0 ? { released } : {}),
      ...(killed.length > 0 ? { killed } : {}),
    };
  }

  /** A blocked task dies because `dependency` ended dead or cancelled. */
  #kill(state: QueueState, slot: Slot, dependency: Slot, now: number): void {
    this.#leave(state, slot);
    const record = slot.record;
    record.state = 'dead';
    record.finishedAt = now;
    record.pendingDependencies = undefined;
    record.error = {
      name: DEPENDENCY_FAILED.name,
      code: DEPENDENCY_FAILED.code,
      message: DEPENDENCY_FAILED.message(dependency.record.id, dependency.record.state),
    };
    state.dead.set(record.id, now);
  }

  #applyRetention(state: QueueState, now: number): void {
    const { completed, dead } = this.#retention;
    trim(state, state.completed, completed.count, now - completed.ageMs);
    trim(state, state.cancelled, completed.count, now - completed.ageMs);
    trim(state, state.dead, dead.count, now - dead.ageMs);
  }

  /** Rebuilds a heap once stale entries outnumber the live ones, so memory stays proportional. */
  #compact(state: QueueState): void {
    const live = (entry: Entry) => entry.gen === entry.slot.gen;
    if (state.ready.size > 1_024 && state.ready.size > 2 * state.counts.waiting) {
      state.ready.compact(live);
    }
    if (state.oldest.size > 1_024 && state.oldest.size > 2 * state.counts.waiting) {
      state.oldest.compact(live);
    }
    if (state.delayed.size > 1_024 && state.delayed.size > 2 * state.counts.delayed) {
      state.delayed.compact(live);
    }
  }

  #wake(state: QueueState): void {
    if (state.waiters.size === 0) return;
    for (const waiter of [...state.waiters]) waiter.resolve();
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

function trim(state: QueueState, finished: Map<string, number>, count: number, cutoff: number) {
  for (const [id, finishedAt] of finished) {
    if (finished.size <= count && finishedAt >= cutoff) break;
    finished.delete(id);
    state.tasks.delete(id);
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
