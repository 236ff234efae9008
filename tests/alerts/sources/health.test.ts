import { describe, expect, it } from 'vitest';
import { healthSources } from '../../../src/alerts/sources/health.js';
import { HealthRegistry } from '../../../src/resilience/health-registry.js';

describe('health value source', () => {
  it('reads each component of the report as 0 ok, 1 degraded, 2 down', async () => {
    const registry = new HealthRegistry({ timeoutMs: 50, cacheMs: 0 });
    registry.register('database', () => true);
    registry.register('search', () => ({ status: 'degraded', message: 'yellow' }));
    registry.register('payments', () => {
      throw new Error('refused');
    });
    registry.register('slow', () => new Promise(() => {}), { critical: false });
    const sources = healthSources(() => registry.check());
    expect(sources.map((s) => s.name)).toEqual(['health.status', 'health.degraded']);
    expect(sources[0]!.description).toBeTruthy();
    expect(await sources[0]!.read()).toEqual([
      { labels: { component: 'database' }, value: 0 },
      { labels: { component: 'search' }, value: 1 },
      { labels: { component: 'payments' }, value: 2 },
      { labels: { component: 'slow' }, value: 2 },
    ]);
  });

  it('reads degraded components as 1 in health.degraded, leaving out the ones excepted', async () => {
    const registry = new HealthRegistry({ cacheMs: 0 });
    registry.register('database', () => true);
    registry.register('search', () => 'degraded');
    registry.register('payments', () => false);
    registry.register('breaker:payments', () => 'degraded', { critical: false });
    const [, degraded] = healthSources(() => registry.check(), {
      degradedExcept: (name) => name.startsWith('breaker:'),
    });
    expect(await degraded!.read()).toEqual([
      { labels: { component: 'database' }, value: 0 },
      { labels: { component: 'search' }, value: 1 },
      { labels: { component: 'payments' }, value: 0 },
    ]);
  });

  it('follows the report as it changes', async () => {
    const registry = new HealthRegistry({ cacheMs: 0 });
    let up = false;
    registry.register('redis', () => up);
    const [status] = healthSources(() => registry.check());
    expect(await status!.read()).toEqual([{ labels: { component: 'redis' }, value: 2 }]);
    up = true;
    expect(await status!.read()).toEqual([{ labels: { component: 'redis' }, value: 0 }]);
  });

  it('rejects a read when the report cannot be had', async () => {
    const [status] = healthSources(() => Promise.reject(new Error('no checks')));
    await expect(status!.read()).rejects.toThrow('no checks');
  });
});
