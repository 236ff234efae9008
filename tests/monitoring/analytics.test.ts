import { afterEach, describe, expect, it } from 'vitest';
import {
  type EnterpriseAnalyticsOptions,
  type EnterpriseOptions,
  getEnterprise,
} from '../../src/index.js';
import { createMonitoringRouter, type MonitoringRouter } from '../../src/monitoring/index.js';
import { AUTH, call, conforms, json, manualClock, TOKEN, testEnterprise } from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const HASH_KEY = 'a-test-hash-key-of-32-characters';

/** An instance composed by `createEnterprise` on a manual clock, and a router over it. */
function setup(options: EnterpriseOptions = {}) {
  const clock = manualClock();
  const enterprise = testEnterprise({ alerts: false, clock, ...options });
  const router = createMonitoringRouter({ enterprise, auth: TOKEN });
  cleanup.push(async () => {
    await router.close();
    await enterprise.shutdown();
  });
  return { enterprise, router, clock };
}

const get = (router: MonitoringRouter, path: string) => call(router, path, { headers: AUTH });

async function openapi(router: MonitoringRouter) {
  return json(await get(router, '/openapi.json'));
}

/** The 200 schema of `path` in the document. */
function schemaOf(doc: any, path: string) {
  return doc.paths[path].get.responses['200'].content['application/json'].schema;
}

const ANALYTICS: EnterpriseAnalyticsOptions = {
  hashKey: HASH_KEY,
  funnels: { checkout: { steps: ['view', 'cart', 'pay'], within: '1h' } },
};

describe('composition', () => {
  it('builds analytics and history at start() when analytics options are given', async () => {
    const { enterprise } = setup({ analytics: ANALYTICS });
    expect(enterprise.peek('analytics')).toBeUndefined();
    expect(enterprise.peek('history')).toBeUndefined();
    await enterprise.start();
    expect(enterprise.peek('analytics')).toBe(enterprise.analytics);
    expect(enterprise.history.status()).toMatchObject({ running: true, store: 'memory' });
    expect(enterprise.analytics.stats().hashKey).toBe('option');
  });

  it('leaves the history out of start() with history: false, and builds nothing without options', async () => {
    const off = setup({ analytics: { ...ANALYTICS, history: false } });
    await off.enterprise.start();
    expect(off.enterprise.peek('analytics')).toBeDefined();
    expect(off.enterprise.peek('history')).toBeUndefined();
    const none = setup();
    await none.enterprise.start();
    expect(none.enterprise.peek('analytics')).toBeUndefined();
    expect(none.enterprise.peek('history')).toBeUndefined();
  });

  it('reads ANALYTICS_HASH_KEY from the instance environment', () => {
    const { enterprise } = setup({ env: { ANALYTICS_HASH_KEY: HASH_KEY } });
    expect(enterprise.analytics.stats().hashKey).toBe('env');
  });

  it('names a bad option at creation', () => {
    expect(() => testEnterprise({ analytics: { flushInterval: 'soon' as '1s' } })).toThrow(
      expect.objectContaining({
        code: 'E_ANALYTICS_CONFIG',
        context: expect.objectContaining({ field: 'flushInterval' }),
      }),
    );
    expect(() => testEnterprise({ analytics: { history: { store: 'disk' as 'memory' } } })).toThrow(
      expect.objectContaining({ code: 'E_ANALYTICS_CONFIG' }),
    );
    expect(() => testEnterprise({ analytics: { history: { store: 'redis' } } })).toThrow(
      expect.objectContaining({ context: expect.objectContaining({ field: 'history.redisUrl' }) }),
    );
    expect(() => testEnterprise({ analytics: { history: { store: 'postgres' } } })).toThrow(
      expect.objectContaining({
        context: expect.objectContaining({ field: 'history.connectionString' }),
      }),
    );
    // A shared store needs a key every instance has.
    expect(() =>
      testEnterprise({ analytics: { store: 'redis', redisUrl: 'redis://127.0.0.1:1' } }),
    ).toThrow(expect.objectContaining({ code: 'E_ANALYTICS_CONFIG' }));
  });

  it('is in the root entry and the default instance', () => {
    expect(typeof getEnterprise().peek).toBe('function');
  });
});

describe('GET /performance/history', () => {
  it("answers an operation's minutes with exact percentiles, and figures with `metric`", async () => {
    const { enterprise, router, clock } = setup({ analytics: ANALYTICS });
    await enterprise.start();
    const history = enterprise.history;
    for (let i = 1; i <= 100; i++) {
      enterprise.performance.record('GET /users', i, { labels: { status_class: '2xx' } });
    }
    enterprise.performance.record('GET /users', 500, { labels: { status_class: '5xx' } });
    const start = clock.epochNow() - (clock.epochNow() % 60_000);
    clock.advance(60_000);
    await history.recorder.tick();

    const from = start - 60_000;
    const to = start + 120_000;
    const response = await get(
      router,
      `/performance/history?operation=${encodeURIComponent('GET /users')}&from=${from}&to=${to}&step=1m`,
    );
    expect(response.status).toBe(200);
    const series = await json(response);
    expect(series).toMatchObject({ operation: 'GET /users', stepMs: 60_000, resolution: 'minute' });
    const point = series.points.find((p: any) => p.at === start);
    expect(point).toMatchObject({ count: 101 });
    expect(point.p50).toBeGreaterThan(49);
    expect(point.p50).toBeLessThan(52);

    // Labels as k=v pairs or as JSON select the same label sets.
    for (const labels of ['status_class=2xx', '{"status_class":"2xx"}']) {
      const only = await json(
        await get(
          router,
          `/performance/history?operation=GET%20/users&labels=${encodeURIComponent(labels)}&from=${from}&to=${to}`,
        ),
      );
      expect(only.points.find((p: any) => p.at === start).count).toBe(100);
    }

    const doc = await openapi(router);
    expect(conforms(doc, series, schemaOf(doc, '/performance/history'))).toEqual([]);

    const heap = await json(
      await get(
        router,
        `/performance/history?metric=system.memory.heap_used&from=${from}&to=${to}`,
      ),
    );
    expect(heap.metric).toBe('system.memory.heap_used');
    expect(conforms(doc, heap, schemaOf(doc, '/performance/history'))).toEqual([]);
  });

  it('answers 400 naming each bad parameter', async () => {
    const { enterprise, router, clock } = setup({ analytics: ANALYTICS });
    await enterprise.start();
    enterprise.performance.record('op', 1);
    clock.advance(60_000);
    await enterprise.history.recorder.tick();
    const now = clock.epochNow();
    const cases: [string, string][] = [
      ['', 'operation'],
      ['operation=op&metric=m', 'operation'],
      ['operation=nope', 'operation'],
      ['operation=op&labels=oops', 'labels'],
      ['operation=op&labels=%7Bbad', 'labels'],
      ['operation=op&labels=region%3Dmars', 'labels'],
      [`operation=op&from=yesterday&to=${now}`, 'from'],
      ['operation=op&to=later', 'to'],
      [`operation=op&from=${now}&to=${now - 60_000}`, 'to'],
      ['operation=op&step=7s', 'step'],
      [`operation=op&from=${now - 3_600_000}&to=${now}&step=fast`, 'step'],
    ];
    for (const [query, field] of cases) {
      const response = await get(router, `/performance/history?${query}`);
      expect(response.status, query).toBe(400);
      const body = await json(response);
      expect(body.error, query).toMatchObject({ code: 'E_BAD_REQUEST', field });
    }
  });
});

describe('GET /analytics/*', () => {
  async function tracked() {
    const setupResult = setup({ analytics: ANALYTICS });
    const { enterprise } = setupResult;
    await enterprise.start();
    const analytics = enterprise.analytics;
    for (const user of ['ada', 'bob', 'cy']) analytics.track('view', { userId: user });
    for (const user of ['ada', 'bob']) analytics.track('cart', { userId: user });
    analytics.track('pay', { userId: 'ada' });
    await analytics.flush();
    return setupResult;
  }

  it('answers the overview, events, funnels and retention as documented', async () => {
    const { router } = await tracked();
    const doc = await openapi(router);

    const overview = await json(await get(router, '/analytics/overview'));
    expect(overview.activeUsers).toMatchObject({ day: 3, week: 3, month: 3 });
    expect(overview.funnels).toEqual(['checkout']);
    expect(overview.pipeline).toMatchObject({ tracked: 6, written: 6 });
    expect(conforms(doc, overview, schemaOf(doc, '/analytics/overview'))).toEqual([]);

    const events = await json(await get(router, '/analytics/events?step=day&events=view,pay'));
    expect(events.series.map((s: any) => [s.event, s.total])).toEqual([
      ['view', 3],
      ['pay', 1],
    ]);
    expect(events.total).toBe(6);
    expect(conforms(doc, events, schemaOf(doc, '/analytics/events'))).toEqual([]);

    const funnels = await json(await get(router, '/analytics/funnels'));
    expect(funnels.funnels[0].steps.map((s: any) => s.users)).toEqual([3, 2, 1]);
    expect(conforms(doc, funnels, schemaOf(doc, '/analytics/funnels'))).toEqual([]);
    const one = await json(await get(router, '/analytics/funnels?funnel=checkout'));
    expect(one.funnels).toHaveLength(1);

    const retention = await json(await get(router, '/analytics/retention?weeks=4'));
    expect(retention.weeks).toBe(4);
    expect(retention.cohorts.at(-1).size).toBe(3);
    expect(conforms(doc, retention, schemaOf(doc, '/analytics/retention'))).toEqual([]);
  });

  it('answers 400 naming each bad parameter', async () => {
    const { router } = await tracked();
    const cases: [string, string][] = [
      ['/analytics/events?from=whenever', 'from'],
      ['/analytics/events?to=later', 'to'],
      ['/analytics/events?from=2030-01-01&to=2029-01-01', 'from'],
      ['/analytics/events?step=week', 'step'],
      ['/analytics/events?limit=0', 'limit'],
      ['/analytics/events?limit=many', 'limit'],
      ['/analytics/funnels?funnel=signup', 'funnel'],
      ['/analytics/funnels?from=x', 'from'],
      ['/analytics/retention?weeks=99', 'weeks'],
      ['/analytics/retention?to=x', 'to'],
    ];
    for (const [path, field] of cases) {
      const response = await get(router, path);
      expect(response.status, path).toBe(400);
      expect((await json(response)).error, path).toMatchObject({ code: 'E_BAD_REQUEST', field });
    }
  });
});

describe('not built', () => {
  it('answers 501 E_MODULE_NOT_ENABLED, and a GET does not build the module', async () => {
    const { enterprise, router } = setup({ analytics: ANALYTICS });
    for (const path of [
      '/performance/history?operation=op',
      '/analytics/overview',
      '/analytics/events',
      '/analytics/funnels',
      '/analytics/retention',
    ]) {
      const response = await get(router, path);
      expect(response.status, path).toBe(501);
      expect((await json(response)).error.code).toBe('E_MODULE_NOT_ENABLED');
    }
    expect(enterprise.peek('analytics')).toBeUndefined();
    expect(enterprise.peek('history')).toBeUndefined();
    const info = await json(await get(router, '/info'));
    expect(info.modules).toMatchObject({ analytics: false, history: false });
    await enterprise.start();
    const started = await json(await get(router, '/info'));
    expect(started.modules).toMatchObject({ analytics: true, history: true });
  });

  it('requires the router auth', async () => {
    const { enterprise, router } = setup({ analytics: ANALYTICS });
    await enterprise.start();
    for (const path of ['/performance/history?operation=op', '/analytics/overview']) {
      expect((await call(router, path)).status).toBe(401);
    }
  });
});
