import { dayOf, hourOf, weekOf } from './buckets.js';
import { type CohortActivity, type FunnelHit, foldBatch } from './fold.js';
import { HyperLogLog } from './hyperloglog.js';
import { IdTable } from './id-table.js';
import { advanceCohort, advanceFunnel } from './progress.js';
import { pseudonymHalves } from './pseudonym.js';
import type {
  AnalyticsBatch,
  AnalyticsModel,
  AnalyticsStore,
  CohortCounts,
  DayRange,
  FunnelDefinition,
  HourCounts,
} from './types.js';

/** Batch ids remembered for idempotent writes. */
const BATCH_IDS = 4_096;
/** How long a funnel run outlives its time limit, for events that arrive late. */
const FUNNEL_GRACE_MS = 3_600_000;
const PRUNE_EVERY_MS = 60_000;

interface FunnelData {
  /**
   * Per pseudonym, the latest start that reached each step (see advanceFunnel), then when it was
   * last written: `steps + 1` doubles an id.
   */
  states: IdTable;
  /** Per start day, per step, the users who reached it. */
  reached: Map<number, IdTable[]>;
  withinMs: number;
}

/**
 * The {@link AnalyticsStore} of one process, and the default: counts per hour in maps, one
 * HyperLogLog sketch (16 KiB) per day, the users of each funnel step per start day and the
 * cohort of each user in compact id tables (about 20–40 bytes a user), so a million users fit in
 * tens of megabytes. Everything older than the model's retention is dropped as batches come in;
 * funnel runs past their time limit and users whose cohort left the table are forgotten.
 *
 * @example
 * ```ts
 * const analytics = new Analytics({ store: new MemoryAnalyticsStore() });
 * ```
 */
export class MemoryAnalyticsStore implements AnalyticsStore {
  readonly shared = false;
  readonly #hours = new Map<number, Map<string, number>>();
  readonly #days = new Map<number, HyperLogLog>();
  readonly #funnels = new Map<string, FunnelData>();
  readonly #cohortUsers = new IdTable(2);
  readonly #cohorts = new Map<number, number[]>();
  readonly #batches = new Set<string>();
  #oldestUserCohort = Number.POSITIVE_INFINITY;
  #prunedAt = Number.NEGATIVE_INFINITY;

  async record(batch: AnalyticsBatch): Promise<void> {
    if (this.#batches.has(batch.id)) return;
    this.#batches.add(batch.id);
    if (this.#batches.size > BATCH_IDS) {
      this.#batches.delete(this.#batches.values().next().value as string);
    }
    const { model } = batch;
    const folded = foldBatch(batch);
    for (const [hour, counts] of folded.counts) {
      let known = this.#hours.get(hour);
      if (known === undefined) this.#hours.set(hour, (known = new Map()));
      for (const [event, n] of counts) known.set(event, (known.get(event) ?? 0) + n);
    }
    for (const [day, users] of folded.users) {
      let sketch = this.#days.get(day);
      if (sketch === undefined) this.#days.set(day, (sketch = new HyperLogLog()));
      for (const user of users) {
        const [hi, lo] = pseudonymHalves(user);
        sketch.add(hi, lo);
      }
    }
    const oldestDay = dayOf(model.now - model.retentionMs);
    model.funnels.forEach((funnel, f) => {
      const hits = folded.funnels[f]!;
      if (hits.length > 0) this.#advanceFunnel(funnel, hits, oldestDay, model.now);
    });
    this.#advanceCohorts(folded.cohorts, model.cohorts.weeks);
    if (model.now - this.#prunedAt >= PRUNE_EVERY_MS) this.#prune(model);
  }

  async eventCounts(fromHour: number, toHour: number): Promise<readonly HourCounts[]> {
    const rows: HourCounts[] = [];
    for (const [hour, counts] of this.#hours) {
      if (hour >= fromHour && hour <= toHour) rows.push({ hour, counts: new Map(counts) });
    }
    return rows.sort((a, b) => a.hour - b.hour);
  }

  async activeUsers(ranges: readonly DayRange[]): Promise<readonly number[]> {
    return ranges.map(({ from, to }) => {
      const sketches: HyperLogLog[] = [];
      for (const [day, sketch] of this.#days) if (day >= from && day <= to) sketches.push(sketch);
      if (sketches.length === 0) return 0;
      return sketches.length === 1 ? sketches[0]!.count() : HyperLogLog.union(sketches).count();
    });
  }

  async funnel(
    funnel: FunnelDefinition,
    fromDay: number,
    toDay: number,
  ): Promise<readonly number[]> {
    const data = this.#funnels.get(funnel.name);
    const days: IdTable[][] = [];
    for (const [day, sets] of data?.reached ?? [])
      if (day >= fromDay && day <= toDay) days.push(sets);
    return funnel.steps.map((_, i) => {
      if (days.length === 1) return days[0]![i]?.size ?? 0;
      return distinct(days.map((sets) => sets[i]).filter((set) => set !== undefined));
    });
  }

  async cohorts(fromWeek: number, toWeek: number, weeks: number): Promise<readonly CohortCounts[]> {
    const rows: CohortCounts[] = [];
    for (let week = fromWeek; week <= toWeek; week++) {
      const counts = this.#cohorts.get(week);
      if (counts === undefined) continue;
      rows.push({ week, returned: Array.from({ length: weeks }, (_, k) => counts[k] ?? 0) });
    }
    return rows;
  }

  async close(): Promise<void> {}

  #advanceFunnel(
    funnel: FunnelDefinition,
    hits: readonly FunnelHit[],
    oldestDay: number,
    now: number,
  ): void {
    let data = this.#funnels.get(funnel.name);
    const steps = funnel.steps.length;
    if (data === undefined || data.states.words !== steps + 1) {
      const states = new IdTable(steps + 1, undefined, true);
      data = { states, reached: new Map(), withinMs: funnel.withinMs };
      this.#funnels.set(funnel.name, data);
    }
    data.withinMs = funnel.withinMs;
    const { states, reached } = data;
    const state = new Float64Array(steps);
    for (const hit of hits) {
      const [hi, lo] = pseudonymHalves(hit.user);
      let slot = states.find(hi, lo);
      // Without a run, only a first step can start one: no state for the others.
      if (slot < 0 && hit.steps.at(-1) !== 1) continue;
      for (let i = 0; i < steps; i++) state[i] = slot < 0 ? 0 : states.get(slot, i);
      let changed = false;
      advanceFunnel(state, hit, funnel.withinMs, (step, start) => {
        changed = true;
        const day = dayOf(start);
        if (day < oldestDay) return;
        let sets = reached.get(day);
        if (sets === undefined) {
          sets = Array.from({ length: steps }, () => new IdTable(0));
          reached.set(day, sets);
        }
        sets[step - 1]!.insert(hi, lo);
      });
      if (!changed) continue;
      if (slot < 0) slot = states.insert(hi, lo);
      for (let i = 0; i < steps; i++) states.set(slot, i, state[i]!);
      // When the run was last written, as the Redis store's expiry counts.
      states.set(slot, steps, now);
    }
  }

  #advanceCohorts(activities: readonly CohortActivity[], weeks: number): void {
    const table = this.#cohortUsers;
    for (const activity of activities) {
      const [hi, lo] = pseudonymHalves(activity.user);
      const slot = table.find(hi, lo);
      const current =
        slot < 0 ? undefined : { cohort: table.get(slot, 0), mask: table.get(slot, 1) };
      const next = advanceCohort(current, activity, weeks, (cohort, offset) => {
        let counts = this.#cohorts.get(cohort);
        if (counts === undefined) this.#cohorts.set(cohort, (counts = []));
        counts[offset] = (counts[offset] ?? 0) + 1;
      });
      if (next === undefined) continue;
      const at = slot < 0 ? table.insert(hi, lo) : slot;
      table.set(at, 0, next.cohort);
      table.set(at, 1, next.mask);
      if (next.cohort < this.#oldestUserCohort) this.#oldestUserCohort = next.cohort;
    }
  }

  #prune(model: AnalyticsModel): void {
    this.#prunedAt = model.now;
    const oldest = model.now - model.retentionMs;
    const oldestHour = hourOf(oldest);
    const oldestDay = dayOf(oldest);
    for (const hour of this.#hours.keys()) if (hour < oldestHour) this.#hours.delete(hour);
    for (const day of this.#days.keys()) if (day < oldestDay) this.#days.delete(day);
    for (const [name, data] of this.#funnels) {
      for (const day of data.reached.keys()) if (day < oldestDay) data.reached.delete(day);
      const horizon = model.now - data.withinMs - FUNNEL_GRACE_MS;
      const { states } = data;
      const written = states.words - 1;
      states.retain((slot) => states.get(slot, written) >= horizon);
      if (data.reached.size === 0 && states.size === 0) this.#funnels.delete(name);
    }
    const firstWeek = weekOf(model.now) - model.cohorts.weeks + 1;
    for (const week of this.#cohorts.keys()) if (week < firstWeek) this.#cohorts.delete(week);
    if (this.#oldestUserCohort < firstWeek) {
      const table = this.#cohortUsers;
      table.retain((slot) => table.get(slot, 0) >= firstWeek);
      this.#oldestUserCohort = firstWeek;
    }
  }
}

/** How many distinct ids the tables hold together. */
function distinct(tables: readonly IdTable[]): number {
  if (tables.length === 0) return 0;
  const largest = tables.reduce((a, b) => (b.size > a.size ? b : a));
  const union = new IdTable(0, largest.size * 2);
  for (const table of tables) {
    table.forEach((hi, lo) => {
      union.insert(hi, lo);
    });
  }
  return union.size;
}
