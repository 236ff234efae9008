import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryTier } from '../../src/cache/tiers/memory.js';
import { postgresTier } from '../../src/cache/tiers/postgres.js';
import { redisTier } from '../../src/cache/tiers/redis.js';
import type { Enterprise } from '../../src/index.js';
import { createMonitoringRouter, type MonitoringRouter } from '../../src/monitoring/index.js';
import { POSTGRES_URL, postgres, REDIS_URL, redis, requires } from '../support/requirements.js';
import { AUTH, call, closedPort, json, TOKEN, testEnterprise } from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function routerFor(
  enterprise: Enterprise,
  options: Parameters<typeof createMonitoringRouter>[0] = {},
) {
  const router: MonitoringRouter = createMonitoringRouter({ enterprise, auth: TOKEN, ...options });
  cleanup.push(async () => {
    await router.close();
    await enterprise.shutdown();
  });
  return router;
}

async function health(router: MonitoringRouter) {
  const response = await call(router, '/health', { headers: AUTH });
  const body = await json(response);
  const byName = Object.fromEntries(
    body.components.map((c: { name: string }) => [c.name, c]),
  ) as Record<string, { status: string; critical: boolean; message?: string; details?: any }>;
  return { status: response.status, body, byName };
}

describe('health of a cache on Redis that is down', () => {
  it('reports redis down and the service degraded within a bounded time', async () => {
    const port = await closedPort();
    const tier = redisTier({ url: `redis://127.0.0.1:${port}`, prefix: `mon-${randomUUID()}` });
    cleanup.push(() => tier.close());
    const enterprise = testEnterprise({ cache: { tiers: [memoryTier(), tier] } });
    const router = routerFor(enterprise, { health: { timeoutMs: 1000, cacheMs: 0 } });
    // Not built yet: the cache's dependencies are not part of the service's health.
    const unused = await health(router);
    expect(unused.body.status).toBe('ok');
    expect(unused.byName.redis).toBeUndefined();
    enterprise.cache;
    const started = performance.now();
    const { status, body, byName } = await health(router);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2_500);
    // The cache falls back to memory: the service works, degraded; Redis itself is down.
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(byName.redis).toMatchObject({ status: 'down', critical: false });
    expect(byName.redis!.details).toMatchObject({ source: 'cache', tier: 'redis' });
    expect(byName.redis!.message).toBeTruthy();

    // Made critical, the same outage is a 503.
    const strict = routerFor(enterprise, { health: { cacheMs: 0, critical: ['redis'] } });
    const again = await health(strict);
    expect(again.status).toBe(503);
    expect(again.body.status).toBe('down');
    // Readiness follows: started, but a critical dependency is down.
    await enterprise.start();
    const ready = await call(strict, '/health/ready');
    expect(ready.status).toBe(503);
    expect(await json(ready)).toEqual({
      status: 'not-ready',
      reason: 'a critical dependency is down',
    });
  });

  it('probes without touching hit ratios or namespaces', async () => {
    const port = await closedPort();
    const tier = redisTier({ url: `redis://127.0.0.1:${port}`, prefix: `mon-${randomUUID()}` });
    cleanup.push(() => tier.close());
    const enterprise = testEnterprise({ cache: { tiers: [memoryTier(), tier] } });
    enterprise.cache;
    const router = routerFor(enterprise, { health: { timeoutMs: 300, cacheMs: 0 } });
    await health(router);
    await health(router);
    const analytics = enterprise.cache.analytics();
    expect(analytics.hits + analytics.misses).toBe(0);
    expect(Object.keys(analytics.namespaces)).toEqual([]);
  });
});

describe.skipIf(!requires(redis))('health of a cache on a reachable Redis', () => {
  it('reports redis ok', async () => {
    const tier = redisTier({ url: REDIS_URL, prefix: `mon-${randomUUID()}` });
    cleanup.push(() => tier.close());
    const enterprise = testEnterprise({ cache: { tiers: [memoryTier(), tier] } });
    enterprise.cache;
    const router = routerFor(enterprise);
    const { status, body, byName } = await health(router);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(byName.redis).toMatchObject({ status: 'ok', details: { circuit: 'closed' } });
    expect((byName.redis as { latencyMs?: number }).latencyMs).toBeGreaterThanOrEqual(0);
  });
});

describe.skipIf(!requires(postgres))('health of a SQL cache tier', () => {
  it('reports the database component', async () => {
    const table = `mon_health_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    cleanup.push(async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    });
    const enterprise = testEnterprise({
      cache: { tiers: [memoryTier(), postgresTier({ pool, table })] },
    });
    enterprise.cache;
    const router = routerFor(enterprise, { health: { timeoutMs: 3000 } });
    const { byName } = await health(router);
    expect(byName.database).toMatchObject({
      status: 'ok',
      details: { source: 'cache', tier: 'postgres' },
    });
  });
});

describe('event loop and custom checks', () => {
  it('reports the event-loop delay against the thresholds once sampled', async () => {
    const enterprise = testEnterprise({ performance: { systemMetrics: { intervalMs: 100 } } });
    const router = routerFor(enterprise, {
      health: { cacheMs: 0, eventLoop: { degradedMs: 5, downMs: 10_000 } },
    });
    const before = await health(router);
    expect(before.byName['event-loop']).toMatchObject({ status: 'ok' });
    await enterprise.start();
    // Block the loop for 60 ms so the sampler sees a delay above the 5 ms threshold.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const end = performance.now() + 60;
    while (performance.now() < end) {
      // busy
    }
    // The next sample (every 100 ms) covers the blocked period: poll until it is taken.
    let after = await health(router);
    for (let i = 0; i < 50 && after.byName['event-loop']!.status === 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await health(router);
    }
    expect(after.byName['event-loop']).toMatchObject({ status: 'degraded' });
    expect(after.byName['event-loop']!.details.delayP99Ms).toBeGreaterThanOrEqual(5);
    expect(after.body.status).toBe('degraded');
  });

  it('shares one round of checks between concurrent callers and caches it for cacheMs', async () => {
    let calls = 0;
    const enterprise = testEnterprise();
    const router = routerFor(enterprise, {
      health: {
        cacheMs: 10_000,
        checks: {
          counted: async () => {
            calls++;
            await new Promise((resolve) => setTimeout(resolve, 20));
            return true;
          },
        },
      },
    });
    await Promise.all([health(router), health(router), health(router)]);
    await health(router);
    expect(calls).toBe(1);
  });
});
