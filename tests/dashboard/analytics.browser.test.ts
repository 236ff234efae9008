import { describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise, type EnterpriseOptions } from '../../src/index.js';
import { workload } from '../analytics/reports/helpers.js';
import { chromiumAvailable } from '../support/browser.js';
import { cspContext, cspViolations, useChromium, watch } from './browser-page.js';
import { serveDashboard } from './dashboard-server.js';

/** The dashboard's Analytics view in headless Chromium, against a running application. */
const POLL = { timeout: 10_000 };
const HASH_KEY = 'a-test-hash-key-of-32-characters';

/** A started instance behind the `/node` listener on loopback. */
async function serve(options: EnterpriseOptions) {
  const enterprise: Enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    alerts: false,
    performance: { systemMetrics: false },
    ...options,
  });
  await enterprise.start({ workers: false });
  const { url, close } = await serveDashboard(enterprise, { public: true, shutdown: true });
  return { enterprise, url: `${url}/dashboard#analytics`, close };
}

describe.runIf(chromiumAvailable)('dashboard: the Analytics view', () => {
  const browser = useChromium();

  it('shows active users, tracked events over time, a funnel and capacity forecasts', async () => {
    // Two hours of history with a growing heap, for the capacity forecasts.
    const written = await workload(120);
    const app = await serve({
      analytics: {
        hashKey: HASH_KEY,
        funnels: { checkout: { steps: ['view', 'cart', 'pay'], within: '1h' } },
        history: { store: written.store },
      },
    });
    const analytics = app.enterprise.analytics;
    for (const user of ['ada', 'bob', 'cy']) analytics.track('view', { userId: user });
    for (const user of ['ada', 'bob']) analytics.track('cart', { userId: user });
    analytics.track('pay', { userId: 'ada' });
    await analytics.flush();
    const context = await cspContext(browser());
    try {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(app.url);
      await expect.poll(() => page.isVisible('#analytics-content'), POLL).toBe(true);
      expect(await page.isVisible('#analytics-disabled')).toBe(false);
      expect(await page.textContent('#analytics-dau')).toBe('3');
      expect(await page.textContent('#analytics-wau')).toBe('3');
      expect(await page.textContent('#analytics-mau')).toBe('3');
      expect(await page.textContent('#analytics-events-24h')).toBe('6');

      // Top events, most frequent first.
      const top = page.locator('#analytics-top tbody tr');
      expect(await top.allTextContents()).toEqual(['view3', 'cart2', 'pay1']);

      // The events chart, drawn by uPlot with the total and one series per event.
      await expect.poll(() => page.locator('#chart-analytics-events .uplot').count(), POLL).toBe(1);
      const legend = await page
        .locator('#chart-analytics-events .u-legend .u-label')
        .allTextContents();
      expect(legend).toEqual(expect.arrayContaining(['all events', 'view', 'cart', 'pay']));

      // The funnel, step by step: 3 viewed, 2 put in the cart (67 %), 1 paid (33 %).
      const funnel = page.locator('#analytics-funnels tbody tr');
      expect(await funnel.count()).toBe(3);
      const cells = async (i: number) => funnel.nth(i).locator('td').allTextContents();
      expect(await cells(0)).toEqual([
        'checkout',
        '1. view',
        '3',
        expect.stringMatching(/^100\s?%$/),
        '',
      ]);
      expect((await cells(1)).slice(1, 3)).toEqual(['2. cart', '2']);
      expect((await cells(1))[4]).toMatch(/^66[.,]7\s?%$/);
      expect((await cells(2)).slice(1, 3)).toEqual(['3. pay', '1']);
      expect((await cells(2))[3]).toMatch(/^33[.,]3\s?%$/);

      // Retention: this week's cohort of three users.
      await expect.poll(() => page.locator('#analytics-retention tbody tr').count(), POLL).toBe(1);
      expect(await page.locator('#analytics-retention tbody tr td').nth(1).textContent()).toBe('3');

      // Capacity: the heap, growing in the history, is forecast to reach its limit.
      expect(await page.isVisible('#analytics-capacity-content')).toBe(true);
      const heap = page.locator('#analytics-capacity tbody tr', { hasText: 'heap' }).first();
      const heapCells = await heap.locator('td').allTextContents();
      expect(heapCells[1]).toMatch(/^(ok|warning|critical|exceeded)$/);
      expect(heapCells[4]).not.toBe('not within the horizon');
      expect(heapCells[4]).toMatch(/\d/);

      // uPlot and the ratio bars set styles through CSSOM, which `style-src 'self'` allows: the
      // check is on the violations themselves.
      expect(await cspViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 60_000);

  it('says so when the analytics module is not enabled (501)', async () => {
    const app = await serve({});
    const context = await cspContext(browser());
    try {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(app.url);
      await expect.poll(() => page.isVisible('#analytics-disabled'), POLL).toBe(true);
      expect(await page.textContent('#analytics-disabled')).toBe(
        'The analytics module is not enabled on this instance.',
      );
      expect(await page.isVisible('#analytics-content')).toBe(false);
      expect(await page.isVisible('#analytics-error')).toBe(false);
      expect(await cspViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 60_000);
});
