import { describe, expect, it } from 'vitest';
import { createEnterprise } from '../../src/index.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { chromiumAvailable } from '../support/browser.js';
import { cspContext, cspViolations, styleAttributes, useChromium, watch } from './browser-page.js';
import { serveDashboard } from './dashboard-server.js';

/** The dashboard's Schedules view in headless Chromium, against a running application. */
const POLL = { timeout: 10_000 };

describe.runIf(chromiumAvailable)('dashboard: the Schedules view', () => {
  const browser = useChromium();

  it('lists code and run-time schedules; pauses, resumes, runs now, adds and removes', async () => {
    const store = memoryTaskBackend();
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {},
      alerts: false,
      performance: { systemMetrics: false },
      tasks: { backend: store, scheduleSync: '200ms' },
    });
    const ran: string[] = [];
    enterprise.tasks.register('nightly', (_payload, { id }) => void ran.push(id));
    enterprise.tasks.register('digest', () => undefined);
    enterprise.tasks.register('tick', () => undefined);
    enterprise.tasks.scheduler.schedulePeriodic('0 2 * * *', 'nightly_cleanup', 'nightly');
    await enterprise.start();
    await enterprise.tasks.scheduler.add({ name: 'hourly_digest', task: 'digest', every: '1h' });
    const stored = async (name: string) =>
      (await store.schedules()).find((record) => record.name === name);

    const app = await serveDashboard(enterprise, { public: true, shutdown: true });
    const context = await cspContext(browser());
    try {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`${app.url}/dashboard#schedules`);
      const row = (name: string) => page.locator(`#schedules-list tr[data-key="${name}"]`);
      const cells = async (name: string) =>
        (await row(name).locator('td').allTextContents()).slice(0, 7);
      await expect.poll(() => page.locator('#schedules-list tbody tr').count(), POLL).toBe(2);
      expect(await cells('nightly_cleanup')).toEqual([
        'nightly_cleanup',
        'nightly',
        expect.stringContaining('0 2 * * *'),
        'active',
        'code',
        expect.any(String),
        'never',
      ]);
      expect(await cells('hourly_digest')).toEqual([
        'hourly_digest',
        'digest',
        'every 1 h',
        'active',
        'admin',
        expect.any(String),
        'never',
      ]);

      // Pause, then Resume: the state shown and the stored state follow.
      await page.getByRole('button', { name: 'Pause hourly_digest' }).click();
      await expect.poll(async () => (await cells('hourly_digest'))[3], POLL).toBe('paused');
      expect((await stored('hourly_digest'))?.state).toBe('paused');
      expect(
        enterprise.tasks.scheduler.list().find((s) => s.name === 'hourly_digest')?.paused,
      ).toBe(true);
      await page.getByRole('button', { name: 'Resume hourly_digest' }).click();
      await expect.poll(async () => (await cells('hourly_digest'))[3], POLL).toBe('active');
      expect((await stored('hourly_digest'))?.state).toBe('active');
      expect(await page.textContent('#schedules-status')).toBe('hourly_digest resumed.');

      // Run now submits the schedule's task, which a worker runs.
      await page.getByRole('button', { name: 'Run now nightly_cleanup' }).click();
      await expect
        .poll(() => page.textContent('#schedules-status'), POLL)
        .toMatch(/^nightly_cleanup submitted \(task .+\)\.$/);
      await expect.poll(() => ran.length, POLL).toBe(1);
      const taskId = /\(task (.+)\)/.exec((await page.textContent('#schedules-status')) ?? '')?.[1];
      expect(ran).toEqual([taskId]);

      // The form adds a schedule, stored and listed as added at run time.
      await page.fill('#schedule-name', 'ticker');
      await page.fill('#schedule-task', 'tick');
      await page.selectOption('#schedule-kind', 'every');
      await page.fill('#schedule-when', '10m');
      await page.click('#schedule-submit');
      await expect.poll(() => row('ticker').count(), POLL).toBe(1);
      expect(await cells('ticker')).toEqual([
        'ticker',
        'tick',
        'every 10 min',
        'active',
        'admin',
        expect.any(String),
        'never',
      ]);
      expect(await stored('ticker')).toMatchObject({ origin: 'admin', everyMs: 600_000 });
      expect(await page.inputValue('#schedule-name')).toBe('');

      // A refused schedule is said, and nothing is added.
      await page.fill('#schedule-name', 'broken');
      await page.fill('#schedule-task', 'tick');
      await page.selectOption('#schedule-kind', 'cron');
      await page.fill('#schedule-when', 'not a cron');
      await page.click('#schedule-submit');
      await expect
        .poll(() => page.textContent('#schedules-status'), POLL)
        .toMatch(/^broken could not be added: /);
      expect(await stored('broken')).toBeUndefined();

      // Remove deletes the run-time schedule.
      await page.getByRole('button', { name: 'Remove ticker' }).click();
      await expect.poll(() => row('ticker').count(), POLL).toBe(0);
      expect(await stored('ticker')).toBeUndefined();

      expect(await styleAttributes(page)).toBe(0);
      expect(await cspViolations(page)).toEqual([]);
      expect(problems.filter((p) => !p.includes('status of 400'))).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  }, 60_000);
});
