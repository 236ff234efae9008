import { dayOf, hourOf, weekOf } from './buckets.js';
import type { AnalyticsBatch, AnalyticsModel, FunnelDefinition } from './types.js';

/** Cohort flag: the event may start a cohort. */
export const STARTS = 1;
/** Cohort flag: the event counts as coming back. */
export const RETURNS = 2;

/**
 * @internal One event that is a step of a funnel: who, when, and which steps (1-based, highest
 * first, so that one event never serves as two consecutive steps).
 */
export interface FunnelHit {
  readonly user: string;
  readonly at: number;
  readonly steps: readonly number[];
}

/** @internal A user's activity in a batch, per week (ascending) with its cohort flags. */
export interface CohortActivity {
  readonly user: string;
  readonly weeks: readonly number[];
  readonly flags: readonly number[];
}

/**
 * @internal A batch reduced to what the aggregates need: counts per hour and event, the users of
 * each day, each user's weeks for the cohorts, and the funnel steps in time order. Both stores
 * fold this way, so they agree on every figure.
 */
export interface FoldedBatch {
  readonly counts: Map<number, Map<string, number>>;
  readonly users: Map<number, Set<string>>;
  readonly cohorts: CohortActivity[];
  /** Aligned with `model.funnels`. */
  readonly funnels: FunnelHit[][];
  /** The first week whose cohort can still be shown: older activity is left out. */
  readonly firstCohortWeek: number;
}

// Keyed by the funnels array, which stays the same from one batch to the next.
const stepIndexes = new WeakMap<readonly FunnelDefinition[], Map<string, [number, number[]][]>>();

/** Event name → the funnels it is a step of, with its steps there (highest first). */
function stepsOf(model: AnalyticsModel): Map<string, [number, number[]][]> {
  let index = stepIndexes.get(model.funnels);
  if (index !== undefined) return index;
  index = new Map();
  model.funnels.forEach((funnel, f) => {
    const byEvent = new Map<string, number[]>();
    funnel.steps.forEach((event, i) => {
      const list = byEvent.get(event) ?? [];
      list.unshift(i + 1);
      byEvent.set(event, list);
    });
    for (const [event, steps] of byEvent) {
      const entry = index!.get(event) ?? [];
      entry.push([f, steps]);
      index!.set(event, entry);
    }
  });
  stepIndexes.set(model.funnels, index);
  return index;
}

/**
 * @internal Folds `batch` (events in time order); events older than the model's retention are
 * left out.
 *
 * @example
 * ```ts
 * const folded = foldBatch({ id, events, model });
 * folded.counts.get(hourOf(Date.now()))?.get('signup'); // signups this hour in the batch
 * ```
 */
export function foldBatch(batch: AnalyticsBatch): FoldedBatch {
  const { model } = batch;
  const oldest = model.now - model.retentionMs;
  const firstCohortWeek = weekOf(model.now) - model.cohorts.weeks + 1;
  const { startEvent, returnEvent } = model.cohorts;
  const steps = stepsOf(model);
  const counts = new Map<number, Map<string, number>>();
  const users = new Map<number, Set<string>>();
  const weeks = new Map<string, Map<number, number>>();
  const funnels: FunnelHit[][] = model.funnels.map(() => []);
  for (const { event, user, at } of batch.events) {
    if (!(at >= oldest)) continue;
    const hour = hourOf(at);
    let hourCounts = counts.get(hour);
    if (hourCounts === undefined) counts.set(hour, (hourCounts = new Map()));
    hourCounts.set(event, (hourCounts.get(event) ?? 0) + 1);
    if (user === undefined) continue;
    const day = dayOf(at);
    let dayUsers = users.get(day);
    if (dayUsers === undefined) users.set(day, (dayUsers = new Set()));
    dayUsers.add(user);
    const week = weekOf(at);
    const flags =
      (startEvent === undefined || startEvent === event ? STARTS : 0) |
      (returnEvent === undefined || returnEvent === event ? RETURNS : 0);
    if (week >= firstCohortWeek && flags !== 0) {
      let userWeeks = weeks.get(user);
      if (userWeeks === undefined) weeks.set(user, (userWeeks = new Map()));
      userWeeks.set(week, (userWeeks.get(week) ?? 0) | flags);
    }
    const hits = steps.get(event);
    if (hits !== undefined)
      for (const [f, list] of hits) funnels[f]!.push({ user, at, steps: list });
  }
  const cohorts: CohortActivity[] = [];
  for (const [user, byWeek] of weeks) {
    const sorted = [...byWeek.keys()].sort((a, b) => a - b);
    cohorts.push({ user, weeks: sorted, flags: sorted.map((w) => byWeek.get(w)!) });
  }
  return { counts, users, cohorts, funnels, firstCohortWeek };
}
