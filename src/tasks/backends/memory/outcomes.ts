import type { AttemptOutcome, FinishResult, Lease, RetentionSpec } from '../../types.js';
import { wait } from './claim.js';
import { settleDependents } from './dependencies.js';
import type { PendingEvent } from './events.js';
import {
  giveBack,
  leftActive,
  makeReady,
  type QueueState,
  startAttempt,
  wakeWaiters,
} from './queue-state.js';
import { applyRetention } from './retention.js';

// What `finish` records in the memory task backend: attempt starts, then outcomes.

/**
 * `finish`: records the starts in `started`, then each outcome whose lease is still held (a retry
 * back in line, a completion or a death settling its dependents). Returns one result per outcome,
 * and the events to deliver.
 */
export function recordOutcomes(
  state: QueueState | undefined,
  outcomes: readonly AttemptOutcome[],
  started: readonly Lease[],
  retention: RetentionSpec,
): { results: FinishResult[]; events: PendingEvent[] } {
  const results: FinishResult[] = [];
  const events: PendingEvent[] = [];
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
    if (outcome.kind === 'limited') {
      // The remote side refused: no attempt spent; the group (or the queue) waits.
      if (slot.started) slot.record.attempts = Math.max(0, slot.record.attempts - 1);
      const until = now + Math.max(1, outcome.retryAfterMs);
      const name = slot.record.group;
      if (name === undefined)
        state.groups.limitedUntil = Math.max(state.groups.limitedUntil, until);
      else wait(state, state.groups.group(name), until);
      giveBack(state, slot, now);
      // Waiting workers compute their wait again: until the group (or queue) may run.
      wake = true;
      events.push(['retry', slot.record]);
      results.push({ id: outcome.id, accepted: true });
      continue;
    }
    startAttempt(slot, now);
    state.active.delete(outcome.id);
    if (leftActive(state, slot, now)) wake = true;
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
    applyRetention(state, retention, Date.now());
    if (wake) wakeWaiters(state);
  }
  return { results, events };
}
