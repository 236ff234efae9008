// The HistoryStore conformance suite against the memory store, and what is particular to it.
import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { MemoryHistoryStore } from '../../../src/analytics/history/index.js';
import { operationRollup } from '../../../src/testing/history-store.js';
import { describeHistoryStore } from '../../../src/testing/index.js';

describeHistoryStore('memory', vitest, {
  create: (options) => ({ store: new MemoryHistoryStore(options), cleanup: () => undefined }),
});

describe('MemoryHistoryStore', () => {
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

  it('keeps at most maxSeries series and counts the rollups it drops', async () => {
    const store = new MemoryHistoryStore({ maxSeries: 2 });
    await store.write({
      id: 'a',
      at: minute,
      operations: ['a', 'b', 'c'].map((route) => operationRollup('http', { route }, [1])),
      metrics: [],
    });
    expect(await store.series()).toHaveLength(2);
    expect(store.droppedSeries).toBe(1);
  });

  it('keeps nothing of the caller: arrays changed after a write change nothing stored', async () => {
    const store = new MemoryHistoryStore();
    const op = operationRollup('op', {}, [1, 1, 1]);
    await store.write({ id: 'a', at: minute, operations: [op], metrics: [] });
    const query = { operation: 'op', from: minute, to: minute + 60_000, step: 60 };
    const before = await store.query(query);
    (op.histogram.counts as number[])[0] = 1_000;
    (op.histogram.indexes as number[])[0] = 2_000;
    expect(await store.query(query)).toEqual(before);
  });

  it('keeps a day of minutes and a week of hours unless told otherwise', () => {
    expect(new MemoryHistoryStore().retention).toEqual({
      minutesMs: 24 * 3_600_000,
      hoursMs: 7 * 24 * 3_600_000,
    });
  });

  it('refuses invalid options naming them', () => {
    expect(() => new MemoryHistoryStore({ retention: { minutes: '10s' } })).toThrow(
      /retention\.minutes/,
    );
    expect(() => new MemoryHistoryStore({ retention: { minutes: '3d', hours: '2d' } })).toThrow(
      /retention\.hours/,
    );
    expect(() => new MemoryHistoryStore({ maxPoints: 0 })).toThrow(/maxPoints/);
    expect(() => new MemoryHistoryStore({ maxSeries: 1.5 })).toThrow(/maxSeries/);
  });

  it('answers a day of minutes over 100 label sets quickly', async () => {
    // Two days of minutes kept: the day written stays whole while the test runs.
    const store = new MemoryHistoryStore({ retention: { minutes: '48h' } });
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const ops = Array.from({ length: 100 }, (_, i) =>
      operationRollup('http', { route: `/r${i}` }, [1, 2, 5, 9, 30]),
    );
    for (let m = 1; m <= 1440; m++) {
      await store.write({ id: `m${m}`, at: now - m * 60_000, operations: ops, metrics: [] });
    }
    const started = performance.now();
    const series = await store.query({
      operation: 'http',
      from: now - 1440 * 60_000,
      to: now,
      step: 60,
    });
    const elapsed = performance.now() - started;
    expect(series.points).toHaveLength(1440);
    expect(series.points.every((p) => p.count === 500)).toBe(true);
    // Generous: a guard against an accidental quadratic path, not a benchmark.
    expect(elapsed).toBeLessThan(2_000);
  }, 60_000);
});
