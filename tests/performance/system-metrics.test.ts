import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createEnterprise,
  type Enterprise,
  type PerformanceMonitor,
  type SystemMetricsSnapshot,
} from '../../src/index.js';
import { parsePrometheus } from './prometheus-text.js';

const INTERVAL = 100;
let current: Enterprise | undefined;

function sampled(options: { intervalMs?: number } = { intervalMs: INTERVAL }): Enterprise {
  current = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: options },
  });
  return current;
}

afterEach(async () => {
  vi.restoreAllMocks();
  await current?.shutdown();
  current = undefined;
});

/** Waits until the sampler has produced a sample other than `previous`. */
async function nextSample(
  monitor: PerformanceMonitor,
  previous: SystemMetricsSnapshot | null,
): Promise<SystemMetricsSnapshot> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const snapshot = monitor.system();
    if (snapshot !== null && snapshot !== previous) return snapshot;
    if (Date.now() > deadline) throw new Error('no new system metrics sample within 5 s');
    await sleep(5);
  }
}

/** Like {@link nextSample}, but polls on every turn of the event loop (no timer resolution). */
async function nextSampleImmediately(
  monitor: PerformanceMonitor,
  previous: SystemMetricsSnapshot,
): Promise<SystemMetricsSnapshot> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const snapshot = monitor.system();
    if (snapshot !== null && snapshot !== previous) return snapshot;
    if (Date.now() > deadline) throw new Error('no new system metrics sample within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function busyFor(ms: number) {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  return spins;
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('system metrics', () => {
  it('after start(), summary().system has sane cpu, memory, event-loop and gc figures', async () => {
    const enterprise = sampled();
    await enterprise.start();
    const monitor = enterprise.performance;
    // Garbage, so young-generation collections happen (no --expose-gc needed).
    let garbage: unknown[] = [];
    for (let round = 0; round < 20; round++) {
      garbage = Array.from({ length: 20_000 }, (_, i) => ({ i, text: `value ${i}` }));
    }
    const first = await nextSample(monitor, null);
    const system = (await nextSample(monitor, first)) as SystemMetricsSnapshot;
    void garbage;
    expect(monitor.summary().system).toEqual(system);

    expect(Number.isNaN(Date.parse(system.sampledAt))).toBe(false);
    expect(Math.abs(Date.parse(system.sampledAt) - Date.now())).toBeLessThan(5_000);

    expect(system.cpu.percent).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(system.cpu.percent)).toBe(true);
    expect(system.cpu.userSeconds).toBeGreaterThan(0);
    expect(system.cpu.systemSeconds).toBeGreaterThanOrEqual(0);
    expect(system.cpu.userSeconds).toBeCloseTo(process.cpuUsage().user / 1e6, -1);

    expect(system.memory.rss).toBeGreaterThan(0);
    expect(system.memory.heapUsed).toBeGreaterThan(0);
    expect(system.memory.heapTotal).toBeGreaterThanOrEqual(system.memory.heapUsed);
    expect(system.memory.external).toBeGreaterThanOrEqual(0);
    expect(system.memory.arrayBuffers).toBeGreaterThanOrEqual(0);

    const loop = system.eventLoop;
    expect(loop.delayP50Ms).toBeGreaterThanOrEqual(0);
    expect(loop.delayP99Ms).toBeGreaterThanOrEqual(loop.delayP50Ms);
    expect(loop.delayMaxMs).toBeGreaterThanOrEqual(loop.delayP99Ms);
    expect(loop.utilization).toBeGreaterThanOrEqual(0);
    expect(loop.utilization).toBeLessThanOrEqual(1);

    expect(system.gc.maxPauseMs).toBeGreaterThanOrEqual(0);
    const kinds = Object.entries(system.gc.byKind);
    expect(kinds.length).toBeGreaterThan(0);
    for (const [kind, { count, totalMs }] of kinds) {
      expect(['scavenge', 'mark_compact', 'incremental', 'weakcb', 'other']).toContain(kind);
      expect(count).toBeGreaterThan(0);
      expect(totalMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('samples every intervalMs, and the summary is JSON-serializable', async () => {
    const enterprise = sampled();
    await enterprise.start();
    const monitor = enterprise.performance;
    const a = await nextSample(monitor, null);
    const b = await nextSample(monitor, a);
    const c = await nextSample(monitor, b);
    const gap = Date.parse(c.sampledAt) - Date.parse(b.sampledAt);
    expect(gap).toBeGreaterThanOrEqual(INTERVAL - 20);
    expect(gap).toBeLessThan(INTERVAL * 10);
    const summary = monitor.summary();
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('a 50 ms busy loop shows up in the event-loop delay and utilization of the next sample', async () => {
    const enterprise = sampled();
    await enterprise.start();
    const monitor = enterprise.performance;
    const before = await nextSample(monitor, await nextSample(monitor, null));
    await sleep(25); // well inside the sampling interval
    busyFor(50);
    const after = await nextSample(monitor, before);
    // The probe expects a tick every 10 ms, so a 50 ms block shows as at least 40 ms of delay.
    expect(after.eventLoop.delayMaxMs).toBeGreaterThanOrEqual(38);
    // Loose bounds: the suites run in parallel on two cores, so this process may be descheduled.
    expect(after.eventLoop.utilization).toBeGreaterThan(0.15);
    expect(after.cpu.percent).toBeGreaterThan(10);
    // Each sample covers the time since the previous one: the spike is not carried forward.
    const calm = await nextSample(monitor, await nextSample(monitor, after));
    expect(calm.eventLoop.delayMaxMs).toBeLessThan(after.eventLoop.delayMaxMs);
  });

  it('a busy loop that starts right after a sample is not lost', async () => {
    const enterprise = sampled();
    await enterprise.start();
    const monitor = enterprise.performance;
    let previous = await nextSample(monitor, null);
    const seen: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      // Catch the sample as soon as it is taken, then block the loop at once.
      const fresh = await nextSampleImmediately(monitor, previous);
      busyFor(50);
      const next = await nextSample(monitor, fresh);
      previous = await nextSample(monitor, next);
      seen.push(Math.max(next.eventLoop.delayMaxMs, previous.eventLoop.delayMaxMs));
    }
    for (const delay of seen) expect(delay, `delays seen: ${seen.join(', ')}`).toBeGreaterThan(38);
  });

  it('the Prometheus exposition reports the same sample as summary()', async () => {
    const enterprise = sampled();
    await enterprise.start();
    const monitor = enterprise.performance;
    await nextSample(monitor, null);
    const text = monitor.toPrometheus();
    const system = monitor.summary().system!;
    const value = (name: string, labels: Record<string, string> = {}) =>
      parsePrometheus(text)
        .find((f) => f.name === name)
        ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('enterprise_process_resident_memory_bytes')).toBe(system.memory.rss);
    expect(value('enterprise_nodejs_heap_used_bytes')).toBe(system.memory.heapUsed);
    expect(value('enterprise_process_cpu_seconds_total', { mode: 'user' })).toBe(
      system.cpu.userSeconds,
    );
    expect(value('enterprise_nodejs_eventloop_delay_max_seconds')).toBeCloseTo(
      system.eventLoop.delayMaxMs / 1000,
      12,
    );
    expect(value('enterprise_nodejs_eventloop_utilization_ratio')).toBe(
      system.eventLoop.utilization,
    );
  });

  it('creating an instance starts no timer; start() starts unref’d ones; shutdown() clears them', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const enterprise = sampled();
    expect(setIntervalSpy).not.toHaveBeenCalled();
    expect(setTimeoutSpy).not.toHaveBeenCalled();
    await enterprise.start();
    const started = setIntervalSpy.mock.results.length;
    await enterprise.start(); // idempotent
    expect(setIntervalSpy.mock.results).toHaveLength(started);
    const timers = [...setIntervalSpy.mock.results, ...setTimeoutSpy.mock.results].map(
      (r) => r.value as NodeJS.Timeout,
    );
    expect(timers.length).toBeGreaterThan(0);
    setIntervalSpy.mockRestore();
    setTimeoutSpy.mockRestore();
    // Unref'd: they never keep the process alive on their own.
    for (const timer of timers) expect(timer.hasRef()).toBe(false);
    // An active timer counts as a resource once ref'd; a cleared one does not.
    const baseline = timeouts();
    for (const timer of timers) timer.ref();
    expect(timeouts()).toBe(baseline + timers.length);
    for (const timer of timers) timer.unref();

    const last = await nextSample(enterprise.performance, null);
    await enterprise.shutdown();
    expect(enterprise.state).toBe('stopped');
    for (const timer of timers) timer.ref();
    expect(timeouts()).toBe(baseline);
    for (const timer of timers) timer.unref();
    // And no sample is taken after shutdown.
    const afterShutdown = enterprise.performance.system();
    await sleep(INTERVAL * 3);
    expect(enterprise.performance.system()).toBe(afterShutdown);
    expect(Date.parse(afterShutdown!.sampledAt)).toBeGreaterThanOrEqual(Date.parse(last.sampledAt));
    await enterprise.shutdown(); // idempotent
  });

  it('systemMetrics: false gives a null system and no timer', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    current = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { systemMetrics: false },
    });
    await current.start();
    expect(setIntervalSpy).not.toHaveBeenCalled();
    expect(current.performance.summary().system).toBeNull();
    expect(current.performance.toPrometheus()).not.toContain('process_');
  });
});
