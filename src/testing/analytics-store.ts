import { randomUUID } from 'node:crypto';
import { DAY_MS, dayOf, HOUR_MS, hourOf, weekOf } from '../analytics/events/buckets.js';
import type { AnalyticsModel, AnalyticsStore, TrackedEvent } from '../analytics/events/types.js';
import {
  CHECKOUT,
  cohortScenario,
  funnelScenario,
  PAYMENT,
  syntheticModel,
  syntheticUser,
} from './analytics-data.js';
import type { TestApi } from './test-api.js';

/** A store under test, with a second view of the same state when the store is shared. */
export interface AnalyticsStoreUnderTest {
  store: AnalyticsStore;
  /**
   * A second store on the same state, as another process of the deployment opens it. Batches are
   * spread over both; without one (a store of one process) `store` is used twice.
   */
  second?: AnalyticsStore;
  /**
   * The remaining lifetime in milliseconds of everything the store holds (Infinity for a key
   * that never expires). Without it, the retention test checks the answers only.
   */
  expiries?(): Promise<number[]>;
  /** Removes what the test left; runs after the suite's own calls. */
  cleanup(): unknown;
}

/** How a conformance run builds the store under test. */
export interface AnalyticsStoreHarness {
  /** A fresh store, isolated from every other test: its own key prefix or instance. */
  create(): AnalyticsStoreUnderTest | Promise<AnalyticsStoreUnderTest>;
}

const NAMES = ['signup', 'a:b', '{x}', 'with space', 'ünïcödé ✓', '%3A'];

/**
 * The contract every {@link AnalyticsStore} passes: event counts per hour and name, exact;
 * distinct users per day and over ranges of days within 2% at 50,000 users (HyperLogLog) and
 * exact for a few; funnels exact (order, time limit, the latest start that still fits, runs across
 * midnight, several days without counting a user twice); weekly cohorts exact, from first-seen
 * users or from a start to a return event; a batch written twice counted once; state shared by
 * every instance; nothing older than the retention, and nothing kept forever. Synthetic data
 * around the real current time, in batches small enough that funnels and cohorts cross them.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeAnalyticsStore } from '@revcopy/enterprise/testing';
 *
 * describeAnalyticsStore('clickhouse', vitest, {
 *   create() {
 *     const store = new ClickHouseAnalyticsStore({ database: `t_${Date.now()}` });
 *     return { store, cleanup: () => store.drop() };
 *   },
 * });
 * ```
 */
export function describeAnalyticsStore(
  name: string,
  api: TestApi,
  harness: AnalyticsStoreHarness,
): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  describe(`AnalyticsStore conformance: ${name}`, () => {
    let store: AnalyticsStore;
    let second: AnalyticsStore;
    let expiries: (() => Promise<number[]>) | undefined;
    let cleanup: () => unknown;
    beforeEach(async () => {
      const created = await harness.create();
      store = created.store;
      second = created.second ?? created.store;
      expiries = created.expiries?.bind(created);
      cleanup = () => created.cleanup();
    });
    afterEach(async () => {
      await cleanup();
    });

    /** Writes `events` in time order, in batches of `size`, alternating between the instances. */
    const record = async (events: readonly TrackedEvent[], model: AnalyticsModel, size = 97) => {
      const sorted = [...events].sort((a, b) => a.at - b.at);
      for (let i = 0, n = 0; i < sorted.length; i += size, n++) {
        const batch = { id: randomUUID(), events: sorted.slice(i, i + size), model };
        await (n % 2 === 0 ? store : second).record(batch);
      }
    };

    it('counts events per hour and name exactly, anonymous ones included', async () => {
      const now = Date.now();
      const hour = hourOf(now) - 5;
      const events: TrackedEvent[] = [];
      NAMES.forEach((event, i) => {
        for (let n = 0; n <= i; n++) {
          events.push({ event, user: syntheticUser(n), at: hour * HOUR_MS + n });
          events.push({ event, at: (hour + 2) * HOUR_MS + 59 * 60_000 });
        }
      });
      await record(events, syntheticModel(now), 5);
      const rows = await second.eventCounts(hour - 1, hour + 3);
      expect(rows.map((row) => row.hour)).toEqual([hour, hour + 2]);
      const expected = new Map(NAMES.map((event, i) => [event, i + 1]));
      expect(rows[0]!.counts).toEqual(expected);
      expect(rows[1]!.counts).toEqual(expected);
      expect(await store.eventCounts(hour + 1, hour + 1)).toEqual([]);
      expect((await store.eventCounts(hour + 2, hour + 9)).map((row) => row.hour)).toEqual([
        hour + 2,
      ]);
    });

    it('answers a store without data with zeros', async () => {
      const today = dayOf(Date.now());
      expect(await store.eventCounts(hourOf(Date.now()) - 48, hourOf(Date.now()))).toEqual([]);
      expect(
        await store.activeUsers([
          { from: today - 6, to: today },
          { from: today, to: today },
        ]),
      ).toEqual([0, 0]);
      expect(await store.funnel(CHECKOUT, today - 6, today)).toEqual([0, 0, 0]);
      const week = weekOf(Date.now());
      expect(await store.cohorts(week, week - 1, 4)).toEqual([]);
      expect(await store.cohorts(week - 10, week, 4)).toEqual([]);
    });

    it('counts a few distinct users per day within one', async () => {
      const now = Date.now();
      const today = dayOf(now);
      const events: TrackedEvent[] = [];
      const sizes = [1, 7, 40];
      sizes.forEach((size, d) => {
        for (let i = 0; i < size; i++) {
          for (const n of [0, 1, 2]) {
            events.push({
              event: `e${n}`,
              user: syntheticUser(i),
              at: (today - 3 + d) * DAY_MS + n * HOUR_MS,
            });
          }
        }
      });
      await record(events, syntheticModel(now));
      const ranges = [0, 1, 2].map((d) => ({ from: today - 3 + d, to: today - 3 + d }));
      const counts = await second.activeUsers([...ranges, { from: today - 3, to: today - 1 }]);
      // A sketch may merge two users in one register; never more than that at these sizes.
      [1, 7, 40, 40].forEach((truth, i) => {
        expect(Math.abs(counts[i]! - truth), `${counts[i]} for ${truth}`).toBeLessThanOrEqual(1);
      });
    });

    it('estimates distinct users per day and over ranges of days within 2% at 50,000 users', async () => {
      const now = Date.now();
      const today = dayOf(now);
      const days = [
        [0, 50_000],
        [25_000, 75_000],
        [0, 10_000],
      ] as const;
      const events: TrackedEvent[] = [];
      days.forEach(([from, to], d) => {
        for (let i = from; i < to; i++) {
          events.push({
            event: 'visit',
            user: syntheticUser(i),
            at: (today - 3 + d) * DAY_MS + (i % 86_400) * 1_000,
          });
        }
      });
      // No cohort and no funnel: this test is about the sketches.
      const model = syntheticModel(now, { cohorts: { weeks: 4, startEvent: 'never' } });
      await record(events, model, 5_000);
      const d0 = today - 3;
      const ranges = [
        { from: d0, to: d0, truth: 50_000 },
        { from: d0 + 1, to: d0 + 1, truth: 50_000 },
        { from: d0 + 2, to: d0 + 2, truth: 10_000 },
        { from: d0, to: d0 + 1, truth: 75_000 },
        { from: d0 + 1, to: d0 + 2, truth: 60_000 },
        { from: d0, to: d0 + 2, truth: 75_000 },
        { from: d0 - 30, to: d0 + 40, truth: 75_000 },
      ];
      const estimates = await store.activeUsers(ranges);
      ranges.forEach((range, i) => {
        const error = Math.abs(estimates[i]! - range.truth) / range.truth;
        expect(
          error,
          `${range.from}..${range.to}: ${estimates[i]} for ${range.truth}`,
        ).toBeLessThan(0.02);
      });
    }, 120_000);

    it('counts funnels exactly: order, time limit, latest start, across midnight, over days', async () => {
      const now = Date.now();
      const { events, day, expected } = funnelScenario(now);
      const model = syntheticModel(now, { funnels: [CHECKOUT, PAYMENT] });
      await record(events, model);
      for (const funnel of [CHECKOUT, PAYMENT]) {
        const want = expected[funnel.name]!;
        expect(await second.funnel(funnel, day, day), funnel.name).toEqual(want.day);
        expect(await store.funnel(funnel, day + 1, day + 1), funnel.name).toEqual(want.next);
        expect(await store.funnel(funnel, day - 5, day + 1), funnel.name).toEqual(want.both);
        expect(await store.funnel(funnel, day + 2, day + 3), funnel.name).toEqual(
          funnel.steps.map(() => 0),
        );
      }
    });

    it('builds weekly cohorts of first-seen users exactly', async () => {
      const now = Date.now();
      const { events, firstWeek, expected } = cohortScenario(now);
      await record(events, syntheticModel(now));
      expect(await second.cohorts(firstWeek - 2, firstWeek + 3, 4)).toEqual(expected);
      expect(await store.cohorts(firstWeek + 1, firstWeek + 1, 4)).toEqual([expected[1]]);
    });

    it('builds cohorts from a start event and counts returns of a return event only', async () => {
      const now = Date.now();
      const { firstWeek } = cohortScenario(now);
      const at = (week: number, hours: number) =>
        Math.min(now, (week * 7 - 3) * DAY_MS + hours * HOUR_MS);
      const events: TrackedEvent[] = [];
      for (let i = 0; i < 30; i++) {
        const user = syntheticUser(i);
        events.push({ event: 'view', user, at: at(firstWeek, 1) });
        if (i < 20) events.push({ event: 'signup', user, at: at(firstWeek, 2) });
        if (i < 10) events.push({ event: 'purchase', user, at: at(firstWeek + 1, 3) });
        else if (i < 15) events.push({ event: 'view', user, at: at(firstWeek + 1, 3) });
        if (i >= 20) events.push({ event: 'signup', user, at: at(firstWeek + 1, 4) });
      }
      const model = syntheticModel(now, {
        cohorts: { weeks: 4, startEvent: 'signup', returnEvent: 'purchase' },
      });
      await record(events, model, 7);
      expect(await store.cohorts(firstWeek, firstWeek + 3, 4)).toEqual([
        { week: firstWeek, returned: [20, 10, 0, 0] },
        { week: firstWeek + 1, returned: [10, 0, 0, 0] },
      ]);
    });

    it('counts a batch written twice once, on any instance', async () => {
      const now = Date.now();
      const model = syntheticModel(now, { funnels: [CHECKOUT] });
      const events = ['view', 'cart', 'pay'].map((event, i) => ({
        event,
        user: syntheticUser(1),
        at: now - 1_000 + i,
      }));
      const batch = { id: randomUUID(), events, model };
      await store.record(batch);
      await second.record(batch);
      await store.record({ ...batch, events: [...events] });
      const rows = await store.eventCounts(hourOf(now) - 1, hourOf(now));
      const total = rows.reduce(
        (sum, row) => sum + [...row.counts.values()].reduce((a, b) => a + b, 0),
        0,
      );
      expect(total).toBe(3);
      expect(await store.funnel(CHECKOUT, dayOf(now - 1_000), dayOf(now))).toEqual([1, 1, 1]);
      expect(await store.cohorts(weekOf(now) - 4, weekOf(now), 4)).toEqual([
        expect.objectContaining({ returned: [1, 0, 0, 0] }),
      ]);
    });

    it('keeps nothing older than the retention, and nothing forever', async () => {
      const now = Date.now();
      const retentionMs = 2 * DAY_MS;
      const model = syntheticModel(now, { retentionMs, funnels: [CHECKOUT] });
      const old = now - 3 * DAY_MS;
      const events = ['view', 'cart', 'pay'].flatMap((event, i) => [
        { event, user: syntheticUser(7), at: old + i * 60_000 },
        { event, user: syntheticUser(8), at: now - HOUR_MS + i * 60_000 },
      ]);
      await record(events, model);
      expect(await store.eventCounts(hourOf(old) - 1, hourOf(old) + 1)).toEqual([]);
      expect(await store.activeUsers([{ from: dayOf(old), to: dayOf(old) }])).toEqual([0]);
      expect(await store.funnel(CHECKOUT, dayOf(old), dayOf(old))).toEqual([0, 0, 0]);
      expect(await store.funnel(CHECKOUT, dayOf(old), dayOf(now))).toEqual([1, 1, 1]);
      if (expiries !== undefined) {
        const left = await expiries();
        expect(left.length).toBeGreaterThan(0);
        // Counts, sketches and funnel sets: their bucket plus the retention; cohorts: 4 weeks.
        for (const ms of left) {
          expect(ms).toBeGreaterThan(0);
          expect(ms).toBeLessThanOrEqual(5 * 7 * DAY_MS);
        }
      }
    });
  });
}
