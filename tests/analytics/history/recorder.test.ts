// The recorder: minutes closed from the performance monitor's running totals and sampled figures,
// percentiles merged across minutes and instances equal to those of all calls, and a store that
// fails costing nothing but a delay.
import { afterEach, describe, expect, it } from 'vitest';
import {
  cacheFigures,
  HistoryRecorder,
  type HistoryStore,
  MemoryHistoryStore,
  type MinuteRollup,
  systemFigures,
  taskFigures,
} from '../../../src/analytics/history/index.js';
import { DurationHistogram } from '../../../src/performance/histogram.js';
import { eighths, exactPercentile, historyClock, monitorOn, silent } from './helpers.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function recorderFor(options: ConstructorParameters<typeof HistoryRecorder>[0]) {
  const recorder = new HistoryRecorder({ logger: silent, ...options });
  stops.push(() => recorder.stop());
  return recorder;
}

/** A memory store whose writes fail while `down` is set. */
class FlakyStore extends MemoryHistoryStore {
  down = false;
  writes: MinuteRollup[] = [];
  override async write(rollup: MinuteRollup): Promise<void> {
    if (this.down) throw new Error('store unavailable');
    this.writes.push(rollup);
    await super.write(rollup);
  }
}

describe('HistoryRecorder', () => {
  it('writes each minute the calls of that minute, with errors and buckets', async () => {
    const clock = historyClock();
    const monitor = monitorOn(clock);
    const store = new MemoryHistoryStore({ clock });
    const recorder = recorderFor({ store, operations: monitor, clock });
    clock.at(0, 10);
    monitor.record('GET /users', 12, { labels: { status_class: '2xx' } });
    monitor.record('GET /users', 40, { labels: { status_class: '5xx' }, error: true });
    clock.at(1, 0.005);
    await recorder.tick();
    clock.at(1, 30);
    monitor.record('GET /users', 8, { labels: { status_class: '2xx' } });
    clock.at(2, 0.005);
    await recorder.tick();
    const series = await store.query({
      operation: 'GET /users',
      from: clock.start,
      to: clock.start + 3 * 60_000,
      step: 60,
    });
    expect(series.labelSets).toBe(2);
    expect(series.points.map((p) => [p.count, p.errors])).toEqual([
      [2, 1],
      [1, 0],
      [0, 0],
    ]);
    expect(series.points[0]!.maxMs).toBeCloseTo(40, 0);
    expect(series.points[1]!.p50).toBeCloseTo(8, 1);
    expect(recorder.status()).toMatchObject({ pendingMinutes: 0, storeDown: false });
  });

  it('merges minutes and instances into the percentiles of all their calls (within 1 %)', async () => {
    const clock = historyClock(60);
    const store = new MemoryHistoryStore({ clock });
    // Two instances of a service: one fast, one slow, both recording every minute.
    const fast = monitorOn(clock);
    const slow = monitorOn(clock);
    const recorders = [fast, slow].map((operations) => recorderFor({ store, operations, clock }));
    const all: number[] = [];
    for (let minute = 0; minute < 10; minute++) {
      clock.at(minute, 1);
      for (const [monitor, samples] of [
        [fast, eighths(200, 4 + minute, minute)],
        [slow, eighths(40, 120, 100 + minute)],
      ] as const) {
        for (const ms of samples) monitor.record('db.query', ms);
        all.push(...samples);
      }
      clock.at(minute + 1, 0.01);
      for (const recorder of recorders) await recorder.tick();
    }
    const series = await store.query({
      operation: 'db.query',
      from: clock.start,
      to: clock.start + 10 * 60_000,
      step: '10m',
    });
    const point = series.points[0]!;
    expect(point.count).toBe(all.length);
    // The same buckets as one histogram of every call ...
    const reference = new DurationHistogram();
    for (const ms of all) reference.record(ms * 1000);
    const [p50, p90, p99, p999] = reference.percentiles([50, 90, 99, 99.9]).map((us) => us / 1000);
    expect([point.p50, point.p90, point.p99, point.p999]).toEqual([p50, p90, p99, p999]);
    // ... so within the histogram's precision of the exact percentiles of all samples, where an
    // average of per-minute percentiles is far off.
    for (const [value, p] of [
      [point.p50, 50],
      [point.p90, 90],
      [point.p99, 99],
      [point.p999, 99.9],
    ] as const) {
      const truth = exactPercentile(all, p);
      expect(Math.abs(value! - truth)).toBeLessThanOrEqual(truth * 0.01 + 0.001);
    }
    const minutes = await store.query({
      operation: 'db.query',
      from: clock.start,
      to: clock.start + 10 * 60_000,
      step: 60,
    });
    const averaged = minutes.points.reduce((sum, p) => sum + p.p99!, 0) / minutes.points.length;
    expect(Math.abs(averaged - exactPercentile(all, 99))).toBeGreaterThan(
      exactPercentile(all, 99) * 0.05,
    );
  });

  it('counts neither calls made before it existed nor anything twice across a reset', async () => {
    const clock = historyClock();
    const monitor = monitorOn(clock);
    for (let i = 0; i < 50; i++) monitor.record('op', 1);
    const store = new MemoryHistoryStore({ clock });
    const recorder = recorderFor({ store, operations: monitor, clock });
    monitor.record('op', 1);
    monitor.record('op', 1);
    clock.at(1, 0.01);
    await recorder.tick();
    monitor.reset();
    monitor.record('op', 2);
    clock.at(2, 0.01);
    await recorder.tick();
    const series = await store.query({
      operation: 'op',
      from: clock.start,
      to: clock.start + 2 * 60_000,
      step: 60,
    });
    expect(series.points.map((p) => p.count)).toEqual([2, 1]);
  });

  it('samples figures: gauges as they are, counters as their increase', async () => {
    const clock = historyClock();
    const store = new MemoryHistoryStore({ clock });
    let hits = 1_000;
    let depth = 3;
    const recorder = recorderFor({
      store,
      clock,
      sampleIntervalMs: 20_000,
      figures: [
        () => cacheFigures({ hits, misses: 10 }),
        async () =>
          taskFigures({
            queues: [{ name: 'mail', waiting: depth, active: 1, delayed: 0, dead: 0 }],
          }),
      ],
    });
    for (const [seconds, nextHits, nextDepth] of [
      [0, 1_000, 3],
      [20, 1_030, 7],
      [40, 1_100, 5],
      [60, 1_101, 4],
    ] as const) {
      clock.at(0, seconds + 0.01);
      hits = nextHits;
      depth = nextDepth;
      await recorder.tick();
    }
    const range = { from: clock.start, to: clock.start + 60_000, step: 60 };
    const hitSeries = await store.queryMetric({ metric: 'cache.hits', ...range });
    // The first sample only sets the counter's starting point.
    expect(hitSeries.points[0]).toMatchObject({ samples: 3, sum: 101, min: 1, max: 70 });
    const waiting = await store.queryMetric({
      metric: 'tasks.queue.waiting',
      labels: { queue: 'mail' },
      ...range,
    });
    expect(waiting.points[0]).toMatchObject({ samples: 4, sum: 19, min: 3, max: 7 });
  });

  it('turns a system metrics sample into gauges', () => {
    expect(systemFigures(null)).toEqual([]);
    const figures = systemFigures({
      sampledAt: new Date().toISOString(),
      cpu: { percent: 12, userSeconds: 1, systemSeconds: 1 },
      memory: { rss: 5, heapUsed: 4, heapTotal: 6, external: 1, arrayBuffers: 0 },
      eventLoop: { delayP50Ms: 1, delayP99Ms: 9, delayMaxMs: 20, utilization: 0.3 },
      gc: { byKind: {}, maxPauseMs: 2 },
    });
    expect(Object.fromEntries(figures.map((f) => [f.metric, f.value]))).toMatchObject({
      'system.cpu.percent': 12,
      'system.memory.heap_used': 4,
      'system.event_loop.delay_p99_ms': 9,
      'system.event_loop.delay_max_ms': 20,
    });
  });

  it('skips a figure source that throws or hangs, and records the others', async () => {
    const clock = historyClock();
    const store = new MemoryHistoryStore({ clock });
    const recorder = recorderFor({
      store,
      clock,
      sourceTimeoutMs: 50,
      figures: [
        () => {
          throw new Error('broken');
        },
        () => new Promise(() => {}),
        () => [
          { metric: 'ok', value: 1 },
          { metric: '', value: 2 },
          { metric: 'nan', value: Number.NaN },
        ],
      ],
    });
    clock.at(1, 0.01);
    await recorder.tick();
    expect((await store.series()).map((s) => s.name)).toEqual(['ok']);
  });

  it('keeps the minutes while the store fails and writes them in order once it is back', async () => {
    const clock = historyClock();
    const monitor = monitorOn(clock);
    const store = new FlakyStore({ clock });
    const recorder = recorderFor({ store, operations: monitor, clock, maxPendingMinutes: 3 });
    store.down = true;
    for (let minute = 0; minute < 5; minute++) {
      clock.at(minute, 1);
      for (let i = 0; i <= minute; i++) monitor.record('op', 1);
      clock.at(minute + 1, 0.01);
      await recorder.tick();
    }
    expect(recorder.status()).toMatchObject({
      pendingMinutes: 3,
      droppedMinutes: 2,
      storeDown: true,
      lastError: 'store unavailable',
    });
    store.down = false;
    clock.at(5, 10);
    await recorder.tick();
    expect(store.writes.map((r) => (r.at - clock.start) / 60_000)).toEqual([2, 3, 4]);
    expect(recorder.status()).toMatchObject({ pendingMinutes: 0, storeDown: false });
    const series = await store.query({
      operation: 'op',
      from: clock.start,
      to: clock.start + 5 * 60_000,
      step: 60,
    });
    expect(series.points.map((p) => p.count)).toEqual([0, 0, 3, 4, 5]);
  });

  it('writes the minute under way on stop()', async () => {
    const clock = historyClock();
    const monitor = monitorOn(clock);
    const store = new MemoryHistoryStore({ clock });
    const recorder = new HistoryRecorder({ store, operations: monitor, clock, logger: silent });
    clock.at(0, 30);
    monitor.record('op', 1);
    await recorder.stop();
    const series = await store.query({
      operation: 'op',
      from: clock.start,
      to: clock.start + 60_000,
      step: 60,
    });
    expect(series.points[0]!.count).toBe(1);
  });

  it("samples on an unref'd timer until stopped", async () => {
    let calls = 0;
    const store = new MemoryHistoryStore();
    const recorder = new HistoryRecorder({
      store,
      logger: silent,
      sampleIntervalMs: 1_000,
      figures: [() => [{ metric: 'x', value: ++calls }]],
    });
    recorder.start();
    recorder.start();
    expect(recorder.running).toBe(true);
    const deadline = Date.now() + 3_000;
    while (calls < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBeGreaterThanOrEqual(2);
    await recorder.stop();
    expect(recorder.running).toBe(false);
    const after = calls;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(calls).toBe(after);
  });

  it('refuses invalid options naming them', () => {
    const store: HistoryStore = new MemoryHistoryStore();
    expect(() => new HistoryRecorder({} as never)).toThrow(/store/);
    expect(() => new HistoryRecorder({ store, sampleIntervalMs: 7_000 })).toThrow(
      /sampleIntervalMs/,
    );
    expect(() => new HistoryRecorder({ store, maxPendingMinutes: 0 })).toThrow(/maxPendingMinutes/);
    expect(() => new HistoryRecorder({ store, operations: {} as never })).toThrow(/operations/);
    expect(() => new HistoryRecorder({ store, figures: [1] as never })).toThrow(/figures/);
  });
});
