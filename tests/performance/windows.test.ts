import { describe, expect, it } from 'vitest';
import type { PerformanceMonitor, WindowName, WindowStats } from '../../src/index.js';
import {
  callFor,
  EPOCH,
  exactPercentile,
  type FakeClock,
  failsAfter,
  setup,
  takes,
} from './helpers.js';

const MINUTE = 60_000;
const WINDOWS: WindowName[] = ['1m', '5m', '15m', 'all'];

function windows(monitor: PerformanceMonitor, name: string): Record<WindowName, WindowStats> {
  const stats = monitor.getStats(name);
  if (stats === undefined) throw new Error(`no statistics for ${name}`);
  return stats.windows;
}

function counts(monitor: PerformanceMonitor, name: string): Record<WindowName, number> {
  const w = windows(monitor, name);
  return { '1m': w['1m'].count, '5m': w['5m'].count, '15m': w['15m'].count, all: w.all.count };
}

function calls(monitor: PerformanceMonitor, clock: FakeClock, name: string, n: number, ms = 1) {
  for (let i = 0; i < n; i++) callFor(monitor, clock, name, ms);
}

/** The windows must behave the same whatever the phase of the clock against the 10-second slots. */
describe.each([0, 4_999, 9_999.5, 59_999, 1_234_567.25])(
  'rolling windows, clock starting at %d ms',
  (start) => {
    it('calls recorded now appear in 1m, 5m, 15m and all', () => {
      const { monitor, clock } = setup({}, start);
      calls(monitor, clock, 'op', 5);
      expect(counts(monitor, 'op')).toEqual({ '1m': 5, '5m': 5, '15m': 5, all: 5 });
    });

    it('calls under a minute old are in 1m; 70 seconds later they have left it', () => {
      const { monitor, clock } = setup({}, start);
      calls(monitor, clock, 'op', 3);
      clock.advance(59_000);
      expect(counts(monitor, 'op')['1m']).toBe(3);
      clock.advance(11_000);
      expect(counts(monitor, 'op')).toEqual({ '1m': 0, '5m': 3, '15m': 3, all: 3 });
    });

    it('after 2 minutes the calls are gone from 1m but present in 5m, 15m and all', () => {
      const { monitor, clock } = setup({}, start);
      calls(monitor, clock, 'op', 4);
      clock.advance(2 * MINUTE);
      expect(counts(monitor, 'op')).toEqual({ '1m': 0, '5m': 4, '15m': 4, all: 4 });
    });

    it('calls under 5 minutes old are in 5m; after 6 minutes they are gone from it', () => {
      const { monitor, clock } = setup({}, start);
      calls(monitor, clock, 'op', 4);
      clock.advance(4 * MINUTE + 59_000);
      expect(counts(monitor, 'op')['5m']).toBe(4);
      clock.advance(MINUTE + 1_000);
      expect(counts(monitor, 'op')).toEqual({ '1m': 0, '5m': 0, '15m': 4, all: 4 });
    });

    it('calls under 15 minutes old are in 15m; after 16 minutes they are only in all', () => {
      const { monitor, clock } = setup({}, start);
      calls(monitor, clock, 'op', 4);
      clock.advance(14 * MINUTE + 59_000);
      expect(counts(monitor, 'op')['15m']).toBe(4);
      clock.advance(MINUTE + 1_000);
      expect(counts(monitor, 'op')).toEqual({ '1m': 0, '5m': 0, '15m': 0, all: 4 });
    });

    it('each window keeps exactly its recent calls while traffic is continuous', () => {
      const { monitor, clock } = setup({}, start);
      // One call every second for 20 minutes; then every window holds about its length of calls.
      for (let second = 0; second < 20 * 60; second++) {
        callFor(monitor, clock, 'op', 1);
        clock.advance(999);
      }
      const w = windows(monitor, 'op');
      expect(w.all.count).toBe(1_200);
      // A window covers its nominal length plus the elapsed part of its current slot or minute.
      expect(w['1m'].count).toBeGreaterThanOrEqual(60);
      expect(w['1m'].count).toBeLessThanOrEqual(70);
      expect(w['5m'].count).toBeGreaterThanOrEqual(300);
      expect(w['5m'].count).toBeLessThanOrEqual(360);
      expect(w['15m'].count).toBeGreaterThanOrEqual(900);
      expect(w['15m'].count).toBeLessThanOrEqual(960);
      for (const window of WINDOWS) {
        // One call per second, so the throughput is 1 whatever the exact coverage.
        expect(w[window].throughput, window).toBeCloseTo(1, 1);
        expect(w[window].count / w[window].coveredSeconds, window).toBeCloseTo(1, 1);
      }
    });

    it('coveredSeconds is the age of the operation while young, then bounded by the window', () => {
      const { monitor, clock } = setup({}, start);
      callFor(monitor, clock, 'op', 1);
      clock.advance(29_999);
      for (const window of WINDOWS) {
        expect(windows(monitor, 'op')[window].coveredSeconds, window).toBeCloseTo(30, 9);
      }
      clock.advance(90_000); // 2 minutes old
      let w = windows(monitor, 'op');
      expect(w['1m'].coveredSeconds).toBeGreaterThanOrEqual(60);
      expect(w['1m'].coveredSeconds).toBeLessThan(70);
      expect(w['5m'].coveredSeconds).toBeCloseTo(120, 9);
      expect(w['15m'].coveredSeconds).toBeCloseTo(120, 9);
      expect(w.all.coveredSeconds).toBeCloseTo(120, 9);

      clock.advance(18 * MINUTE); // 20 minutes old
      w = windows(monitor, 'op');
      expect(w['1m'].coveredSeconds).toBeGreaterThanOrEqual(60);
      expect(w['1m'].coveredSeconds).toBeLessThan(70);
      expect(w['5m'].coveredSeconds).toBeGreaterThanOrEqual(300);
      expect(w['5m'].coveredSeconds).toBeLessThan(360);
      expect(w['15m'].coveredSeconds).toBeGreaterThanOrEqual(900);
      expect(w['15m'].coveredSeconds).toBeLessThan(960);
      expect(w.all.coveredSeconds).toBeCloseTo(1_200, 9);
    });

    it('coveredSeconds grows with age, never exceeds it, and stays within the window bound', () => {
      const { monitor, clock } = setup({}, start);
      callFor(monitor, clock, 'op', 1);
      let previousAll = 0;
      for (let elapsed = 0; elapsed < 20 * MINUTE; elapsed += 7_000) {
        clock.advance(7_000);
        const w = windows(monitor, 'op');
        const age = w.all.coveredSeconds;
        expect(age).toBeGreaterThan(previousAll);
        previousAll = age;
        // A window covers its nominal length plus at most one slot (10 s) or minute.
        for (const [window, nominal, bound] of [
          ['1m', 60, 70],
          ['5m', 300, 360],
          ['15m', 900, 960],
        ] as const) {
          const covered = w[window].coveredSeconds;
          expect(covered).toBeLessThanOrEqual(age + 1e-9);
          expect(covered).toBeLessThan(bound);
          if (age < nominal) expect(covered).toBeCloseTo(age, 9);
          else expect(covered).toBeGreaterThanOrEqual(nominal);
        }
      }
    });
  },
);

describe('window statistics', () => {
  it('min, max and mean are exact, not bucketed', () => {
    const { monitor, clock } = setup();
    for (const ms of [1.5, 2.25, 7.125, 1_000.0625]) callFor(monitor, clock, 'op', ms);
    for (const window of WINDOWS) {
      const w = windows(monitor, 'op')[window];
      expect(w.min).toBe(1.5);
      expect(w.max).toBe(1_000.0625);
      expect(w.mean).toBe((1.5 + 2.25 + 7.125 + 1_000.0625) / 4);
      expect(w.totalMs).toBe(1.5 + 2.25 + 7.125 + 1_000.0625);
    }
  });

  it('percentiles are within 1% of the exact values and ordered', () => {
    const { monitor, clock } = setup();
    const durations: number[] = [];
    let seed = 17;
    for (let i = 0; i < 3_000; i++) {
      seed = (seed * 48_271) % 2_147_483_647;
      const ms = 0.2 + (seed / 2_147_483_647) ** 4 * 800; // heavily skewed towards fast calls
      durations.push(ms);
      callFor(monitor, clock, 'op', ms);
    }
    const sorted = [...durations].sort((a, b) => a - b);
    const w = windows(monitor, 'op').all;
    const pairs = [
      [w.p50, 50],
      [w.p95, 95],
      [w.p99, 99],
      [w.p999, 99.9],
    ] as const;
    for (const [value, p] of pairs) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(value! - exact), `p${p}`).toBeLessThanOrEqual(exact * 0.01 + 0.001);
    }
    expect(w.p50!).toBeLessThanOrEqual(w.p95!);
    expect(w.p95!).toBeLessThanOrEqual(w.p99!);
    expect(w.p99!).toBeLessThanOrEqual(w.p999!);
  });

  it('percentiles are clamped between the exact min and max', () => {
    const { monitor, clock } = setup();
    // A bucket's highest value is above 1.234 ms, and sub-microsecond durations fall in bucket 0:
    // unclamped, the percentiles would be outside the range of what was recorded.
    callFor(monitor, clock, 'one', 1.234);
    const one = windows(monitor, 'one').all;
    expect([one.p50, one.p95, one.p99, one.p999]).toEqual([1.234, 1.234, 1.234, 1.234]);

    for (let i = 0; i < 10; i++) callFor(monitor, clock, 'tiny', 0.0004);
    const tiny = windows(monitor, 'tiny').all;
    for (const p of [tiny.p50, tiny.p95, tiny.p99, tiny.p999]) {
      expect(p).toBeGreaterThanOrEqual(tiny.min!);
      expect(p).toBeLessThanOrEqual(tiny.max!);
    }

    for (let i = 0; i < 50; i++) callFor(monitor, clock, 'many', 123.456 + (i % 5) * 0.001);
    const many = windows(monitor, 'many').all;
    for (const p of [many.p50, many.p95, many.p99, many.p999]) {
      expect(p).toBeGreaterThanOrEqual(many.min!);
      expect(p).toBeLessThanOrEqual(many.max!);
    }
  });

  it('an empty window has zero counts and null latency figures', () => {
    const { monitor, clock } = setup();
    callFor(monitor, clock, 'op', 3);
    clock.advance(2 * MINUTE);
    expect(windows(monitor, 'op')['1m']).toEqual({
      count: 0,
      errors: 0,
      errorRate: 0,
      slow: 0,
      min: null,
      max: null,
      mean: null,
      p50: null,
      p95: null,
      p99: null,
      p999: null,
      totalMs: 0,
      throughput: 0,
      coveredSeconds: expect.any(Number),
    });
  });

  it('percentiles of the 1m window follow a change of latency instead of freezing', () => {
    const { monitor, clock } = setup();
    calls(monitor, clock, 'op', 200, 10);
    clock.advance(2 * MINUTE);
    calls(monitor, clock, 'op', 200, 100);
    const w = windows(monitor, 'op');
    expect(w['1m'].min).toBe(100);
    expect(w['1m'].p50).toBeCloseTo(100, 0);
    expect(w['1m'].p99).toBeCloseTo(100, 0);
    // The longer windows still hold both regimes.
    expect(w['5m'].p50).toBeCloseTo(10, 0);
    expect(w['5m'].p95).toBeCloseTo(100, 0);
    expect(w.all.p50).toBeCloseTo(10, 0);

    // A burst of slow calls leaves the 1m p99 once it is over a minute old.
    calls(monitor, clock, 'op', 20, 5_000);
    expect(windows(monitor, 'op')['1m'].p99).toBeGreaterThan(4_900);
    clock.advance(2 * MINUTE);
    calls(monitor, clock, 'op', 1_000, 5);
    expect(windows(monitor, 'op')['1m'].p99).toBeCloseTo(5, 1);
    expect(windows(monitor, 'op')['1m'].max).toBe(5);
    expect(windows(monitor, 'op').all.max).toBe(5_000);
  });

  it('throughput is count / coveredSeconds in every window', () => {
    const { monitor, clock } = setup();
    // 60 calls, one per second, then read at 60 s of age: 1 call per second.
    for (let i = 0; i < 60; i++) {
      callFor(monitor, clock, 'op', 1);
      clock.advance(999);
    }
    const w = windows(monitor, 'op');
    for (const window of WINDOWS) {
      expect(w[window].coveredSeconds).toBeCloseTo(60, 9);
      expect(w[window].throughput).toBeCloseTo(1, 9);
    }
    clock.advance(10 * MINUTE);
    calls(monitor, clock, 'op', 30);
    const later = windows(monitor, 'op');
    for (const window of WINDOWS) {
      const { count, coveredSeconds, throughput } = later[window];
      expect(throughput).toBeCloseTo(count / coveredSeconds, 12);
    }
    expect(later.all.throughput).toBeCloseTo(90 / later.all.coveredSeconds, 12);
  });

  it('after 20 idle minutes, new calls make fresh windows (old ones are only in all)', () => {
    const { monitor, clock } = setup();
    calls(monitor, clock, 'op', 10, 5);
    clock.advance(20 * MINUTE);
    expect(counts(monitor, 'op')).toEqual({ '1m': 0, '5m': 0, '15m': 0, all: 10 });
    calls(monitor, clock, 'op', 3, 50);
    const w = windows(monitor, 'op');
    for (const window of ['1m', '5m', '15m'] as const) {
      expect(w[window]).toMatchObject({ count: 3, min: 50, max: 50, mean: 50, p50: 50, p99: 50 });
    }
    expect(w.all).toMatchObject({ count: 13, min: 5, max: 50 });
    expect(w['1m'].coveredSeconds).toBeGreaterThanOrEqual(60);
    expect(w['1m'].coveredSeconds).toBeLessThan(70);
    expect(w['1m'].throughput).toBeCloseTo(3 / w['1m'].coveredSeconds, 12);
  });

  it('errorRate is errors / count per window', () => {
    const { monitor, clock } = setup();
    for (let i = 0; i < 12; i++) {
      if (i % 4 === 0) {
        expect(() => monitor.context('op', failsAfter(clock, 2, new Error('nope')))).toThrow();
      } else {
        callFor(monitor, clock, 'op', 2);
      }
    }
    let w = windows(monitor, 'op');
    for (const window of WINDOWS) expect(w[window]).toMatchObject({ errors: 3, errorRate: 0.25 });
    clock.advance(2 * MINUTE);
    calls(monitor, clock, 'op', 4, 2);
    w = windows(monitor, 'op');
    expect(w['1m']).toMatchObject({ count: 4, errors: 0, errorRate: 0 });
    expect(w['5m']).toMatchObject({ count: 16, errors: 3, errorRate: 3 / 16 });
    expect(w.all).toMatchObject({ count: 16, errors: 3, errorRate: 3 / 16 });
  });

  it('slow calls are counted per window', () => {
    const { monitor, clock } = setup({ performance: { alertThresholdMs: 10 } });
    calls(monitor, clock, 'op', 3, 20);
    calls(monitor, clock, 'op', 5, 5);
    expect(windows(monitor, 'op')['1m'].slow).toBe(3);
    clock.advance(2 * MINUTE);
    calls(monitor, clock, 'op', 1, 11);
    const w = windows(monitor, 'op');
    expect([w['1m'].slow, w['5m'].slow, w['15m'].slow, w.all.slow]).toEqual([1, 4, 4, 4]);
  });

  it('lastCallAt is the wall-clock time the last call finished', () => {
    const { monitor, clock } = setup();
    clock.advance(5_000);
    callFor(monitor, clock, 'op', 250);
    clock.advance(MINUTE);
    expect(monitor.getStats('op')?.lastCallAt).toBe(new Date(EPOCH + 5_250).toISOString());
  });
});

describe('windows of an operation merged over its label sets', () => {
  it('merged counts are the sum of the label sets, per window', () => {
    const { monitor, clock } = setup();
    const a = monitor.wrap('http', takes(clock, 1), { labels: { route: '/a' } });
    const b = monitor.wrap('http', takes(clock, 3), { labels: { route: '/b' } });
    a();
    a();
    clock.advance(2 * MINUTE);
    b();
    const merged = windows(monitor, 'http');
    expect(merged['1m']).toMatchObject({ count: 1, min: 3, max: 3 });
    expect(merged['5m']).toMatchObject({ count: 3, min: 1, max: 3 });
    expect(merged.all).toMatchObject({ count: 3, totalMs: 5 });
  });

  it('the 1m coveredSeconds and throughput of a merged operation do not depend on an idle label set', () => {
    const { monitor, clock } = setup();
    const a = monitor.wrap('http', takes(clock, 1), { labels: { route: '/a' } });
    const b = monitor.wrap('http', takes(clock, 1), { labels: { route: '/b' } });
    a();
    b();
    clock.advance(10 * MINUTE);
    for (let i = 0; i < 30; i++) b();
    // Read the merged statistics first: nothing else has brought route /a up to date.
    const merged = windows(monitor, 'http')['1m'];
    const onlyB = monitor.getStats('http', { route: '/b' })!.windows['1m'];
    expect(merged.count).toBe(30);
    expect(merged.coveredSeconds).toBeGreaterThanOrEqual(60);
    expect(merged.coveredSeconds).toBeLessThan(70);
    expect(merged.coveredSeconds).toBe(onlyB.coveredSeconds);
    expect(merged.throughput).toBeCloseTo(onlyB.throughput, 12);
  });
});
