import { afterEach, describe, expect, it, vi } from 'vitest';
import { performanceSources } from '../../../src/alerts/sources/performance.js';
import type { Enterprise } from '../../../src/index.js';
import { type FakeClock, setup } from '../../performance/helpers.js';
import { read, valueFor } from './helpers.js';

const instances: Enterprise[] = [];

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

function monitored(options: Parameters<typeof setup>[0] = {}) {
  const made = setup(options);
  instances.push(made.enterprise);
  return made;
}

/** Records `count` calls of 1..count ms ending now, the first `errors` of them failed. */
function calls(
  monitor: Enterprise['performance'],
  name: string,
  count: number,
  errors = 0,
  labels?: Record<string, string>,
) {
  for (let i = 1; i <= count; i++) {
    monitor.record(name, i, { error: i <= errors, ...(labels ? { labels } : {}) });
  }
}

function advance(clock: FakeClock, ms: number) {
  clock.advance(ms);
}

describe('performance value sources', () => {
  it('names the operation and system sources, each with a description', () => {
    const { monitor } = monitored();
    const sources = performanceSources(monitor);
    expect(sources.map((s) => s.name)).toEqual([
      'operation.p50',
      'operation.p95',
      'operation.p99',
      'operation.error_rate',
      'operation.throughput',
      'system.cpu',
      'system.rss_bytes',
      'system.heap_used_bytes',
      'system.event_loop_delay_p99_ms',
      'system.event_loop_utilization',
    ]);
    for (const source of sources) expect(source.description).toBeTruthy();
    expect(performanceSources(monitor, { system: false }).map((s) => s.name)).not.toContain(
      'system.cpu',
    );
  });

  it('reads latency percentiles, error rate and throughput per operation over the last minute', async () => {
    const { monitor, clock } = monitored();
    calls(monitor, 'UserService.find', 100, 5);
    calls(monitor, 'OrderService.list', 10);
    advance(clock, 20_000);
    const sources = performanceSources(monitor, { clock });
    const stats = monitor.getStats('UserService.find')!.windows['1m'];

    const p95 = await read(sources, 'operation.p95');
    expect(p95).toHaveLength(2);
    expect(valueFor(p95, { operation: 'UserService.find' })).toBe(stats.p95);
    expect(valueFor(p95, { operation: 'UserService.find' })).toBeCloseTo(95, -0.5);
    expect(valueFor(p95, { operation: 'OrderService.list' })).toBeCloseTo(10, -0.5);
    expect(valueFor(await read(sources, 'operation.p50'), { operation: 'UserService.find' })).toBe(
      stats.p50,
    );
    expect(valueFor(await read(sources, 'operation.p99'), { operation: 'UserService.find' })).toBe(
      stats.p99,
    );
    const errorRate = await read(sources, 'operation.error_rate');
    expect(valueFor(errorRate, { operation: 'UserService.find' })).toBeCloseTo(0.05, 10);
    expect(valueFor(errorRate, { operation: 'OrderService.list' })).toBe(0);
    const throughput = await read(sources, 'operation.throughput');
    expect(valueFor(throughput, { operation: 'UserService.find' })).toBe(stats.throughput);
    expect(valueFor(throughput, { operation: 'UserService.find' })).toBeCloseTo(100 / 20, 10);
  });

  it("keeps one series per label set, labelled with the operation's own labels", async () => {
    const { monitor, clock } = monitored();
    calls(monitor, 'http.request', 4, 0, { route: '/users' });
    calls(monitor, 'http.request', 4, 4, { route: '/orders' });
    calls(monitor, 'job', 1);
    const rates = await read(performanceSources(monitor, { clock }), 'operation.error_rate');
    expect(valueFor(rates, { route: '/users', operation: 'http.request' })).toBe(0);
    expect(valueFor(rates, { route: '/orders', operation: 'http.request' })).toBe(1);
    expect(valueFor(rates, { operation: 'job' })).toBe(0);
  });

  it('reports no data for an operation idle over the window, and the chosen window otherwise', async () => {
    const { monitor, clock } = monitored();
    calls(monitor, 'idle', 20, 2);
    advance(clock, 3 * 60_000);
    const oneMinute = performanceSources(monitor, { clock, reuseMs: 0 });
    expect(await read(oneMinute, 'operation.p95')).toEqual([
      { labels: { operation: 'idle' }, value: null },
    ]);
    expect(await read(oneMinute, 'operation.error_rate')).toEqual([
      { labels: { operation: 'idle' }, value: null },
    ]);
    expect(await read(oneMinute, 'operation.throughput')).toEqual([
      { labels: { operation: 'idle' }, value: 0 },
    ]);
    const fiveMinutes = performanceSources(monitor, { clock, window: '5m' });
    expect(valueFor(await read(fiveMinutes, 'operation.p95'), { operation: 'idle' })).toBeCloseTo(
      19,
      -0.5,
    );
    expect(valueFor(await read(fiveMinutes, 'operation.error_rate'), { operation: 'idle' })).toBe(
      0.1,
    );
  });

  it('reads the system figures from the latest sample, one series without labels', async () => {
    const { monitor, clock } = monitored({
      performance: { systemMetrics: { intervalMs: 60_000 } },
    });
    // While the sampler runs, the sample stays the same until its next tick.
    monitor.start();
    const sources = performanceSources(monitor, { clock });
    const snapshot = monitor.system()!;
    const rss = await read(sources, 'system.rss_bytes');
    expect(rss).toEqual([{ labels: {}, value: snapshot.memory.rss }]);
    expect(rss[0]!.value).toBeGreaterThan(1_000_000);
    expect(await read(sources, 'system.heap_used_bytes')).toEqual([
      { labels: {}, value: snapshot.memory.heapUsed },
    ]);
    expect(await read(sources, 'system.cpu')).toEqual([
      { labels: {}, value: snapshot.cpu.percent },
    ]);
    expect(await read(sources, 'system.event_loop_delay_p99_ms')).toEqual([
      { labels: {}, value: snapshot.eventLoop.delayP99Ms },
    ]);
    const elu = (await read(sources, 'system.event_loop_utilization'))[0]!.value!;
    expect(elu).toBe(snapshot.eventLoop.utilization);
    expect(elu).toBeGreaterThanOrEqual(0);
    expect(elu).toBeLessThanOrEqual(1);
  });

  it('reports no data for the system figures while system metrics are off', async () => {
    const { monitor } = monitored();
    for (const name of ['system.cpu', 'system.rss_bytes', 'system.event_loop_utilization']) {
      expect(await read(performanceSources(monitor), name)).toEqual([{ labels: {}, value: null }]);
    }
  });

  it('computes the statistics once for the sources read within reuseMs, again after', async () => {
    const { monitor, clock } = monitored();
    calls(monitor, 'op', 3);
    const spy = vi.spyOn(monitor, 'operations');
    const sources = performanceSources(monitor, { clock, reuseMs: 1_000, system: false });
    await Promise.all(sources.map((s) => s.read()));
    for (const source of sources) await source.read();
    expect(spy).toHaveBeenCalledTimes(1);
    advance(clock, 1_000);
    calls(monitor, 'op', 3, 3);
    expect(valueFor(await read(sources, 'operation.error_rate'), { operation: 'op' })).toBe(0.5);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('rejects a read when the monitor throws, and reads again on the next call', async () => {
    const { monitor, clock } = monitored();
    calls(monitor, 'op', 1);
    const spy = vi.spyOn(monitor, 'operations').mockImplementationOnce(() => {
      throw new Error('broken');
    });
    const sources = performanceSources(monitor, { clock });
    await expect(read(sources, 'operation.p95')).rejects.toThrow('broken');
    expect(await read(sources, 'operation.p95')).toHaveLength(1);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});
