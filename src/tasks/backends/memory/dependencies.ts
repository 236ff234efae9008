import { DEPENDENCY_FAILED } from '../../errors.js';
import { leave, makeReady, type QueueState } from './queue-state.js';
import type { Slot } from './slot.js';

/**
 * Settles the dependencies of tasks just added, each dependency before its dependents (so a
 * dependent sees its dependency's final state): a task becomes runnable, blocked on what is still
 * to run, or dead for a failed dependency. Returns the tasks that died.
 */
export function settleNewTasks(
  created: readonly { slot: Slot; state: QueueState }[],
  now: number,
): Slot[] {
  const fresh = new Set<Slot>();
  for (const { slot } of created) fresh.add(slot);
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
      kill(state, slot, failed, now);
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
    makeReady(state, slot, now);
  };
  if (created.length === 1 && created[0]!.slot.record.dependsOn.length === 0) {
    // The common case, without the bookkeeping above.
    const { slot, state } = created[0]!;
    settled.add(slot);
    makeReady(state, slot, now);
  } else {
    for (const { slot, state } of created) settle(slot, state, new Set());
  }
  return killed;
}

/**
 * Applies a finished dependency to its blocked dependents: removes it from their pending list
 * and releases those with none left; a failed one (dead, cancelled) kills the dependents that
 * fail on dependency failure, and theirs in turn.
 */
export function settleDependents(
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
        kill(state, dependent, current.slot, now);
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
      makeReady(state, dependent, now);
      released.push(id);
    }
  }
  return {
    ...(released.length > 0 ? { released } : {}),
    ...(killed.length > 0 ? { killed } : {}),
  };
}

/** A blocked task dies because `dependency` ended dead or cancelled. */
function kill(state: QueueState, slot: Slot, dependency: Slot, now: number): void {
  leave(state, slot);
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
