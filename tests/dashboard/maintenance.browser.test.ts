import { describe, expect, it } from 'vitest';
import { createEnterprise } from '../../src/index.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { chromiumAvailable } from '../support/browser.js';
import { cspContext, cspViolations, styleAttributes, useChromium, watch } from './browser-page.js';
import { serveDashboard } from './dashboard-server.js';

/** The dashboard's Maintenance view in headless Chromium, against a running application. */
const POLL = { timeout: 10_000 };

describe.runIf(chromiumAvailable)('dashboard: the Maintenance view', () => {
  const browser = useChromium();

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
    const app = await serveDashboard(enterprise, { public: true, shutdown: true });
    const context = await cspContext(browser());
    try {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`${app.url}/dashboard#maintenance`);
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
      expect(await styleAttributes(page)).toBe(0);
      expect(await cspViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 60_000);
});
