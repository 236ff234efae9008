import { createHash } from 'node:crypto';
import { DAY_MS, dayOf, HOUR_MS, WEEK_MS, weekOf, weekStart } from '../analytics/events/buckets.js';
import type {
  AnalyticsModel,
  CohortCounts,
  FunnelDefinition,
  TrackedEvent,
} from '../analytics/events/types.js';

const MINUTE_MS = 60_000;

/** The pseudonym of synthetic user `i`: 16 hex digits, as the analytics module makes them. */
export function syntheticUser(i: number): string {
  return createHash('sha256').update(`synthetic-user-${i}`).digest('hex').slice(0, 16);
}

/** A model with the given parts, the rest defaulted (no funnel, 4-week cohorts, 30 days). */
export function syntheticModel(now: number, parts: Partial<AnalyticsModel> = {}): AnalyticsModel {
  return { funnels: [], cohorts: { weeks: 4 }, retentionMs: 30 * DAY_MS, now, ...parts };
}

/** The two funnels of the funnel scenario. */
export const CHECKOUT: FunnelDefinition = {
  name: 'checkout',
  steps: ['view', 'cart', 'pay'],
  withinMs: HOUR_MS,
};
export const PAYMENT: FunnelDefinition = {
  name: 'pay:{fast}',
  steps: ['cart', 'pay'],
  withinMs: 30 * MINUTE_MS,
};

/**
 * Users walking through `CHECKOUT` in every way that matters (complete, partial, too
 * slow, out of order, a second start that still fits, a run across midnight) on day `d` (three
 * days ago) and a few on `d + 1`, with the exact answers for both funnels.
 */
export function funnelScenario(now: number): {
  events: TrackedEvent[];
  day: number;
  expected: Record<string, { day: number[]; next: number[]; both: number[] }>;
} {
  const day = dayOf(now) - 3;
  const noon = day * DAY_MS + 12 * HOUR_MS;
  const events: TrackedEvent[] = [];
  let next = 0;
  const group = (size: number, steps: [string, number][], base = noon): number[] => {
    const ids: number[] = [];
    for (let i = 0; i < size; i++) {
      const id = next++;
      ids.push(id);
      const start = base + (i % 60) * MINUTE_MS;
      for (const [event, offset] of steps) {
        events.push({ event, user: syntheticUser(id), at: start + offset * MINUTE_MS });
      }
    }
    return ids;
  };
  const complete = group(100, [
    ['view', 0],
    ['cart', 10],
    ['pay', 20],
  ]);
  group(50, [
    ['view', 0],
    ['cart', 10],
  ]);
  group(40, [['view', 0]]);
  group(30, [
    ['view', 0],
    ['cart', 120],
  ]);
  group(20, [
    ['cart', 0],
    ['view', 5],
  ]);
  group(10, [
    ['view', 0],
    ['view', 50],
    ['cart', 70],
    ['pay', 80],
  ]);
  group(5, [['pay', 0]]);
  group(15, [
    ['view', 0],
    ['cart', 30],
    ['pay', 59],
  ]);
  // 23:45 on day d, finishing after midnight: the run belongs to day d.
  group(
    5,
    [
      ['view', 0],
      ['cart', 20],
      ['pay', 30],
    ],
    day * DAY_MS + 23 * HOUR_MS + 45 * MINUTE_MS - 4 * MINUTE_MS,
  );
  // The next day, 25 of the complete users come back and stop at the cart.
  for (const id of complete.slice(0, 25)) {
    const at = noon + DAY_MS + id * MINUTE_MS;
    events.push({ event: 'view', user: syntheticUser(id), at });
    events.push({ event: 'cart', user: syntheticUser(id), at: at + 5 * MINUTE_MS });
  }
  // Anonymous steps never count.
  events.push({ event: 'view', at: noon }, { event: 'cart', at: noon + MINUTE_MS });
  return {
    events,
    day,
    expected: {
      [CHECKOUT.name]: { day: [270, 180, 130], next: [25, 25, 0], both: [270, 180, 130] },
      [PAYMENT.name]: { day: [225, 125], next: [30, 5], both: [230, 130] },
    },
  };
}

/**
 * Four weeks of activity (three weeks ago to this week) for weekly cohorts, every
 * event at or before `now`, with the exact table for 4-week cohorts of first-seen users.
 */
export function cohortScenario(now: number): {
  events: TrackedEvent[];
  firstWeek: number;
  expected: CohortCounts[];
} {
  const thisWeek = weekOf(now);
  const firstWeek = thisWeek - 3;
  const events: TrackedEvent[] = [];
  /** An event of user `id` in week `week`, `n` hours into it (this week: at most now). */
  const active = (id: number, week: number, n = 1) => {
    const at = Math.min(weekStart(week) + n * HOUR_MS, now);
    events.push({ event: `e${n % 3}`, user: syntheticUser(id), at });
  };
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  for (const id of range(0, 100)) active(id, firstWeek, 2 + (id % 5));
  for (const id of range(0, 60)) for (const n of [3, 30, 90]) active(id, firstWeek + 1, n);
  for (const id of [...range(0, 30), ...range(60, 70)]) active(id, firstWeek + 2);
  for (const id of range(0, 10)) active(id, thisWeek);
  for (const id of range(100, 150)) active(id, firstWeek + 1, 5);
  for (const id of range(100, 120)) active(id, thisWeek, 0);
  for (const id of range(150, 160)) active(id, firstWeek + 2, 4);
  // Older than the table: left out, and user 0 stays in its cohort.
  events.push({ event: 'e0', user: syntheticUser(0), at: weekStart(firstWeek) - WEEK_MS });
  return {
    events,
    firstWeek,
    expected: [
      { week: firstWeek, returned: [100, 60, 40, 10] },
      { week: firstWeek + 1, returned: [50, 0, 20, 0] },
      { week: firstWeek + 2, returned: [10, 0, 0, 0] },
    ],
  };
}
