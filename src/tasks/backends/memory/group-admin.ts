import type { GroupSettings, QueueLimits } from '../../types.js';
import { type QueueState, wakeWaiters } from './queue-state.js';

// The group and limit settings of the memory task backend (GROUP_SET of the Redis backend).

/**
 * `configureQueue`: the queue's limits and group defaults (`shared`: the counter of its shared
 * limit, one object for every queue sharing it); every group is placed again.
 */
export function configureQueue(
  state: QueueState,
  limits: QueueLimits,
  shared: { window: number; used: number } | undefined,
): void {
  state.groups.limits = { ...limits };
  state.groups.shared = shared;
  const now = Date.now();
  for (const g of state.groups.byName.values()) state.groups.place(g, now);
  wakeWaiters(state);
}

/** `configureGroup`: one group's weight and cap. */
export function configureGroup(state: QueueState, group: string, settings: GroupSettings): void {
  state.groups.configure(group, settings, Date.now());
  wakeWaiters(state);
}

/** `pauseGroup` / `resumeGroup`. */
export function groupPause(state: QueueState, group: string, paused: boolean): void {
  const g = state.groups.group(group);
  g.paused = paused;
  state.groups.place(g, Date.now());
  if (!paused) {
    state.groups.forget(g);
    wakeWaiters(state);
  }
}
