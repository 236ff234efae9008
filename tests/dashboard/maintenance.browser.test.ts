import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonitoringListener } from '../../src/adapters/node.js';
import { createEnterprise } from '../../src/index.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { chromiumAvailable, launchChromium } from '../support/browser.js';

/** The dashboard's Maintenance view in headless Chromium, against a running application. */
const MOUNT = '/api/v1/monitoring';
const POLL = { timeout: 10_000 };

describe.runIf(chromiumAvailable)('dashboard: the Maintenance view', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the tasks with their schedule and last result, and runs one with Run now', async () => {
    let swept = 0;
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {},
      alerts: false,
      tasks: { backend: memoryTaskBackend() },
      maintenance: {
        cleanup_old_content: {
          rules: [
            async function sweepDrafts() {
              swept++;
              return 3;
            },
          ],
        },
        cleanup_performance_metrics: { schedule: false },
      },
    });
    await enterprise.start({ workers: false });
    const failed = await enterprise.maintenance.run('optimize_database');
    expect(failed.ok).toBe(false);
    const listener = createMonitoringListener({ enterprise, prefix: MOUNT, public: true });
    const server: Server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}${MOUNT}`;
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        // A disabled module's 501 is part of the page's normal life.
        if (message.type() === 'error' && !message.text().includes('status of 501')) {
          problems.push(message.text());
        }
      });
      await page.goto(`${url}/dashboard#maintenance`);
      const rows = page.locator('#maintenance-tasks tbody tr');
      await expect.poll(() => rows.count(), POLL).toBe(7);
      const row = (task: string) => page.locator(`#maintenance-tasks tr[data-key="${task}"]`);
      await expect.poll(() => row('optimize_database').textContent(), POLL).toContain('failed');
      expect(await row('optimize_database').textContent()).toContain('0 2 * * *');
      expect(await row('cleanup_performance_metrics').textContent()).toContain('not scheduled');
      expect(await row('cleanup_old_content').textContent()).toContain('never');

      await row('cleanup_old_content')
        .getByRole('button', { name: 'Run cleanup_old_content now' })
        .click();
      await expect
        .poll(() => page.locator('#maintenance-status').textContent(), POLL)
        .toMatch(/cleanup_old_content ran in .*deleted 3/);
      await expect
        .poll(() => row('cleanup_old_content').textContent(), POLL)
        .toContain('deleted 3');
      expect(swept).toBe(1);
      expect(enterprise.maintenance.results('cleanup_old_content')[0]?.trigger).toBe('api');
      const violations = await page.evaluate(() => {
        const doc = (globalThis as any).document;
        return doc.querySelectorAll('[style]').length;
      });
      expect(violations).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await listener.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await enterprise.shutdown();
    }
  }, 60_000);
});
