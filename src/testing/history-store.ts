import type { HistoryRetentionOptions, HistoryStore } from '../analytics/history/types.js';
import {
  durations,
  exact,
  expectedPercentiles,
  metricRollup,
  operationRollup,
  rollup,
} from './history-samples.js';
import type { TestApi } from './test-api.js';

export { operationRollup };

/** A store under test, with a second view of the same state when the store is shared. */
export interface HistoryStoreUnderTest {
  store: HistoryStore;
  /**
   * A second store on the same state, as another process of the deployment opens it (its own
   * connection, the same prefix or table). Without one (a store of one process) `store` is used twice.
   */
  second?: HistoryStore;
  /** Removes what the test left (keys, tables); runs after the suite's own calls, `close()` included. */
  cleanup(): unknown;
}

/** What a conformance run asks of the store it creates. */
export interface HistoryStoreHarnessOptions {
  retention?: HistoryRetentionOptions;
  maxPoints?: number;
}

/** How a conformance run builds the store under test. */
export interface HistoryStoreHarness {
  /** A fresh store with these options, isolated from every other test: its own prefix or table. */
  create(
    options: HistoryStoreHarnessOptions,
  ): HistoryStoreUnderTest | Promise<HistoryStoreUnderTest>;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
/**
 * The contract every `HistoryStore` passes: per-minute rollups answered as one point per step
 * with counts, rates and percentiles from the merged buckets of every minute, label set and
 * instance in the step (equal to the histogram of all their samples, so within 1 % of the exact
 * percentile, never an average of percentiles), a rollup counted once however often it is
 * written, minutes merged into hours exactly, retention of minutes then hours, figures with their
 * sum, mean, min and max, and queries refused with a `HistoryQueryError` naming the parameter.
 * Timestamps are real ones (the last hours), so stores whose keys expire on the server keep them.
 * The package's memory, Redis and PostgreSQL stores run it.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeHistoryStore } from '@revcopy/enterprise/testing';
 *
 * describeHistoryStore('clickhouse', vitest, {
 *   create: (options) => {
 *     const store = new ClickHouseHistoryStore({ url, table: `h_${Date.now()}`, ...options });
 *     return { store, cleanup: () => store.drop() };
 *   },
 * });
 * ```
 */
export function describeHistoryStore(
  name: string,
  api: TestApi,
  harness: HistoryStoreHarness,
): void {
  const { describe, it, expect, afterEach } = api;
  describe(`HistoryStore conformance: ${name}`, () => {
    let cleanups: (() => unknown)[] = [];
    /** The current minute when the test opened its store: the times of one test never move. */
    let base = 0;
    const open = async (options: HistoryStoreHarnessOptions = {}) => {
      base = Math.floor(Date.now() / MINUTE) * MINUTE;
      const created = await harness.create(options);
      cleanups.push(async () => {
        await created.store.close();
        await created.second?.close();
        await created.cleanup();
      });
      return { store: created.store, second: created.second ?? created.store };
    };
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
      cleanups = [];
    });
    /** The start of the minute `n` minutes before the test's current one. */
    const minutesAgo = (n: number) => base - n * MINUTE;
    const refusal = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      return error as { code: string; context: { parameter: string } };
    };

    it('answers one point per step with counts, errors, rate, mean and percentiles', async () => {
      const { store } = await open();
      const first = durations(200, 20, 1);
      const second = durations(50, 80, 2);
      const labels = { route: '/users', method: 'GET' };
      await store.write(
        rollup('w1:a', minutesAgo(10), [operationRollup('http', labels, first, 4)]),
      );
      await store.write(rollup('w1:b', minutesAgo(9), [operationRollup('http', labels, second)]));
      const series = await store.query({
        operation: 'http',
        from: minutesAgo(10),
        to: minutesAgo(8),
        step: 60,
      });
      expect(series).toMatchObject({
        operation: 'http',
        resolution: 'minute',
        stepMs: MINUTE,
        from: minutesAgo(10),
        to: minutesAgo(8),
        labelSets: 1,
      });
      expect(series.points).toHaveLength(2);
      const [a, b] = series.points;
      expect(a).toMatchObject({
        at: minutesAgo(10),
        count: 200,
        errors: 4,
        errorRate: 0.02,
        rate: 200 / 60,
        ...expectedPercentiles(first),
      });
      expect(a!.meanMs).toBeCloseTo(first.reduce((x, y) => x + y, 0) / 200, 6);
      expect(b).toMatchObject({ at: minutesAgo(9), count: 50, ...expectedPercentiles(second) });
    });

    it('merges the buckets of minutes and instances: percentiles are those of all samples', async () => {
      const { store, second } = await open();
      const all: number[] = [];
      for (let m = 0; m < 5; m++) {
        // Two instances with different latencies, every minute.
        const fast = durations(300, 5 + m, 10 + m);
        const slow = durations(30, 250, 20 + m);
        all.push(...fast, ...slow);
        const at = minutesAgo(20 - m);
        await store.write(rollup(`fast:${m}`, at, [operationRollup('db', {}, fast)]));
        await second.write(rollup(`slow:${m}`, at, [operationRollup('db', {}, slow)]));
      }
      const series = await store.query({
        operation: 'db',
        from: minutesAgo(20),
        to: minutesAgo(15),
        step: '5m',
      });
      expect(series.points).toHaveLength(1);
      const point = series.points[0]!;
      expect(point.count).toBe(all.length);
      expect(point).toMatchObject(expectedPercentiles(all));
      for (const [key, p] of [
        ['p50', 50],
        ['p90', 90],
        ['p99', 99],
        ['p999', 99.9],
      ] as const) {
        const truth = exact(all, p);
        expect(Math.abs(point[key]! - truth)).toBeLessThanOrEqual(truth * 0.01 + 0.001);
      }
    });

    it('counts a rollup once however often it is written, by any instance', async () => {
      const { store, second } = await open();
      const written = rollup('w:once', minutesAgo(5), [operationRollup('op', {}, [1, 2, 3])]);
      await store.write(written);
      await store.write(written);
      await second.write(written);
      const series = await second.query({
        operation: 'op',
        from: minutesAgo(5),
        to: minutesAgo(4),
        step: 60,
      });
      expect(series.points[0]!.count).toBe(3);
      const hours = await store.query({
        operation: 'op',
        from: minutesAgo(5),
        to: minutesAgo(4),
        step: '1h',
      });
      expect(hours.points.reduce((sum, p) => sum + p.count, 0)).toBe(3);
    });

    it('merges the label sets that have the labels asked for, and only those', async () => {
      const { store } = await open();
      const at = minutesAgo(3);
      await store.write(
        rollup('w:labels', at, [
          operationRollup('http', { route: '/a', status: '2xx' }, [1, 1]),
          operationRollup('http', { route: '/a', status: '5xx' }, [9], 1),
          operationRollup('http', { route: '/b', status: '2xx' }, [4, 4, 4]),
        ]),
      );
      const query = { operation: 'http', from: at, to: at + MINUTE, step: 60 };
      const all = await store.query(query);
      expect(all).toMatchObject({ labelSets: 3, labels: {} });
      expect(all.points[0]).toMatchObject({ count: 6, errors: 1 });
      const routeA = await store.query({ ...query, labels: { route: '/a' } });
      expect(routeA).toMatchObject({ labelSets: 2, labels: { route: '/a' } });
      expect(routeA.points[0]).toMatchObject({ count: 3, errors: 1 });
      const one = await store.query({ ...query, labels: { route: '/b', status: '2xx' } });
      expect(one.points[0]).toMatchObject({ count: 3, p50: expectedPercentiles([4]).p50 });
    });

    it('answers every step of the range, empty ones with nulls', async () => {
      const { store } = await open();
      await store.write(rollup('w:gap', minutesAgo(6), [operationRollup('op', {}, [2])]));
      const series = await store.query({
        operation: 'op',
        from: minutesAgo(8),
        to: minutesAgo(4),
        step: 60,
      });
      expect(series.points.map((p) => p.at)).toEqual([8, 7, 6, 5].map(minutesAgo));
      expect(series.points.map((p) => p.count)).toEqual([0, 0, 1, 0]);
      expect(series.points[0]).toEqual({
        at: minutesAgo(8),
        count: 0,
        errors: 0,
        errorRate: 0,
        slow: 0,
        rate: 0,
        meanMs: null,
        p50: null,
        p90: null,
        p95: null,
        p99: null,
        p999: null,
        maxMs: null,
      });
    });

    it('refuses bad queries with a HistoryQueryError naming the parameter', async () => {
      const { store } = await open({ maxPoints: 500 });
      await store.write(
        rollup(
          'w:bad',
          minutesAgo(2),
          [operationRollup('op', { route: '/a' }, [1])],
          [metricRollup('queue.depth', {}, [1])],
        ),
      );
      const base = { operation: 'op', from: minutesAgo(30), to: minutesAgo(0), step: 60 };
      const cases: [Record<string, unknown>, string][] = [
        [{ from: 'yesterday' }, 'from'],
        [{ from: Number.NaN }, 'from'],
        [{ to: minutesAgo(40) }, 'to'],
        [{ to: minutesAgo(30) }, 'to'],
        [{ step: '30s' }, 'step'],
        [{ step: 'often' }, 'step'],
        [{ step: 90 }, 'step'],
        // 24 hours of minutes: more points than allowed.
        [{ from: minutesAgo(1440) }, 'step'],
        [{ operation: 'nope' }, 'operation'],
        [{ operation: '' }, 'operation'],
        [{ labels: { route: '/z' } }, 'labels'],
        [{ labels: 'route=/a' }, 'labels'],
      ];
      for (const [change, parameter] of cases) {
        const error = await refusal(store.query({ ...base, ...change } as never));
        expect({ change, code: error.code, parameter: error.context?.parameter }).toEqual({
          change,
          code: 'E_HISTORY_QUERY',
          parameter,
        });
      }
      const metric = await refusal(store.queryMetric({ ...base, metric: 'op' } as never));
      expect(metric.context.parameter).toBe('metric');
    });

    it('answers figures: samples, sum, mean, min and max per step', async () => {
      const { store, second } = await open();
      const labels = { queue: 'emails' };
      await store.write(
        rollup('a:1', minutesAgo(4), [], [metricRollup('tasks.waiting', labels, [3, 5, 10])]),
      );
      await second.write(
        rollup('b:1', minutesAgo(3), [], [metricRollup('tasks.waiting', labels, [1, 2])]),
      );
      await store.write(
        rollup('a:2', minutesAgo(2), [], [metricRollup('tasks.waiting', labels, [7])]),
      );
      const series = await store.queryMetric({
        metric: 'tasks.waiting',
        labels,
        from: minutesAgo(4),
        to: minutesAgo(0),
        step: '2m',
      });
      expect(series).toMatchObject({ metric: 'tasks.waiting', labelSets: 1, stepMs: 2 * MINUTE });
      expect(series.points).toEqual([
        { at: minutesAgo(4), samples: 5, sum: 21, mean: 21 / 5, min: 1, max: 10 },
        { at: minutesAgo(2), samples: 1, sum: 7, mean: 7, min: 7, max: 7 },
      ]);
    });

    it('merges minutes into hours exactly', async () => {
      const { store, second } = await open();
      const hour = Math.floor(base / HOUR) * HOUR - HOUR;
      const all: number[] = [];
      let errors = 0;
      for (const minute of [0, 1, 17, 30, 59]) {
        const samples = durations(40, 3 + minute, 100 + minute);
        all.push(...samples);
        errors += minute % 2;
        await (minute % 2 === 0 ? store : second).write(
          rollup(`h:${minute}`, hour + minute * MINUTE, [
            operationRollup('job', { queue: 'q' }, samples, minute % 2),
          ]),
        );
      }
      const hours = await store.query({
        operation: 'job',
        from: hour,
        to: hour + HOUR,
        step: '1h',
      });
      expect(hours.resolution).toBe('hour');
      expect(hours.points).toHaveLength(1);
      expect(hours.points[0]).toMatchObject({
        count: all.length,
        errors,
        ...expectedPercentiles(all),
      });
      // The same hour read from its minutes, in two halves.
      const halves = await store.query({
        operation: 'job',
        from: hour,
        to: hour + HOUR,
        step: '30m',
      });
      expect(halves.resolution).toBe('minute');
      expect(halves.points.map((p) => p.count)).toEqual([120, 80]);
      expect(halves.points[0]).toMatchObject(expectedPercentiles(all.slice(0, 120)));
      expect(halves.points[1]).toMatchObject(expectedPercentiles(all.slice(120)));
    });

    it('keeps minutes for their retention, then only hours, then nothing', async () => {
      const { store } = await open({ retention: { minutes: '2h', hours: '1d' } });
      const recent = minutesAgo(30);
      const older = minutesAgo(4 * 60);
      const oldest = minutesAgo(30 * 60);
      await store.write(rollup('r:1', recent, [operationRollup('op', {}, [1])]));
      await store.write(rollup('r:2', older, [operationRollup('op', {}, [1, 1])]));
      await store.write(rollup('r:3', oldest, [operationRollup('op', {}, [1, 1, 1])]));
      await store.prune();
      const minutes = await store.query({
        operation: 'op',
        from: minutesAgo(60),
        to: minutesAgo(0),
        step: 60,
      });
      expect(minutes.points.reduce((sum, p) => sum + p.count, 0)).toBe(1);
      // Minutes are no longer kept that far back: only whole hours answer.
      const refused = await refusal(
        store.query({ operation: 'op', from: minutesAgo(5 * 60), to: minutesAgo(0), step: 60 }),
      );
      expect(refused.context.parameter).toBe('step');
      const hours = await store.query({
        operation: 'op',
        from: minutesAgo(2 * 24 * 60),
        to: minutesAgo(0),
        step: '1h',
      });
      const counts = hours.points.filter((p) => p.count > 0);
      expect(counts.map((p) => [p.at, p.count])).toEqual([
        [Math.floor(older / HOUR) * HOUR, 2],
        [Math.floor(recent / HOUR) * HOUR, 1],
      ]);
    });

    it('lists the operations and figures it holds, one entry per label set', async () => {
      const { store, second } = await open();
      await store.write(
        rollup(
          'l:1',
          minutesAgo(1),
          [
            operationRollup('http', { route: '/a' }, [1]),
            operationRollup('http', { route: '/b' }, [1]),
          ],
          [metricRollup('system.memory.rss', {}, [1e8])],
        ),
      );
      const sort = (list: { kind: string; name: string; labels: object }[]) =>
        [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      expect(sort(await second.series())).toEqual(
        sort([
          { kind: 'operation', name: 'http', labels: { route: '/a' } },
          { kind: 'operation', name: 'http', labels: { route: '/b' } },
          { kind: 'metric', name: 'system.memory.rss', labels: {} },
        ]),
      );
    });

    it('refuses a rollup that is not one before writing anything', async () => {
      const { store } = await open();
      const good = operationRollup('op', {}, [1]);
      const bad = [
        rollup('x:1', minutesAgo(1) + 1, [good]),
        rollup('', minutesAgo(1), [good]),
        rollup('x:2', minutesAgo(1), [good, { ...good, count: -1, labels: { a: '1' } }]),
        rollup('x:3', minutesAgo(1), [{ ...good, histogram: { indexes: [5, 2], counts: [1, 1] } }]),
        rollup('x:4', minutesAgo(1), [good, good]),
      ];
      for (const written of bad) {
        const error = await refusal(store.write(written));
        expect(error.code).toBe('E_INVALID_ARGUMENT');
      }
      const error = await refusal(
        store.query({ operation: 'op', from: minutesAgo(2), to: minutesAgo(0), step: 60 }),
      );
      expect(error.context.parameter).toBe('operation');
    });

    it('closes idempotently', async () => {
      const { store } = await open();
      await store.close();
      await store.close();
    });
  });
}
