// The HTML report opened as a file in headless Chromium with JavaScript off and every network
// request refused: it must render completely from itself (title, sections, tables, charts drawn).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapacityPlanner } from '../../../src/analytics/capacity/planner.js';
import { Reports } from '../../../src/analytics/reports/reports.js';
import { createDefaultLogger } from '../../../src/core/logger.js';
import { chromiumAvailable, launchChromium } from '../../support/browser.js';
import { HEAP_BASE, HEAP_SLOPE, workload } from './helpers.js';

describe.runIf(chromiumAvailable)('the HTML report in a browser, offline, without scripts', () => {
  let browser: Browser;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    const written = await workload(180);
    const capacity = new CapacityPlanner({
      history: written.store,
      limits: [
        {
          metric: 'system.memory.heap_used',
          limit: HEAP_BASE + HEAP_SLOPE * 900,
          name: 'heap',
          unit: 'bytes',
        },
      ],
      lookback: '3h',
    });
    const reports = new Reports({
      history: written.store,
      capacity: () => capacity,
      logger: createDefaultLogger('silent'),
    });
    reports.define('ops', {
      title: 'Operations <weekly>',
      sections: ['performance', 'slowest', 'database', 'cache', 'tasks', 'capacity'],
      period: '3h',
    });
    const page = await reports.generate('ops', { format: 'html' });
    dir = await mkdtemp(join(tmpdir(), 'report-browser-'));
    file = join(dir, page.filename);
    await writeFile(file, page.body);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('renders every section with its charts and tables, asking for nothing', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const requests: string[] = [];
    // Anything but the file itself would be a resource the page tries to load.
    await context.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(pathToFileURL(file).href);
    expect(await page.title()).toBe('Operations <weekly>');
    expect(await page.locator('h1').textContent()).toBe('Operations <weekly>');
    expect(await page.locator('h2').allTextContents()).toEqual([
      'Performance',
      'Slowest operations',
      'Database statements',
      'Cache',
      'Tasks',
      'Capacity forecast',
    ]);
    // The charts are drawn: each SVG has a size on the page and lines with a length.
    const charts = page.locator('svg');
    expect(await charts.count()).toBeGreaterThanOrEqual(5);
    for (const box of await charts.evaluateAll((nodes) =>
      nodes.map((n) => n.getBoundingClientRect().toJSON()),
    )) {
      expect(box.width).toBeGreaterThan(300);
      expect(box.height).toBeGreaterThan(100);
    }
    const lengths = await page
      .locator('path.series')
      .evaluateAll((paths) =>
        paths.map((p) => (p as unknown as { getTotalLength(): number }).getTotalLength()),
      );
    expect(lengths.length).toBeGreaterThan(5);
    expect(lengths.every((l) => l > 50)).toBe(true);
    // The tables carry the figures, styled by the page's own CSS.
    const slowest = page.locator('#section-slowest table tbody tr').first();
    expect(await slowest.locator('td').first().textContent()).toBe('POST /orders');
    expect(
      await page
        .locator('th')
        .first()
        .evaluate(
          (th) =>
            (
              globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
            ).getComputedStyle(th).backgroundColor,
        ),
    ).toBe('rgb(240, 243, 246)');
    expect(await page.locator('#section-capacity table tbody tr td').first().textContent()).toBe(
      'heap',
    );
    expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({
      path: join(tmpdir(), 'revcopy-enterprise-report.png'),
      fullPage: true,
    });
    await context.close();
  });
});
