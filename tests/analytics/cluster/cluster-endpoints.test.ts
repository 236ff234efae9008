// ?scope=cluster on every summary endpoint, against real Redis: the deployment's history (rollups
// of two instances merged, and each one's), cache and task counters summed, the answers matching
// the OpenAPI document; and the refusals (no cluster view, an unknown scope).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MinuteRollup } from '../../../src/analytics/index.js';
import { ClusterView } from '../../../src/analytics/index.js';
import { createMonitoringRouter, type MonitoringRouter } from '../../../src/monitoring/index.js';
import { AUTH, call, conforms, json, TOKEN, testEnterprise } from '../../monitoring/helpers.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { silent } from '../history/helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const get = (router: MonitoringRouter, path: string) => call(router, path, { headers: AUTH });

async function conformsToDocument(router: MonitoringRouter, path: string, body: unknown) {
  const doc = await json(await get(router, '/openapi.json'));
  const schema = doc.paths[path].get.responses['200'].content['application/json'].schema;
  return conforms(doc, body, schema);
}

describe('scope refused', () => {
  it('answers 400 E_CLUSTER_NOT_CONFIGURED naming scope without a cluster view, and 400 for another scope', async () => {
    const enterprise = testEnterprise({ alerts: false });
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(
      () => router.close(),
      () => enterprise.shutdown(),
    );
    for (const path of [
      '/performance/summary',
      '/cache/analytics',
      '/tasks/monitoring',
      '/performance/history?operation=x',
    ]) {
      const sep = path.includes('?') ? '&' : '?';
      const response = await get(router, `${path}${sep}scope=cluster`);
      expect(response.status, path).toBe(400);
      const body = await json(response);
      expect(body.error).toMatchObject({ code: 'E_CLUSTER_NOT_CONFIGURED', field: 'scope' });
      expect(body.error.message).toContain('REDIS_URL');
      const other = await get(router, `${path}${sep}scope=galaxy`);
      expect(other.status).toBe(400);
      expect((await json(other)).error).toMatchObject({ code: 'E_BAD_REQUEST', field: 'scope' });
    }
    // scope=instance is the default answer.
    expect((await get(router, '/performance/summary?scope=instance')).status).toBe(200);
  });

  it('refuses analytics.cluster without any Redis when the instance is created', () => {
    expect(() => testEnterprise({ analytics: { cluster: {} } })).toThrow(/cluster\.redisUrl/);
  });
});

describe.runIf(requires(redis))('scope=cluster on real Redis', () => {
  let admin: Redis;
  const prefix = `test:cluster:${randomUUID()}`;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await admin.quit();
  });

  function instance(id: string) {
    const enterprise = testEnterprise({
      redisUrl: REDIS_URL,
      alerts: false,
      analytics: { history: {}, cluster: { prefix, instanceId: id, heartbeatIntervalMs: 200 } },
    });
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(
      () => router.close(),
      () => enterprise.shutdown(),
    );
    return { enterprise, router };
  }

  it('answers the deployment history merged from both instances, and each one', async () => {
    const a = instance('a');
    const b = instance('b');
    expect((await json(await get(a.router, '/info'))).modules.cluster).toBe(false);
    await Promise.all([a.enterprise.start(), b.enterprise.start()]);
    expect((await json(await get(a.router, '/info'))).modules.cluster).toBe(true);
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const rollup = (id: string, micros: number[]): MinuteRollup => ({
      id: `${id}:${at}:0`,
      at,
      operations: [
        {
          name: 'GET /users',
          labels: { status_class: '2xx' },
          count: micros.length,
          errors: 0,
          slow: 0,
          sumMs: micros.reduce((s, m) => s + m / 1000, 0),
          // Below 256 µs buckets are exact: index = value.
          histogram: { indexes: micros, counts: micros.map(() => 1) },
        },
      ],
      metrics: [{ name: 'cache.hits', labels: {}, samples: 1, sum: micros.length, min: 1, max: 1 }],
    });
    // Through the history's store: the copy goes to the deployment's history.
    await a.enterprise.history.store.write(rollup('a', [10, 20, 30]));
    await b.enterprise.history.store.write(rollup('b', [200, 210]));
    // Written again (a retry): counted once.
    await b.enterprise.history.store.write(rollup('b', [200, 210]));

    const path = `/performance/history?operation=${encodeURIComponent('GET /users')}&from=${at}&to=${at + 60_000}&step=1m`;
    const own = await json(await get(a.router, path));
    expect(own.points[0].count).toBe(3);
    const response = await get(a.router, `${path}&scope=cluster`);
    expect(response.status).toBe(200);
    const series = await json(response);
    expect(series.scope).toBe('cluster');
    expect(series.points[0]).toMatchObject({ count: 5, p50: 0.03, maxMs: 0.21 });
    expect(
      series.byInstance.map((i: { instance: string; points: { count: number }[] }) => [
        i.instance,
        i.points[0]!.count,
      ]),
    ).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
    expect(await conformsToDocument(a.router, '/performance/history', series)).toEqual([]);

    const metric = await json(
      await get(
        b.router,
        `/performance/history?metric=cache.hits&from=${at}&to=${at + 60_000}&step=1m&scope=cluster`,
      ),
    );
    expect(metric.points[0].sum).toBe(5);
    expect(metric.byInstance).toHaveLength(2);
    expect(await conformsToDocument(a.router, '/performance/history', metric)).toEqual([]);

    // An unknown operation is still a 400 naming it.
    const unknown = await get(a.router, `/performance/history?operation=nope&scope=cluster`);
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error.field).toBe('operation');
  });

  it('sums cache and task counters over the instances alive', async () => {
    const a = instance('c1');
    const b = instance('c2');
    await Promise.all([a.enterprise.start(), b.enterprise.start()]);
    await a.enterprise.cache.set('k', 1, { namespace: 'users' });
    await a.enterprise.cache.get('k', { namespace: 'users' });
    await a.enterprise.cache.get('missing', { namespace: 'users' });
    await b.enterprise.cache.get('k2', { namespace: 'users' });
    await Promise.all([a.enterprise.cluster.heartbeat(), b.enterprise.cluster.heartbeat()]);

    const cache = await json(await get(a.router, '/cache/analytics?scope=cluster'));
    expect(cache.instances.map((i: { id: string }) => i.id)).toEqual(['c1', 'c2']);
    expect(cache).toMatchObject({ scope: 'cluster', enabled: true, hits: 1, misses: 2 });
    expect(cache.namespaces.users).toMatchObject({ hits: 1, misses: 2 });
    expect(
      cache.byInstance.map((i: { instance: string; misses: number }) => [i.instance, i.misses]),
    ).toEqual([
      ['c1', 1],
      ['c2', 1],
    ]);
    expect(await conformsToDocument(a.router, '/cache/analytics', cache)).toEqual([]);

    const tasks = await json(await get(b.router, '/tasks/monitoring?scope=cluster'));
    expect(tasks).toMatchObject({ scope: 'cluster', totals: { completed: 0 } });
    expect(tasks.instances[0].id).toBe('c2');
    expect(await conformsToDocument(b.router, '/tasks/monitoring', tasks)).toEqual([]);

    // A graceful shutdown withdraws the instance at once.
    await a.enterprise.shutdown();
    const left = await json(await get(b.router, '/performance/summary?scope=cluster'));
    expect(left.instances.map((i: { id: string }) => i.id)).toEqual(['c2']);
  });

  it('never rejects a heartbeat while Redis is unreachable, and answers 503 to a cluster read', async () => {
    const view = new ClusterView({
      url: 'redis://127.0.0.1:1',
      prefix,
      commandTimeoutMs: 200,
      logger: silent,
    });
    cleanup.push(() => view.stop());
    await expect(view.heartbeat()).resolves.toBeUndefined();
    await expect(view.instances()).rejects.toMatchObject({ code: 'E_CLUSTER_UNAVAILABLE' });
  });
});
