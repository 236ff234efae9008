import { DAY_MS, dayLabel, dayOf, HOUR_MS, hourOf, weekOf, weekStart } from './buckets.js';
import { AnalyticsStoreError } from './errors.js';
import { HyperLogLog } from './hyperloglog.js';
import { badParameter, parseInstant, parseRange, type RangeQuery } from './query-params.js';
import type { AnalyticsStore, CohortDefinition, FunnelDefinition, HourCounts } from './types.js';

/** The most points an events query answers per series. */
export const MAX_POINTS = 2_500;

/**
 * A query of event counts over time.
 *
 * @example
 * ```ts
 * await analytics.events({ from: '2024-05-01', step: 'hour', events: ['signup', 'purchase'] });
 * ```
 */
export interface EventsQuery extends RangeQuery {
  /** The bucket of each point. Default: `'hour'` for ranges up to two days, else `'day'`. */
  step?: 'hour' | 'day';
  /** The events to give series for. Default: the top `limit` events of the range. */
  events?: readonly string[];
  /** How many top events. @defaultValue 10 */
  limit?: number;
}

/**
 * Event counts over a range: totals, the top events and one series per event, bucket by bucket.
 *
 * @example
 * ```ts
 * const { buckets, series } = await analytics.events({ step: 'day' });
 * chart(buckets, series.map((s) => s.counts));
 * ```
 */
export interface EventsReport {
  from: string;
  to: string;
  step: 'hour' | 'day';
  /** The start of each bucket, ISO 8601. */
  buckets: string[];
  /** All events per bucket. */
  totals: number[];
  series: { event: string; counts: number[]; total: number }[];
  /** The most frequent events of the range, most frequent first. */
  top: { event: string; count: number }[];
  total: number;
}

/**
 * One funnel over a range of start days: per step, the users who got there and the conversion.
 *
 * @example
 * ```ts
 * const { steps } = await analytics.funnel('checkout');
 * steps.at(-1)!.conversion; // share of the users of step 1 who paid
 * ```
 */
export interface FunnelReport {
  name: string;
  withinMs: number;
  /** The first and last start day (UTC), `YYYY-MM-DD`. */
  from: string;
  to: string;
  steps: {
    event: string;
    users: number;
    /** users / users of the first step (1 for the first step, 0 when nobody started). */
    conversion: number;
    /** users / users of the previous step. */
    fromPrevious: number;
  }[];
}

/**
 * Weekly retention: per cohort (the Monday of its week), its size and how many came back each
 * week after, `null` for weeks still to come.
 *
 * @example
 * ```ts
 * const { cohorts } = await analytics.retention({ weeks: 8 });
 * cohorts[0].rates[1]; // share of the oldest cohort active the week after
 * ```
 */
export interface RetentionReport {
  weeks: number;
  startEvent?: string;
  returnEvent?: string;
  cohorts: {
    week: string;
    size: number;
    returned: (number | null)[];
    rates: (number | null)[];
  }[];
}

/**
 * Active users and the busiest events now.
 *
 * @example
 * ```ts
 * const { activeUsers } = await analytics.overview();
 * console.log(activeUsers.day, activeUsers.week, activeUsers.month);
 * ```
 */
export interface OverviewFigures {
  at: string;
  /** Distinct users today (UTC), over the last 7 and 30 days (today included); HyperLogLog estimates. */
  activeUsers: { day: number; week: number; month: number; standardError: number };
  /** Distinct users of each of the last 30 days, oldest first. */
  dailyActiveUsers: { days: string[]; users: number[] };
  events: { last24h: number; last7d: number };
  /** The most frequent events of the last 7 days. */
  topEvents: { event: string; count: number }[];
}

/** @internal What a query needs: the store and the model's settings. */
export interface QueryContext {
  store: AnalyticsStore;
  now: number;
  retentionMs: number;
}

async function ask<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new AnalyticsStoreError(operation, error);
  }
}

function topOf(rows: readonly HourCounts[], limit: number): { event: string; count: number }[] {
  const sums = new Map<string, number>();
  for (const row of rows)
    for (const [event, n] of row.counts) sums.set(event, (sums.get(event) ?? 0) + n);
  return [...sums]
    .map(([event, count]) => ({ event, count }))
    .sort((a, b) => b.count - a.count || (a.event < b.event ? -1 : 1))
    .slice(0, limit);
}

/** @internal `overview()`. */
export async function overview(ctx: QueryContext): Promise<OverviewFigures> {
  const { now, store } = ctx;
  const today = dayOf(now);
  const days = Array.from({ length: 30 }, (_, i) => today - 29 + i);
  const ranges = [
    { from: today, to: today },
    { from: today - 6, to: today },
    { from: today - 29, to: today },
    ...days.map((day) => ({ from: day, to: day })),
  ];
  const hour = hourOf(now);
  const [users, rows] = await Promise.all([
    ask('activeUsers', () => store.activeUsers(ranges)),
    ask('eventCounts', () => store.eventCounts(hour - 7 * 24 + 1, hour)),
  ]);
  let last24h = 0;
  let last7d = 0;
  for (const row of rows) {
    let n = 0;
    for (const count of row.counts.values()) n += count;
    last7d += n;
    if (row.hour > hour - 24) last24h += n;
  }
  return {
    at: new Date(now).toISOString(),
    activeUsers: {
      day: users[0]!,
      week: users[1]!,
      month: users[2]!,
      standardError: HyperLogLog.standardError,
    },
    dailyActiveUsers: { days: days.map(dayLabel), users: users.slice(3) as number[] },
    events: { last24h, last7d },
    topEvents: topOf(rows, 10),
  };
}

/** @internal `events(query)`. */
export async function events(ctx: QueryContext, query: EventsQuery = {}): Promise<EventsReport> {
  const { from, to } = parseRange(query, ctx.now, 7 * DAY_MS, ctx.retentionMs);
  const step = query.step ?? (to - from <= 2 * DAY_MS ? 'hour' : 'day');
  if (step !== 'hour' && step !== 'day') throw badParameter('step', step, "'hour' or 'day'");
  const size = step === 'hour' ? 1 : 24;
  const first = Math.floor(hourOf(from) / size);
  const last = Math.floor(hourOf(to) / size);
  if (last - first + 1 > MAX_POINTS) {
    throw badParameter('step', step, `a step giving at most ${MAX_POINTS} points over the range`);
  }
  const limit = query.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw badParameter('limit', limit, 'an integer from 1 to 100');
  }
  if (query.events !== undefined && (!Array.isArray(query.events) || query.events.length > 100)) {
    throw badParameter('events', query.events, 'an array of at most 100 event names');
  }
  const rows = await ask('eventCounts', () => ctx.store.eventCounts(hourOf(from), hourOf(to)));
  const top = topOf(rows, limit);
  const names = query.events ?? top.map((t) => t.event);
  const points = last - first + 1;
  const totals = new Array<number>(points).fill(0);
  const series = names.map((event) => ({
    event,
    counts: new Array<number>(points).fill(0),
    total: 0,
  }));
  const byName = new Map(series.map((s) => [s.event, s]));
  let total = 0;
  for (const row of rows) {
    const i = Math.floor(row.hour / size) - first;
    for (const [event, n] of row.counts) {
      totals[i]! += n;
      total += n;
      const s = byName.get(event);
      if (s !== undefined) {
        s.counts[i]! += n;
        s.total += n;
      }
    }
  }
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    step,
    buckets: Array.from({ length: points }, (_, i) =>
      new Date((first + i) * size * HOUR_MS).toISOString(),
    ),
    totals,
    series,
    top,
    total,
  };
}

/** @internal `funnel(name, query)`. */
export async function funnel(
  ctx: QueryContext,
  definition: FunnelDefinition,
  query: RangeQuery = {},
): Promise<FunnelReport> {
  const { from, to } = parseRange(query, ctx.now, 6 * DAY_MS, ctx.retentionMs);
  const first = dayOf(from);
  const last = dayOf(to);
  const users = await ask('funnel', () => ctx.store.funnel(definition, first, last));
  return {
    name: definition.name,
    withinMs: definition.withinMs,
    from: dayLabel(first),
    to: dayLabel(last),
    steps: definition.steps.map((event, i) => {
      const n = users[i] ?? 0;
      const start = users[0] ?? 0;
      const previous = i === 0 ? n : (users[i - 1] ?? 0);
      return {
        event,
        users: n,
        conversion: start === 0 ? 0 : n / start,
        fromPrevious: previous === 0 ? 0 : n / previous,
      };
    }),
  };
}

/** @internal `retention(query)`. */
export async function retention(
  ctx: QueryContext,
  cohorts: CohortDefinition,
  query: { weeks?: number; to?: RangeQuery['to'] } = {},
): Promise<RetentionReport> {
  const weeks = query.weeks ?? cohorts.weeks;
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > cohorts.weeks) {
    throw badParameter('weeks', query.weeks, `an integer from 1 to ${cohorts.weeks}`);
  }
  const to = query.to === undefined ? ctx.now : parseInstant(query.to, 'to');
  const current = weekOf(ctx.now);
  const last = Math.min(weekOf(to), current);
  const rows = await ask('cohorts', () => ctx.store.cohorts(last - weeks + 1, last, weeks));
  return {
    weeks,
    ...(cohorts.startEvent === undefined ? {} : { startEvent: cohorts.startEvent }),
    ...(cohorts.returnEvent === undefined ? {} : { returnEvent: cohorts.returnEvent }),
    cohorts: rows.map((row) => {
      const size = row.returned[0] ?? 0;
      const returned = row.returned.map((n, k) => (row.week + k > current ? null : n));
      return {
        week: dayLabel(dayOf(weekStart(row.week))),
        size,
        returned,
        rates: returned.map((n) => (n === null ? null : size === 0 ? 0 : n / size)),
      };
    }),
  };
}
