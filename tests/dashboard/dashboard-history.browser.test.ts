// The dashboard's time ranges and scope in headless Chromium: every view's charts read from the
// metrics history over 1 h (cache hit ratio per tier and namespace, queue depth, throughput and dead
// letters, memory, request latency), the Cluster scope lists the instances alive and reads the
// deployment's history, and without a cluster view the page says what to configure.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterView, type MinuteRollup } from '../../src/analytics/index.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { chromiumAvailable } from '../support/browser.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import {
  cspContext,
  cspViolations,
  type ExpectedFailure,
  useChromium,
  watch,
} from './browser-page.js';
import { serveDashboard } from './dashboard-server.js';

const POLL = { timeout: 15_000 };
const MINUTE = 60_000;

interface App {
  url: string;
  enterprise: Enterprise;
  close: () => Promise<void>;
}

async function startApp(cluster: { prefix: string } | undefined): Promise<App> {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    alerts: false,
    tasks: { backend: memoryTaskBackend() },
    ...(cluster === undefined ? {} : { redisUrl: REDIS_URL }),
    analytics: {
      history: {},
      ...(cluster === undefined
        ? {}
        : { cluster: { prefix: cluster.prefix, heartbeatIntervalMs: 500 } }),
    },
  });
  await enterprise.start();
  // Known tiers, namespaces and queues: the stream names them, the history charts ask for them.
  await enterprise.cache.set('user:1', { id: 1 }, { namespace: 'users' });
  await enterprise.cache.get('user:1', { namespace: 'users' });
  enterprise.tasks.register('send-mail', () => undefined);
  await enterprise.tasks.submit('send-mail', {}, { queue: 'emails', delay: 3600 });
  await writeHistory(enterprise);
  const { url, close } = await serveDashboard(enterprise, {
    realtimeIntervalMs: 500,
    public: true,
    handler: (_req, res) => {
      res.statusCode = 404;
      res.end();
    },
    shutdown: true,
  });
  return { url, enterprise, close };
}

/** Forty minutes of history, as the recorder would have written them, through the instance's store. */
async function writeHistory(enterprise: Enterprise) {
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  for (let m = 40; m >= 1; m--) {
    const at = now - m * MINUTE;
    const rollup: MinuteRollup = {
      id: `test:${at}`,
      at,
      operations: [
        {
          name: 'http.request',
          labels: { route: '/users/:id' },
          count: 60,
          errors: 1,
          slow: 0,
          sumMs: 60 * (m % 5),
          histogram: { indexes: [100 + m], counts: [60] },
        },
      ],
      metrics: [
        {
          name: 'cache.tier.hits',
          labels: { tier: 'memory' },
          samples: 6,
          sum: 90,
          min: 10,
          max: 20,
        },
        {
          name: 'cache.tier.misses',
          labels: { tier: 'memory' },
          samples: 6,
          sum: 10,
          min: 1,
          max: 3,
        },
        {
          name: 'cache.namespace.hits',
          labels: { namespace: 'users' },
          samples: 6,
          sum: 40,
          min: 5,
          max: 9,
        },
        {
          name: 'cache.namespace.misses',
          labels: { namespace: 'users' },
          samples: 6,
          sum: 60,
          min: 5,
          max: 15,
        },
        {
          name: 'tasks.queue.waiting',
          labels: { queue: 'emails' },
          samples: 6,
          sum: 6 * m,
          min: m,
          max: m,
        },
        {
          name: 'tasks.queue.dead',
          labels: { queue: 'emails' },
          samples: 6,
          sum: 6,
          min: 1,
          max: 1,
        },
        { name: 'tasks.completed', labels: {}, samples: 6, sum: 120, min: 10, max: 30 },
        { name: 'tasks.failed', labels: {}, samples: 6, sum: 6, min: 0, max: 2 },
        { name: 'system.memory.rss', labels: {}, samples: 6, sum: 6 * 1e8, min: 1e8, max: 1e8 },
        {
          name: 'system.memory.heap_used',
          labels: {},
          samples: 6,
          sum: 6 * 5e7,
          min: 5e7,
          max: 5e7,
        },
        { name: 'system.cpu.percent', labels: {}, samples: 6, sum: 60, min: 5, max: 15 },
      ],
    };
    await enterprise.history.store.write(rollup);
  }
}

/** A figure nothing recorded yet (the request latency of an app without requests...) answers 400. */
const NOTHING_RECORDED: ExpectedFailure[] = [{ status: 400, path: /\/performance\/history$/ }];

/**
 * A page of `context` watched for any other failure (a 501 included) and any request off the
 * loopback, and the queries of its history requests in order.
 */
async function openPage(context: BrowserContext) {
  const page = await context.newPage();
  const problems = watch(page, NOTHING_RECORDED, { ignore501: false, loopbackOnly: true });
  const history: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.endsWith('/performance/history')) history.push(url.search);
  });
  return { page, problems, history };
}

/** The taller page the charts of every view fit in. */
const VIEWPORT = { viewport: { width: 1280, height: 900 } };

/** The legend labels of the chart in container `id` (uPlot writes one per series). */
const legend = (page: Page, id: string) =>
  page
    .locator(`#${id} .u-legend .u-series th`)
    .allTextContents()
    // The first entry is the time axis.
    .then((labels) => labels.slice(1));

/** Whether `id` holds a drawn chart with data. */
const drawn = (page: Page, id: string) =>
  page.evaluate((chart) => {
    const element = (globalThis as any).document.getElementById(chart);
    return element?.dataset.empty === 'false' && element.querySelector('canvas') !== null;
  }, id);

describe.runIf(chromiumAvailable)('dashboard ranges and scope in headless Chromium', () => {
  const browser = useChromium();

  it('draws every view over the last hour from the metrics history', async () => {
    const app = await startApp(undefined);
    const context = await cspContext(browser(), VIEWPORT);
    try {
      const { page, problems, history } = await openPage(context);
      await page.goto(`${app.url}/dashboard#cache`);
      // Live first: the cache charts follow the stream.
      await expect.poll(() => drawn(page, 'chart-cache-tiers'), POLL).toBe(true);
      expect(history).toEqual([]);

      await page.click('[data-range="1h"]');
      expect(await page.getAttribute('[data-range="1h"]', 'aria-pressed')).toBe('true');
      await expect.poll(() => legend(page, 'chart-cache-tiers'), POLL).toContain('memory');
      expect(await drawn(page, 'chart-cache-tiers')).toBe(true);
      await expect.poll(() => legend(page, 'chart-cache-namespaces'), POLL).toContain('users');
      expect(
        history.some((q) => q.includes('metric=cache.tier.hits') && q.includes('step=1m')),
      ).toBe(true);

      await page.click('#tab-tasks');
      for (const id of ['chart-task-depth', 'chart-task-throughput', 'chart-task-dead']) {
        await expect.poll(() => drawn(page, id), POLL).toBe(true);
      }
      expect(await legend(page, 'chart-task-depth')).toContain('emails');
      expect(await legend(page, 'chart-task-throughput')).toEqual(
        expect.arrayContaining(['completed/s', 'failed/s']),
      );

      await page.click('#tab-health');
      await expect.poll(() => drawn(page, 'chart-memory'), POLL).toBe(true);
      expect(await legend(page, 'chart-memory')).toEqual(
        expect.arrayContaining(['RSS', 'Heap used']),
      );

      await page.click('#tab-performance');
      await expect.poll(() => drawn(page, 'chart-latency'), POLL).toBe(true);
      expect(await legend(page, 'chart-latency')).toEqual(['p50', 'p95', 'p99']);

      // 24 h and 7 d ask for coarser steps.
      await page.click('[data-range="7d"]');
      await expect.poll(() => history.some((q) => q.includes('step=1h')), POLL).toBe(true);
      await page.click('[data-range="24h"]');
      await expect.poll(() => history.some((q) => q.includes('step=15m')), POLL).toBe(true);

      // Without a cluster view, the cluster scope says what to configure.
      await page.click('[data-scope="cluster"]');
      await expect.poll(() => page.textContent('#scope-notice'), POLL).toContain('REDIS_URL');
      expect(await page.isVisible('#cluster-panel')).toBe(false);
      await page.click('[data-scope="instance"]');
      await expect.poll(() => page.isVisible('#scope-notice'), POLL).toBe(false);

      expect(await cspViolations(page)).toEqual([]);
      expect(problems.filter((p) => !p.includes('status of 400'))).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 60_000);

  describe.runIf(requires(redis))('with Redis', () => {
    const prefix = `test:dashboard-cluster:${randomUUID()}`;
    afterAll(async () => {
      const admin = new Redis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length > 0) await admin.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await admin.quit();
    });

    it('lists the instances alive and reads the deployment history with the cluster scope', async () => {
      const app = await startApp({ prefix });
      const other = new ClusterView({ url: REDIS_URL, prefix, instanceId: 'web-2' });
      other.start();
      await other.heartbeat();
      const context = await cspContext(browser(), VIEWPORT);
      try {
        const { page, problems, history } = await openPage(context);
        await page.goto(`${app.url}/dashboard#tasks`);
        await page.click('[data-scope="cluster"]');
        await expect.poll(() => page.isVisible('#cluster-panel'), POLL).toBe(true);
        await expect
          .poll(() => page.locator('#cluster-instances tbody tr').allTextContents(), POLL)
          .toEqual([
            expect.stringContaining(app.enterprise.cluster.instanceId),
            expect.stringContaining('web-2'),
          ]);
        expect(await page.textContent('#cluster-count')).toBe('2');
        // Live with the cluster scope: the deployment's last minutes, from its history.
        await expect.poll(() => drawn(page, 'chart-task-depth'), POLL).toBe(true);
        expect(history.every((q) => q.includes('scope=cluster'))).toBe(true);
        expect(await legend(page, 'chart-task-depth')).toContain('emails');

        // An instance that leaves is gone from the list.
        await other.stop();
        await expect.poll(() => page.locator('#cluster-instances tbody tr').count(), POLL).toBe(1);
        expect(problems.filter((p) => !p.includes('status of 400'))).toEqual([]);
      } finally {
        await other.stop();
        await context.close();
        await app.close();
      }
    }, 60_000);
  });
});
