import type { RetentionSpec } from '../../types.js';
import type { QueueState } from './queue-state.js';

/** Trims the finished tasks of a queue to the retention bounds. */
export function applyRetention(state: QueueState, retention: RetentionSpec, now: number): void {
  const { completed, dead } = retention;
  trim(state, state.completed, completed.count, now - completed.ageMs);
  trim(state, state.cancelled, completed.count, now - completed.ageMs);
  trim(state, state.dead, dead.count, now - dead.ageMs);
}

function trim(state: QueueState, finished: Map<string, number>, count: number, cutoff: number) {
  for (const [id, finishedAt] of finished) {
    if (finished.size <= count && finishedAt >= cutoff) break;
    finished.delete(id);
    state.tasks.delete(id);
  }
}
