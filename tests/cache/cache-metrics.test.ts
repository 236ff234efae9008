import { execFileSync } from 'node:child_process';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createEnterprise, registerPrometheus } from '../../src/index.js';
import { promtool, requires } from '../support/requirements.js';

async function busyEnterprise() {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
  });
  await enterprise.cache.set('k', 'x'.repeat(3_000), { namespace: 'products' });
  await enterprise.cache.get('k', { namespace: 'products' });
  await enterprise.cache.get('missing', { namespace: 'products' });
  await enterprise.cache.getOrSet('loaded', () => 1, { namespace: 'products' });
  return enterprise;
}

describe('cache metrics in the performance registry', () => {
  it('exposes hits, misses and loader calls per namespace and tier health per tier', async () => {
    const enterprise = await busyEnterprise();
    const text = enterprise.performance.toPrometheus();
    expect(text).toContain('enterprise_cache_hits_total{namespace="products"} 1');
    expect(text).toContain('enterprise_cache_misses_total{namespace="products"} 2');
    expect(text).toContain('enterprise_cache_loader_calls_total{namespace="products"} 1');
    expect(text).toContain('enterprise_cache_tier_hits_total{tier="memory"} 1');
    expect(text).toContain('# TYPE enterprise_cache_tier_circuit_open gauge');
    await enterprise.shutdown();
  });

  it('announces the cache families before the cache is first used, so prom-client registers them', async () => {
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { systemMetrics: false },
    });
    const registry = new client.Registry();
    registerPrometheus(enterprise.performance, registry);
    await enterprise.cache.set('k', 1);
    await enterprise.cache.get('k');
    const text = await registry.metrics();
    expect(text).toContain('enterprise_cache_hits_total{namespace="default"} 1');
    await enterprise.shutdown();
  });

  describe.runIf(requires(promtool))('promtool', () => {
    it('accepts the exposition with the cache metrics without a single problem', async () => {
      const enterprise = await busyEnterprise();
      const text = enterprise.performance.toPrometheus();
      const output = execFileSync('promtool', ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
      });
      expect(output.trim()).toBe('');
      await enterprise.shutdown();
    });
  });
});
