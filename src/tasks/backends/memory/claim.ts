import { type MemoryGroup, UNGROUPED, windowRoom } from './groups.js';
import type { Heap } from './heap.js';
import { nextDue, type QueueState, tookGrouped } from './queue-state.js';
import type { Slot } from './slot.js';

// Which ready tasks a claim of the memory task backend takes: the queue's limit first, then
// `ready` in priority order while no grouped task is ready, else turns between the groups (the
// ungrouped tasks as one more), as the Redis CLAIM script does.

/** Pops the first live waiting entry of `heap`. */
function popLive(heap: Heap): Slot | undefined {
  for (;;) {
    const entry = heap.pop();
    if (entry === undefined) return undefined;
    if (entry.gen === entry.slot.gen && entry.slot.record.state === 'waiting') return entry.slot;
  }
}

/** Up to `max` ready tasks, still `waiting` (the caller makes them active). */
export function takeReady(state: QueueState, max: number, now: number): Slot[] {
  const groups = state.groups;
  if (groups.limitedUntil > now) return [];
  const limit = groups.limits.rateLimit;
  if (limit !== undefined) {
    const { room } = windowRoom(groups, limit.limit, limit.perMs, now);
    if (room < max) max = room;
  }
  const shared = groups.limits.sharedLimit;
  if (shared !== undefined && groups.shared !== undefined) {
    const { room } = windowRoom(groups.shared, shared.limit, shared.perMs, now);
    if (room < max) max = room;
  }
  if (max <= 0) return [];
  groups.wake(now);
  const taken: Slot[] = [];
  if (groups.ringSize === 0) {
    while (taken.length < max) {
      const slot = popLive(state.ready);
      if (slot === undefined) break;
      taken.push(slot);
    }
  } else {
    const ungrouped = groups.group(UNGROUPED);
    ungrouped.waiting = state.counts.waiting - state.groupedWaiting;
    groups.join(ungrouped, now);
    const perGroup = groups.limits.groupRateLimit;
    let visits = 0;
    while (taken.length < max && visits < 100 * max) {
      const round = groups.popRound(max - taken.length);
      if (round.length === 0) break;
      for (const entry of round) {
        visits += 1;
        const g = entry.group;
        if (g.name !== UNGROUPED && perGroup !== undefined) {
          const { room, ends } = windowRoom(g, perGroup.limit, perGroup.perMs, now);
          if (room <= 0) {
            wait(state, g, ends);
            continue;
          }
        }
        const slot = popLive(g.name === UNGROUPED ? state.ready : g.ready);
        if (slot === undefined) continue;
        taken.push(slot);
        if (g.name === UNGROUPED) {
          g.waiting -= 1;
          groups.advance(entry, g.waiting > 0);
          continue;
        }
        g.used += perGroup === undefined ? 0 : 1;
        g.active += 1;
        const cap = groups.capOf(g);
        groups.advance(entry, !(cap > 0 && g.active >= cap));
        tookGrouped(state, g.name);
      }
    }
    // The ungrouped tasks keep their place in the ring while they have some: rejoining at the
    // last pass each claim would put them ahead of every group.
  }
  if (limit !== undefined) groups.used += taken.length;
  if (shared !== undefined && groups.shared !== undefined) groups.shared.used += taken.length;
  return taken;
}

/** Group `g` starts nothing until `until`. */
export function wait(state: QueueState, g: MemoryGroup, until: number): void {
  if (until > g.limitedUntil) g.limitedUntil = until;
  state.groups.leaveRing(g);
}

/**
 * When a claim of the queue may next take something: `now` when it may now, Infinity when only a
 * change (an add, a finish, a resume) can make it so.
 */
export function readyAt(state: QueueState, now: number): number {
  if (state.paused) return Number.POSITIVE_INFINITY;
  const groups = state.groups;
  groups.wake(now);
  let at = nextDue(state);
  const ungrouped = state.counts.waiting - state.groupedWaiting;
  const work = ungrouped > 0 || groups.ringSize > 0;
  const wake = groups.nextWake(now);
  if (wake < at) at = wake;
  if (!work) return Math.max(at, now);
  let hold = now;
  if (groups.limitedUntil > now) hold = groups.limitedUntil;
  const limit = groups.limits.rateLimit;
  if (limit !== undefined) {
    const { room, ends } = windowRoom(groups, limit.limit, limit.perMs, now);
    if (room <= 0 && ends > hold) hold = ends;
  }
  const shared = groups.limits.sharedLimit;
  if (shared !== undefined && groups.shared !== undefined) {
    const { room, ends } = windowRoom(groups.shared, shared.limit, shared.perMs, now);
    if (room <= 0 && ends > hold) hold = ends;
  }
  return hold;
}
