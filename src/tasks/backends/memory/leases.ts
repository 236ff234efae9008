import { UNSTARTED_DELIVERIES } from '../../errors.js';
import type { Lease, RetentionSpec } from '../../types.js';
import { settleDependents } from './dependencies.js';
import type { PendingEvent } from './events.js';
import { giveBack, leftActive, type QueueState, wakeWaiters } from './queue-state.js';
import { applyRetention } from './retention.js';

// The leases of the memory task backend: renewal, early release and recovery once they expire.

/** `renewLeases`: extends the leases still held; returns the ids of those lost. */
export function renewLeases(
  state: QueueState | undefined,
  leases: readonly Lease[],
  leaseMs: number,
): string[] {
  const lost: string[] = [];
  const until = Date.now() + leaseMs;
  for (const lease of leases) {
    const slot = state?.active.get(lease.id);
    if (slot === undefined || slot.token !== lease.token) lost.push(lease.id);
    else slot.leaseUntil = until;
  }
  return lost;
}

/** `release`: gives held tasks back to the queue; an attempt already started is not counted. */
export function release(state: QueueState, leases: readonly Lease[]): void {
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

/**
 * `recoverExpired`: gives the tasks whose lease ended back to the queue, or to the dead letter
 * queue when they were lost again and again before any start. Returns how many went back, and
 * the events to deliver.
 */
export function recoverExpired(
  state: QueueState,
  retention: RetentionSpec,
  now: number,
): { recovered: number; events: PendingEvent[] } {
  let recovered = 0;
  const events: PendingEvent[] = [];
  for (const slot of [...state.active.values()]) {
    if (slot.leaseUntil >= now) continue;
    if (!slot.started && ++slot.unstarted >= UNSTARTED_DELIVERIES.limit) {
      // Lost before any start was recorded, again and again: it stops every worker it reaches.
      state.active.delete(slot.record.id);
      leftActive(state, slot, now);
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
  if (events.length > 0) applyRetention(state, retention, now);
  // Dependents of a task that died here may have been released too.
  if (recovered > 0 || events.length > 0) wakeWaiters(state);
  return { recovered, events };
}
