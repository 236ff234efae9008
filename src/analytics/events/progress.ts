import type { CohortActivity, FunnelHit } from './fold.js';
import { RETURNS, STARTS } from './fold.js';

/**
 * @internal Advances a user's funnel state by one hit. `state[i]` is the latest start (epoch ms,
 * 0 for none) of an ordered run of steps that reached step `i + 1` within `withinMs` of its
 * start; keeping the latest start is what lets a later step still fit. `reached(step, start)` is
 * called each time a step is reached from a later start than before. The Redis store's script
 * does the same, line for line.
 *
 * @example
 * ```ts
 * advanceFunnel(state, { user, at, steps: [2] }, 86_400_000, (step, start) => sets[step].add(user));
 * ```
 */
export function advanceFunnel(
  state: Float64Array,
  hit: FunnelHit,
  withinMs: number,
  reached: (step: number, start: number) => void,
): void {
  for (const step of hit.steps) {
    let start = hit.at;
    if (step > 1) {
      const previous = state[step - 2]!;
      if (!(previous > 0) || previous > hit.at || hit.at - previous > withinMs) continue;
      start = previous;
    }
    if (start > state[step - 1]!) {
      state[step - 1] = start;
      reached(step, start);
    }
  }
}

/** @internal A user's cohort: its first week and the weeks after it seen active (bit k: week + k). */
export interface CohortState {
  cohort: number;
  mask: number;
}

/**
 * @internal Applies a user's activity of one batch to its cohort state: the first week with a
 * start puts a user without a cohort in that week's cohort (`counted(week, 0)`), and each later
 * week with a return within `weeks` counts once (`counted(cohort, k)`). Activity before the
 * cohort's week (late events) changes nothing. Returns the new state, or `undefined` when
 * nothing changed.
 *
 * @example
 * ```ts
 * const next = advanceCohort(current, activity, 12, (week, k) => table[week][k]++);
 * ```
 */
export function advanceCohort(
  current: CohortState | undefined,
  activity: CohortActivity,
  weeks: number,
  counted: (cohort: number, offset: number) => void,
): CohortState | undefined {
  let state = current;
  let changed = false;
  for (let i = 0; i < activity.weeks.length; i++) {
    const week = activity.weeks[i]!;
    const flags = activity.flags[i]!;
    if (state === undefined) {
      if ((flags & STARTS) === 0) continue;
      state = { cohort: week, mask: 1 };
      changed = true;
      counted(week, 0);
      continue;
    }
    const offset = week - state.cohort;
    if (offset < 1 || offset >= weeks || (flags & RETURNS) === 0) continue;
    const bit = 2 ** offset;
    if (Math.floor(state.mask / bit) % 2 === 1) continue;
    state = { cohort: state.cohort, mask: state.mask + bit };
    changed = true;
    counted(state.cohort, offset);
  }
  return changed ? state : undefined;
}
