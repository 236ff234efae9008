// Which history figure answers for which value source, placed where a live reading would have
// been, read from hours where the store no longer keeps minutes.
import { describe, expect, it } from 'vitest';
import type { AlertHistoryRequest } from '../../../src/alerts/history-reader.js';
import { MemoryHistoryStore } from '../../../src/analytics/history/memory-store.js';
import { operationRollup } from '../../../src/testing/history-store.js';
import {
  alertHistoryReader,
  HOUR,
  MINUTE,
  metricRollup,
  seedClock,
  writeMinutes,
} from './helpers.js';

function request(
  source: string,
  to: number,
  extra: Partial<AlertHistoryRequest> = {},
): AlertHistoryRequest {
  return {
    source,
    from: to - 10 * MINUTE,
    to,
    stepMs: MINUTE,
    maxSeries: 100,
    signal: new AbortController().signal,
    ...extra,
  };
}

describe('the history reader of the alerts', () => {
  it('maps operations, cache, task and system figures to the sources, labelled as they are live', async () => {
    const clock = seedClock(0);
    const store = new MemoryHistoryStore({ clock });
    const to = clock.minute;
    const durations = Array.from({ length: 100 }, (_, i) => i + 1);
    for (let at = to - 3 * MINUTE; at < to; at += MINUTE) {
      await store.write({
        id: `m:${at}`,
        at,
        operations: [
          operationRollup('GET /users', { route: '/users' }, durations, 5),
          operationRollup('GET /orders', {}, [3, 3, 3]),
        ],
        metrics: [
          metricRollup('cache.namespace.hits', 90, { namespace: 'users' }),
          metricRollup('cache.namespace.misses', 10, { namespace: 'users' }),
          metricRollup('cache.tier.hits', 60, { tier: 'memory' }),
          metricRollup('cache.tier.misses', 40, { tier: 'memory' }),
          metricRollup('tasks.queue.waiting', 12, { queue: 'emails' }),
          metricRollup('system.event_loop.delay_p99_ms', 7),
        ],
      });
    }
    const reader = alertHistoryReader(() => store);
    const ends = [to - 2 * MINUTE, to - MINUTE, to];

    const p95 = await reader.read(
      request('operation.p95', to, { where: { operation: 'GET /users' } }),
    );
    expect(p95).toHaveLength(1);
    expect(p95![0]!.labels).toEqual({ route: '/users', operation: 'GET /users' });
    expect(p95![0]!.points.map((p) => p.at)).toEqual(ends);
    for (const point of p95![0]!.points) expect(Math.abs(point.value - 95) / 95).toBeLessThan(0.01);

    const errors = await reader.read(request('operation.error_rate', to));
    const byOperation = new Map(errors!.map((s) => [s.labels.operation, s.points]));
    expect(byOperation.get('GET /users')!.map((p) => p.value)).toEqual([0.05, 0.05, 0.05]);
    expect(byOperation.get('GET /orders')!.map((p) => p.value)).toEqual([0, 0, 0]);

    const throughput = await reader.read(
      request('operation.throughput', to, { where: { operation: 'GET /orders' } }),
    );
    expect(throughput![0]!.points.map((p) => p.value)).toEqual([0.05, 0.05, 0.05]);

    const hits = await reader.read(request('cache.hit_ratio', to));
    const ratios = Object.fromEntries(
      hits!.map((s) => [JSON.stringify(s.labels), s.points.map((p) => p.value)]),
    );
    expect(ratios).toEqual({
      '{"namespace":"users"}': [0.9, 0.9, 0.9],
      '{"tier":"memory"}': [0.6, 0.6, 0.6],
    });

    // Gauges: their mean stands for the middle of the minute.
    const depth = await reader.read(request('tasks.queue_depth', to));
    expect(depth).toEqual([
      { labels: { queue: 'emails' }, points: ends.map((end) => ({ at: end - 30_000, value: 12 })) },
    ]);
    const loop = await reader.read(request('system.event_loop_delay_p99_ms', to));
    expect(loop![0]!.labels).toEqual({});
    expect(loop![0]!.points.map((p) => p.value)).toEqual([7, 7, 7]);

    // A source the history has no figure of, a figure it holds nothing of, no store at all.
    expect(await reader.read(request('security.score', to))).toBeUndefined();
    expect(await reader.read(request('tasks.failure_rate', to))).toBeUndefined();
    expect(await reader.read(request('system.cpu', to))).toEqual([]);
    expect(
      await alertHistoryReader(() => undefined).read(request('system.cpu', to)),
    ).toBeUndefined();
    // Bounded: no more series than asked for.
    expect(await reader.read(request('operation.p95', to, { maxSeries: 1 }))).toHaveLength(1);
  });

  it('reads hours where the store keeps no minutes, each handed on at the step asked for', async () => {
    const clock = seedClock(0);
    const store = new MemoryHistoryStore({ clock, retention: { minutes: '2h', hours: '8d' } });
    const to = clock.minute;
    // Each minute's value is its minute of the hour: an hour's mean is 29.5, five minutes' vary.
    await writeMinutes(store, to - 6 * HOUR, to, MINUTE, (at) => [
      metricRollup('system.cpu.percent', (at % HOUR) / MINUTE),
    ]);
    const answer = await alertHistoryReader(() => store).read(
      request('system.cpu', to, { from: to - 5 * HOUR, stepMs: 5 * MINUTE }),
    );
    const points = answer![0]!.points;
    const times = points.map((p) => p.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Oldest first, every step once: the hours the store keeps in place of its minutes, each
    // handed on once per five minutes it covers (in their middle), then the five-minute steps.
    expect(times[0]! % HOUR).toBe(2.5 * MINUTE);
    expect(times[0]!).toBeLessThan(to - 5 * HOUR + HOUR);
    expect(times.at(-1)).toBe(to - 2.5 * MINUTE);
    expect(gaps.every((gap) => gap >= 5 * MINUTE && gap < 10 * MINUTE)).toBe(true);
    // At most one shorter-than-a-step stretch is left out, where the hours meet the minutes.
    expect(gaps.filter((gap) => gap !== 5 * MINUTE).length).toBeLessThanOrEqual(1);
    const fromHours = points.filter((p) => p.value === 29.5);
    // At least two whole hours came from hours (twelve points each), the rest from minutes.
    expect(fromHours.length).toBeGreaterThanOrEqual(24);
    expect(fromHours.length % 12).toBe(0);
    expect(points.slice(0, fromHours.length).every((p) => p.value === 29.5)).toBe(true);
    expect(new Set(points.slice(fromHours.length).map((p) => p.value)).size).toBeGreaterThan(1);
  });
});
