import { TaskDependencyError } from '../../errors.js';
import type { AddOutcome, QueueCounts, RetentionSpec, TaskRecord } from '../../types.js';
import { settleDependents } from './dependencies.js';
import { leave, makeReady, QueueState, wakeWaiters } from './queue-state.js';
import { applyRetention } from './retention.js';

// What the memory task backend does for the task manager's admin calls: cancelling, counting and
// the dead letter queue.

/**
 * `cancel`: ends a task that has not started (waiting, delayed or blocked). Returns its record and
 * the dependents that died with it, or `undefined` when it could not be cancelled.
 */
export function cancelTask(
  state: QueueState,
  id: string,
  retention: RetentionSpec,
): { record: TaskRecord; killed: readonly string[] } | undefined {
  const slot = state.tasks.get(id);
  if (slot === undefined) return undefined;
  const current = slot.record.state;
  if (current !== 'waiting' && current !== 'delayed' && current !== 'blocked') return undefined;
  const now = Date.now();
  leave(state, slot);
  slot.record.state = 'cancelled';
  slot.record.finishedAt = now;
  state.cancelled.set(id, now);
  const { killed, released } = settleDependents(state, slot, false);
  applyRetention(state, retention, now);
  if (released !== undefined && released.length > 0) wakeWaiters(state);
  return { record: slot.record, killed: killed ?? [] };
}

/** What a queue this backend never saw counts as: an empty one, not paused (only ever read). */
const UNKNOWN_QUEUE = new QueueState();

/** `counts`: the queue's tasks by state, and when the oldest waiting one was created. */
export function queueCounts(state: QueueState = UNKNOWN_QUEUE): QueueCounts {
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

/** `listDead`: copies of the dead tasks, most recent first. */
export function listDead(state: QueueState, offset: number, limit: number): TaskRecord[] {
  const ids = [...state.dead.keys()];
  const out: TaskRecord[] = [];
  for (let i = ids.length - 1 - Math.max(0, offset); i >= 0 && out.length < limit; i--) {
    out.push({ ...state.tasks.get(ids[i]!)!.record });
  }
  return out;
}

/** `retryDead`: puts a dead task back in line, behind the dependencies it still waits for. */
export function retryDead(state: QueueState, queue: string, id: string): boolean {
  const slot = state.tasks.get(id);
  if (slot === undefined || slot.record.state !== 'dead') return false;
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

/** `purgeDead`: forgets every dead task of the queue; returns how many there were. */
export function purgeDead(state: QueueState): number {
  const purged = state.dead.size;
  for (const id of state.dead.keys()) state.tasks.delete(id);
  state.dead.clear();
  return purged;
}

/** `restoreDead`: stores each record `dead` unless its id is taken; `seq` numbers the new ones. */
export function restoreDead(
  state: QueueState,
  queue: string,
  records: readonly TaskRecord[],
  seq: () => number,
): AddOutcome[] {
  // Oldest first, so that the dead list keeps its order of finishing.
  const order = records
    .map((t, i) => ({ t, i }))
    .sort((a, b) => (a.t.finishedAt ?? a.t.createdAt) - (b.t.finishedAt ?? b.t.createdAt));
  const outcomes: AddOutcome[] = new Array(records.length);
  for (const { t, i } of order) outcomes[i] = restoreOne(state, queue, t, seq);
  return outcomes;
}

function restoreOne(
  state: QueueState,
  queue: string,
  t: TaskRecord,
  seq: () => number,
): AddOutcome {
  {
    if (state.tasks.has(t.id)) return { id: t.id, created: false, state: 'dead' };
    const { uniqueForMs: _unique, pendingDependencies: _pending, workerId: _worker, ...fields } = t;
    const record: TaskRecord = {
      ...fields,
      queue,
      dependsOn: [...t.dependsOn],
      backoff: { ...t.backoff },
      state: 'dead',
      finishedAt: t.finishedAt ?? t.createdAt,
    };
    if (t.error !== undefined) record.error = { ...t.error };
    state.tasks.set(t.id, {
      record,
      seq: seq(),
      gen: 0,
      token: undefined,
      leaseUntil: 0,
      started: false,
      unstarted: 0,
      dependents: undefined,
    });
    state.dead.set(t.id, record.finishedAt!);
    return { id: t.id, created: true, state: 'dead' };
  }
}
