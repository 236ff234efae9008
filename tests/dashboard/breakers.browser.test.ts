import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEnterprise } from '../../src/index.js';
import { circuitBreaker, defaultBreakerRegistry } from '../../src/resilience/index.js';
import { chromiumAvailable } from '../support/browser.js';
import { cspContext, cspViolations, useChromium, watch } from './browser-page.js';
import { serveDashboard } from './dashboard-server.js';

/**
 * The circuit breakers panel of the dashboard's health view, in headless Chromium: each breaker of
 * the process with its state, failures, openings and when it last opened, following the breaker
 * live, under the dashboard's CSP and without console errors.
 */
const MOUNT = '/monitoring';
const POLL = { timeout: 10_000 };

describe.runIf(chromiumAvailable)('dashboard circuit breakers panel', () => {
  const browser = useChromium();

  it('shows each breaker with its state, failures, openings and last opening, live', async () => {
    const name = `payments-${randomUUID().slice(0, 8)}`;
    const payments = circuitBreaker(name, { consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
    const enterprise = createEnterprise({ logLevel: 'silent', env: {}, alerts: false });
    const app = await serveDashboard(enterprise, {
      prefix: MOUNT,
      public: true,
      realtimeIntervalMs: 300,
      instrument: false,
      shutdown: true,
    });
    const context = await cspContext(browser());
    try {
      const page = await context.newPage();
      // Strict: no module of this instance is expected to answer 501.
      const problems = watch(page, [], { ignore501: false });
      await page.goto(`${app.url}/dashboard`);
      const row = page.locator(`#breakers tbody tr[data-key="${name}"]`);
      const cells = () => row.locator('td').allTextContents();

      // Closed, never opened; not repeated among the components.
      await expect.poll(cells, POLL).toEqual([name, 'closed', '0', '0', '–', '0', 'never', '']);
      expect(await page.isVisible('#breakers-empty')).toBe(false);
      expect(await page.textContent('#components')).not.toContain(`breaker:${name}`);

      // Two failures in a row open it.
      for (let i = 0; i < 2; i++) {
        await payments.execute(() => Promise.reject(new Error('refused'))).catch(() => undefined);
      }
      expect(payments.state).toBe('open');
      await expect.poll(async () => (await cells())[1], POLL).toBe('open');
      const [, , failures, , , openings, lastOpened, detail] = await cells();
      expect(failures).toBe('2');
      expect(openings).toBe('1');
      expect(lastOpened).not.toBe('never');
      expect(detail).toContain('consecutive-failures');
      expect(detail).toContain('next trial');
      expect(await row.locator('.badge').getAttribute('data-status')).toBe('down');

      // Closed again: the opening stays counted.
      payments.close();
      await expect.poll(async () => (await cells())[1], POLL).toBe('closed');
      expect((await cells())[5]).toBe('1');
      expect((await cells())[6]).toBe(lastOpened);

      expect(problems).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
    } finally {
      await context.close();
      await app.close();
      defaultBreakerRegistry().remove(name);
      payments.dispose();
    }
  }, 60_000);
});
