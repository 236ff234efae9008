import { afterAll, describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import * as performanceEntry from '../../src/performance/index.js';
import { fakeClock } from './helpers.js';

const { configure, getEnterprise, PerformanceMonitor } = root;

function configured(options: { alertThresholdMs?: number } = {}) {
  const clock = fakeClock();
  const enterprise = configure({
    logLevel: 'silent',
    env: {},
    clock,
    performance: { systemMetrics: false, ...options },
  });
  return { enterprise, clock };
}

afterAll(async () => {
  await getEnterprise().shutdown();
});

describe.each([
  ['the root entry', root],
  ['the /performance entry', performanceEntry],
])('default instance helpers from %s follow configure()', (_, entry) => {
  const { performanceMonitor, performanceContext, monitorPerformance } = entry;

  it('performanceContext records into the instance configured at call time', async () => {
    const first = configured();
    expect(performanceContext('ctx', () => 'a')).toBe('a');
    const second = configured();
    expect(performanceContext('ctx', { step: 1 }, () => 'b')).toBe('b');
    await expect(performanceContext('ctx', async () => 'c')).resolves.toBe('c');
    expect(first.enterprise.performance.getStats('ctx')!.windows.all.count).toBe(1);
    expect(second.enterprise.performance.getStats('ctx')!.windows.all.count).toBe(2);
  });

  it('a function wrapped by monitorPerformance before configure() records into the new instance', async () => {
    const first = configured();
    const wrapped = monitorPerformance('wrapped', function (this: unknown, x: number) {
      first.clock.advance(5);
      return x * 2;
    });
    const wrappedAsync = monitorPerformance(
      { name: 'wrapped.async', thresholdMs: 1, labels: { kind: 'io' } },
      async () => 'ok',
    );
    expect(wrapped(2)).toBe(4);
    await wrappedAsync();
    const second = configured();
    expect(wrapped(3)).toBe(6);
    expect(wrapped(4)).toBe(8);
    await wrappedAsync();
    expect(first.enterprise.performance.getStats('wrapped')!.windows.all.count).toBe(1);
    expect(second.enterprise.performance.getStats('wrapped')!.windows.all.count).toBe(2);
    expect(
      second.enterprise.performance.getStats('wrapped.async', { kind: 'io' })!.windows.all.count,
    ).toBe(1);
    expect(second.enterprise.performance.getStats('wrapped.async')!.thresholdMs).toBe(1);
  });

  it('performanceMonitor is the monitor of the current default instance', () => {
    const first = configured({ alertThresholdMs: 111 });
    expect(performanceMonitor.thresholdMs).toBe(111);
    expect(performanceMonitor).toBeInstanceOf(PerformanceMonitor);
    performanceMonitor.context('via.proxy', () => undefined);
    expect(first.enterprise.performance.getStats('via.proxy')!.windows.all.count).toBe(1);

    const second = configured({ alertThresholdMs: 222 });
    expect(performanceMonitor.thresholdMs).toBe(222);
    expect(performanceMonitor.getStats('via.proxy')).toBeUndefined();
    performanceMonitor.context('via.proxy', () => undefined);
    expect(second.enterprise.performance.getStats('via.proxy')!.windows.all.count).toBe(1);
    expect(performanceMonitor.summary().operations.map((o) => o.name)).toEqual(['via.proxy']);
    expect(performanceMonitor.toPrometheus()).toBe(second.enterprise.performance.toPrometheus());
  });

  it('listeners added through performanceMonitor receive the events of the current instance', () => {
    const { clock } = configured({ alertThresholdMs: 10 });
    const names: string[] = [];
    const listener = (event: { name: string }) => names.push(event.name);
    performanceMonitor.on('slow', listener);
    performanceContext('slow.op', () => clock.advance(50));
    performanceMonitor.off('slow', listener);
    performanceContext('slow.op', () => clock.advance(50));
    expect(names).toEqual(['slow.op']);
  });

  it('configure() shuts the previous default instance down', async () => {
    const first = configured();
    const second = configured();
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.enterprise.state).toBe('stopped');
    expect(second.enterprise.state).not.toBe('stopped');
    expect(getEnterprise()).toBe(second.enterprise);
  });
});

describe('both entries export the same helpers', () => {
  it('performanceMonitor, performanceContext and monitorPerformance are the same objects', () => {
    expect(performanceEntry.performanceMonitor).toBe(root.performanceMonitor);
    expect(performanceEntry.performanceContext).toBe(root.performanceContext);
    expect(performanceEntry.monitorPerformance).toBe(root.monitorPerformance);
  });
});
