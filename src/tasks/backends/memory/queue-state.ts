import type { WorkerInfo } from '../../types.js';
import { QueueGroups } from './groups.js';
import { type Entry, Heap } from './heap.js';
import type { Slot } from './slot.js';

/** A `waitForWork` call waiting on a queue. */
export interface Waiter {
  resolve: () => void;
}

/** Everything the memory backend holds of one queue. */
export class QueueState {
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
  readonly groups = new QueueGroups();
  /** Waiting tasks that belong to a group (the others are in `ready`). */
  groupedWaiting = 0;
  paused = false;
}

/** Moves a `blocked` (new or released) or retried task to waiting or delayed. */
export function makeReady(state: QueueState, slot: Slot, now: number): void {
  const record = slot.record;
  if (record.state === 'blocked') state.counts.blocked -= 1;
  record.pendingDependencies = undefined;
  slot.gen += 1;
  if (record.runAt > now) {
    record.state = 'delayed';
    state.counts.delayed += 1;
    state.delayed.push({ slot, gen: slot.gen, a: record.runAt, b: slot.seq });
  } else {
    enqueue(state, slot);
  }
}

/** Puts a task in line to be claimed. */
export function enqueue(state: QueueState, slot: Slot): void {
  slot.record.state = 'waiting';
  state.counts.waiting += 1;
  const name = slot.record.group;
  if (name === undefined) {
    state.ready.push({ slot, gen: slot.gen, a: slot.record.priority, b: slot.seq });
  } else {
    const g = state.groups.group(name);
    g.ready.push({ slot, gen: slot.gen, a: slot.record.priority, b: slot.seq });
    g.waiting += 1;
    state.groupedWaiting += 1;
    state.groups.join(g, Date.now());
  }
  state.oldest.push({ slot, gen: slot.gen, a: slot.record.createdAt, b: slot.seq });
}

/** Records the start of a held lease's attempt: it counts from now on. */
export function startAttempt(slot: Slot, now: number): void {
  if (slot.started) return;
  slot.started = true;
  slot.record.attempts += 1;
  slot.record.startedAt = now;
}

/** An active task goes back to waiting (release, lease expiry), keeping its place in line. */
export function giveBack(state: QueueState, slot: Slot, now: number): void {
  state.active.delete(slot.record.id);
  leftActive(state, slot, now);
  slot.token = undefined;
  slot.started = false;
  slot.record.workerId = undefined;
  slot.gen += 1;
  enqueue(state, slot);
}

/** Takes a waiting, delayed or blocked task out of the counts (its heap entries go stale). */
export function leave(state: QueueState, slot: Slot): void {
  const current = slot.record.state;
  if (current === 'waiting') {
    state.counts.waiting -= 1;
    if (slot.record.group !== undefined) tookGrouped(state, slot.record.group);
  } else if (current === 'delayed') state.counts.delayed -= 1;
  else if (current === 'blocked') state.counts.blocked -= 1;
  slot.gen += 1;
}

/** Moves the delayed tasks due by `now` to ready. */
export function promoteDue(state: QueueState, now: number): void {
  for (;;) {
    const top = state.delayed.peek();
    if (top === undefined || top.a > now) return;
    state.delayed.pop();
    const slot = top.slot;
    if (top.gen !== slot.gen || slot.record.state !== 'delayed') continue;
    state.counts.delayed -= 1;
    slot.gen += 1;
    enqueue(state, slot);
  }
}

/** When the next delayed task becomes due (dropping stale entries on the way). */
export function nextDue(state: QueueState): number {
  for (;;) {
    const top = state.delayed.peek();
    if (top === undefined) return Number.POSITIVE_INFINITY;
    if (top.gen === top.slot.gen && top.slot.record.state === 'delayed') return top.a;
    state.delayed.pop();
  }
}

/** Rebuilds a heap once stale entries outnumber the live ones, so memory stays proportional. */
export function compact(state: QueueState): void {
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

/** Wakes every `waitForWork` call on the queue. */
export function wakeWaiters(state: QueueState): void {
  if (state.waiters.size === 0) return;
  for (const waiter of [...state.waiters]) waiter.resolve();
}

/** A waiting task of group `name` left its heap (claimed, cancelled, killed). */
export function tookGrouped(state: QueueState, name: string): void {
  const g = state.groups.group(name);
  g.waiting -= 1;
  state.groupedWaiting -= 1;
  if (g.waiting <= 0) {
    state.groups.leaveRing(g);
    state.groups.forget(g);
  }
}

/**
 * A task stopped being held by a worker (finished, released, recovered): its group may take turns
 * again; returns whether the group joined the ring (waiting workers should wake).
 */
export function leftActive(state: QueueState, slot: Slot, now: number): boolean {
  const name = slot.record.group;
  if (name === undefined) return false;
  const g = state.groups.group(name);
  g.active = Math.max(0, g.active - 1);
  const was = g.inRing;
  state.groups.join(g, now);
  state.groups.forget(g);
  return !was && g.inRing;
}
