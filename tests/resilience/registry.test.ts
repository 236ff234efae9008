import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createCache, createEnterprise, InvalidArgumentError } from '../../src/index.js';
import {
  BreakerRegistry,
  type BreakerStateChange,
  circuitBreaker,
  defaultBreakerRegistry,
  HealthRegistry,
  health,
} from '../../src/resilience/index.js';
import { FaultTier } from '../cache/fault-tier.js';

const boom = () => Promise.reject(new Error('boom'));
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('BreakerRegistry', () => {
  it('lists its breakers by name with their state and counts', async () => {
    const registry = new BreakerRegistry();
    const b = circuitBreaker('b-payments', { registry, consecutiveFailures: 1 });
    circuitBreaker('a-search', { registry });
    await b.execute(boom).catch(() => {});
    const list = registry.list();
    expect(list.map((s) => [s.name, s.state])).toEqual([
      ['a-search', 'closed'],
      ['b-payments', 'open'],
    ]);
    expect(list[1]).toMatchObject({
      counts: { failure: 1 },
      lastChange: { from: 'closed', to: 'open', reason: 'consecutive-failures' },
    });
    expect(typeof list[1]!.retryAt).toBe('string');
  });

  it('replaces a breaker added again under the same name; the old removal then does nothing', () => {
    const registry = new BreakerRegistry();
    const first = circuitBreaker('dep', { registry: false });
    const second = circuitBreaker('dep', { registry: false });
    const removeFirst = registry.add(first);
    registry.add(second);
    expect(registry.get('dep')).toBe(second);
    removeFirst();
    expect(registry.get('dep')).toBe(second);
    expect(registry.remove('dep')).toBe(true);
    expect(registry.size).toBe(0);
  });

  it('reports every change of state of its breakers, and stops once one is removed', async () => {
    const registry = new BreakerRegistry();
    const changes: BreakerStateChange[] = [];
    registry.on('state-change', (change) => changes.push(change));
    const breaker = circuitBreaker('dep', {
      registry,
      consecutiveFailures: 1,
      halfOpenAfterMs: 1,
    });
    await breaker.execute(boom).catch(() => {});
    await sleep(5);
    await breaker.execute(async () => 1);
    expect(changes.map(({ breaker, to, reason }) => [breaker, to, reason])).toEqual([
      ['dep', 'open', 'consecutive-failures'],
      ['dep', 'half-open', 'half-open-after'],
      ['dep', 'closed', 'trial-succeeded'],
    ]);
    registry.remove('dep');
    breaker.open();
    expect(changes).toHaveLength(3);
  });

  it('exports Prometheus families: state 0/1/2, calls by outcome, openings', async () => {
    const registry = new BreakerRegistry();
    const breaker = circuitBreaker('dep', { registry, consecutiveFailures: 1 });
    await breaker.execute(async () => 1);
    await breaker.execute(boom).catch(() => {});
    await breaker.execute(async () => 1).catch(() => {});
    const families = registry.metrics('app_');
    const byName = new Map(families.map((f) => [f.name, f]));
    expect([...byName.keys()]).toEqual([
      'app_circuit_state',
      'app_circuit_calls_total',
      'app_circuit_opens_total',
    ]);
    expect(byName.get('app_circuit_state')!.samples).toEqual([
      { name: 'app_circuit_state', labels: { breaker: 'dep' }, value: 2 },
    ]);
    const calls = Object.fromEntries(
      byName.get('app_circuit_calls_total')!.samples.map((s) => [s.labels.outcome, s.value]),
    );
    expect(calls).toEqual({
      success: 1,
      failure: 1,
      timeout: 0,
      rejected: 1,
      ignored: 0,
      fallback: 0,
    });
    expect(byName.get('app_circuit_opens_total')!.samples[0]!.value).toBe(1);
    expect(new BreakerRegistry().metrics('x_').map((f) => f.samples.length)).toEqual([0, 0, 0]);
  });

  it('gives one health component per breaker: ok while closed, degraded while open, never critical', async () => {
    const registry = new BreakerRegistry();
    const open = circuitBreaker('payments', { registry, consecutiveFailures: 1 });
    circuitBreaker('search', { registry });
    await open.execute(boom).catch(() => {});
    const checks = new HealthRegistry();
    checks.addProbe('circuit-breakers', registry.healthProbe());
    const report = await checks.check();
    expect(report.status).toBe('degraded');
    expect(report.components.map(({ name, status, critical }) => [name, status, critical])).toEqual(
      [
        ['breaker:payments', 'degraded', false],
        ['breaker:search', 'ok', false],
      ],
    );
    expect(report.components[0]!.message).toMatch(/circuit open \(consecutive-failures\)/);
    expect(report.components[0]!.details).toMatchObject({ state: 'open', breaker: 'payments' });
  });
});

describe('the process registry and the cache', () => {
  it('lists the remote tiers of a cache as cache.<tier> until the cache is closed', async () => {
    const remote = new FaultTier('fault-listed');
    const cache = createCache({
      tiers: [remote],
      logger: silent,
      bus: false,
      remote: { failureThreshold: 1, timeoutMs: 100 },
    });
    expect(defaultBreakerRegistry().get('cache.fault-listed')).toBeDefined();
    remote.failWith = new Error('down');
    await cache.get('k');
    expect(defaultBreakerRegistry().get('cache.fault-listed')?.state).toBe('open');
    await cache.close();
    expect(defaultBreakerRegistry().get('cache.fault-listed')).toBeUndefined();
  });

  it('an instance exports the process breakers in its Prometheus text', async () => {
    const enterprise = createEnterprise({ env: {}, logLevel: 'silent' });
    circuitBreaker('prometheus-listed');
    const text = await enterprise.performance.toPrometheus();
    expect(text).toContain('# TYPE enterprise_circuit_state gauge');
    expect(text).toContain('enterprise_circuit_state{breaker="prometheus-listed"} 0');
    expect(text).toContain(
      'enterprise_circuit_calls_total{breaker="prometheus-listed",outcome="success"} 0',
    );
    defaultBreakerRegistry().remove('prometheus-listed');
    await enterprise.shutdown();
  });
});

describe('health.register: the application checks', () => {
  const removals: (() => void)[] = [];
  afterAll(() => {
    for (const remove of removals) remove();
  });

  it('runs each check under its own timeout, critical unless said otherwise; readiness follows the critical ones', async () => {
    const registry = new HealthRegistry({ cacheMs: 0, timeoutMs: 1_000 });
    registry.register('payments', () => new Promise(() => {}), { timeout: '50ms' });
    registry.register('search', () => false, { critical: false });
    registry.register('db', async () => true, { timeoutMs: 200 });
    const started = performance.now();
    const readiness = await registry.readiness();
    expect(performance.now() - started).toBeLessThan(900);
    expect(readiness).toMatchObject({ ready: false, status: 'down', failing: ['payments'] });
    const report = await registry.check();
    expect(report.components.find((c) => c.name === 'payments')!.message).toBe(
      'no answer within 50 ms',
    );
    expect(report.components.find((c) => c.name === 'search')).toMatchObject({
      status: 'down',
      critical: false,
    });
  });

  it('is ready when only non-critical checks fail', async () => {
    const registry = new HealthRegistry({ cacheMs: 0 });
    registry.register('search', () => 'down', { critical: false });
    await expect(registry.readiness()).resolves.toMatchObject({
      ready: true,
      status: 'degraded',
      failing: [],
    });
  });

  it('refuses an invalid timeout or name, naming it', () => {
    const registry = new HealthRegistry();
    expect(() => registry.register('x', () => true, { timeout: 'soon' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => registry.register('x', () => true, { timeoutMs: 0 })).toThrow(/x\.timeoutMs/);
    expect(() => registry.register('', () => true)).toThrow(InvalidArgumentError);
  });

  it('the process health registry holds the application checks and the breakers of the process', async () => {
    removals.push(
      health.register('app-dependency', async () => ({ status: 'degraded', message: 'slow' })),
    );
    const breaker = circuitBreaker('health-listed', { consecutiveFailures: 1 });
    await breaker.execute(boom).catch(() => {});
    const report = await health.check(0);
    const names = report.components.map((c) => c.name);
    expect(names).toContain('app-dependency');
    expect(names).toContain('breaker:health-listed');
    const outer = new HealthRegistry({ cacheMs: 0 });
    outer.addProbe('application', health.asProbe());
    const combined = await outer.check();
    expect(combined.components.find((c) => c.name === 'app-dependency')).toMatchObject({
      status: 'degraded',
      critical: true,
    });
    defaultBreakerRegistry().remove('health-listed');
  });
});
