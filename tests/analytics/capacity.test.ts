// Capacity forecasts on synthetic series whose crossing time is known: Holt's linear trend must
// find the slope, put the crossing within tolerance, and bracket it with its prediction interval.
import { describe, expect, it } from 'vitest';
import {
  CapacityConfigError,
  CapacityPlanner,
  CapacityQueryError,
  crossing,
  fitHolt,
  holtPoint,
  normalQuantile,
} from '../../src/analytics/capacity/index.js';
import { MemoryHistoryStore } from '../../src/analytics/history/memory-store.js';
import { gauge, MINUTE, random } from './reports/helpers.js';

/** Writes `values[i]` as the gauge `metric` of minute i, the last one ending at the last whole minute. */
async function series(
  metric: string,
  values: readonly number[],
  labels: Record<string, string> = {},
) {
  const store = new MemoryHistoryStore();
  const to = Math.floor(Date.now() / MINUTE) * MINUTE;
  const from = to - values.length * MINUTE;
  for (const [i, value] of values.entries()) {
    await store.write({
      id: `t:${i}`,
      at: from + i * MINUTE,
      operations: [],
      metrics: [gauge(metric, value, labels)],
    });
  }
  return { store, from, to };
}

describe("Holt's linear trend", () => {
  it('finds the slope of a noisy line and widens its interval with the horizon', () => {
    const next = random(7);
    const values = Array.from({ length: 200 }, (_, t) => 100 + 2 * t + (next() - 0.5) * 4);
    const model = fitHolt(values);
    expect(model.trend).toBeGreaterThan(1.9);
    expect(model.trend).toBeLessThan(2.1);
    const near = holtPoint(model, 1, 0.95);
    const far = holtPoint(model, 100, 0.95);
    expect(near.mean).toBeCloseTo(100 + 2 * 200, -1);
    expect(far.upper - far.lower).toBeGreaterThan(near.upper - near.lower);
    expect(far.lower).toBeLessThan(far.mean);
  });

  it('has the normal quantiles of the usual intervals', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.8)).toBeCloseTo(1.281552, 5);
    expect(normalQuantile(0.99)).toBeCloseTo(2.575829, 5);
  });

  it('puts the crossing of a known line where it is, the bounds on either side', () => {
    const next = random(3);
    const values = Array.from({ length: 100 }, (_, t) => 10 + t + (next() - 0.5) * 2);
    const model = fitHolt(values);
    // The line reaches 300 at t = 290, i.e. 191 steps after the last observation (t = 99).
    const expected = crossing(model, 300, 10_000, 0.95, (p) => p.mean)!;
    const earliest = crossing(model, 300, 10_000, 0.95, (p) => p.upper)!;
    // The lower bound may never get there: the trend's own uncertainty grows faster than the trend.
    const latest = crossing(model, 300, 10_000, 0.95, (p) => p.lower);
    expect(Math.abs(expected - 191)).toBeLessThan(191 * 0.05);
    expect(earliest).toBeLessThan(expected);
    expect(latest === null || latest > expected).toBe(true);
  });
});

describe('CapacityPlanner', () => {
  it('forecasts when a growing heap reaches its limit, from the metrics history', async () => {
    // 6 hours of a heap growing 1 MB a minute with noise; the limit is reached 10 hours later.
    const next = random(11);
    const minutes = 360;
    const values = Array.from(
      { length: minutes },
      (_, i) => 300e6 + 1e6 * i + (next() - 0.5) * 2e6,
    );
    const { store, to } = await series('system.memory.heap_used', values);
    const limit = 300e6 + 1e6 * (minutes - 1 + 600);
    const planner = new CapacityPlanner({
      history: store,
      limits: [{ metric: 'system.memory.heap_used', limit, unit: 'bytes', name: 'heap' }],
      lookback: '6h',
      horizon: '7d',
    });
    const report = await planner.forecast({ at: to });
    expect(report.model).toBe('holt-linear');
    const [heap] = report.resources;
    // Within a day: critical.
    expect(heap).toMatchObject({ name: 'heap', status: 'critical', limit });
    // The last observed minute is centred at to - 30 s; the limit comes 600 minutes after it.
    const truth = to - 30_000 + 600 * MINUTE;
    const reaches = Date.parse(heap!.reachesAt!);
    expect(Math.abs(reaches - truth)).toBeLessThan(600 * MINUTE * 0.1);
    expect(Date.parse(heap!.earliestAt!)).toBeLessThanOrEqual(reaches);
    expect(heap!.latestAt === null || Date.parse(heap!.latestAt) >= reaches).toBe(true);
    expect(heap!.trendPerHour! / 60e6).toBeGreaterThan(0.9);
    expect(heap!.trendPerHour! / 60e6).toBeLessThan(1.1);
    expect(heap!.forecast.length).toBeGreaterThan(0);
  });

  it('says ok for a flat series, exceeded above the limit, and insufficient data without history', async () => {
    const next = random(5);
    const flat = Array.from({ length: 120 }, () => 50 + (next() - 0.5) * 2);
    const { store, to } = await series('tasks.queue.waiting', flat, { queue: 'emails' });
    const planner = new CapacityPlanner({
      history: store,
      limits: [
        { metric: 'tasks.queue.waiting', limit: 1_000 },
        { metric: 'tasks.queue.waiting', limit: 10, name: 'tight' },
        { metric: 'system.memory.rss', limit: 1e9 },
      ],
      lookback: '2h',
      horizon: '1d',
    });
    const { resources } = await planner.forecast({ at: to });
    expect(resources.map((r) => [r.name, r.labels, r.status])).toEqual([
      ['tasks.queue.waiting', { queue: 'emails' }, 'ok'],
      ['tight', { queue: 'emails' }, 'exceeded'],
      ['system.memory.rss', {}, 'insufficient-data'],
    ]);
    expect(resources[0]!.reachesAt).toBeNull();
    expect(resources[1]!.reachesAt).not.toBeNull();
  });

  it('names a bad option or parameter', async () => {
    expect(
      () =>
        new CapacityPlanner({ history: undefined as never, limits: [{ metric: 'm', limit: -1 }] }),
    ).toThrow(
      expect.objectContaining({
        code: 'E_CAPACITY_CONFIG',
        context: expect.objectContaining({ field: 'limits[0].limit' }),
      }),
    );
    expect(
      () => new CapacityPlanner({ history: () => undefined, limits: [], lookback: 'soon' as '1h' }),
    ).toThrow(CapacityConfigError);
    const planner = new CapacityPlanner({ history: () => undefined, limits: [] });
    await expect(planner.forecast({ lookback: 'x' as '1h' })).rejects.toMatchObject({
      context: { parameter: 'lookback' },
    });
    await expect(planner.forecast({ confidence: 2 })).rejects.toBeInstanceOf(CapacityQueryError);
    await expect(planner.forecast({ at: 'yesterday' })).rejects.toMatchObject({
      context: { parameter: 'at' },
    });
  });
});
