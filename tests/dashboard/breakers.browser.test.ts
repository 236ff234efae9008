import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonitoringListener } from '../../src/adapters/node.js';
import { createEnterprise } from '../../src/index.js';
import { circuitBreaker, defaultBreakerRegistry } from '../../src/resilience/index.js';
import { chromiumAvailable, launchChromium } from '../support/browser.js';

/**
 * The circuit breakers panel of the dashboard's health view, in headless Chromium: each breaker of
 * the process with its state, failures, openings and when it last opened, following the breaker
 * live, under the dashboard's CSP and without console errors.
 */
const MOUNT = '/monitoring';
const POLL = { timeout: 10_000 };

describe.runIf(chromiumAvailable)('dashboard circuit breakers panel', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('shows each breaker with its state, failures, openings and last opening, live', async () => {
    const name = `payments-${randomUUID().slice(0, 8)}`;
    const payments = circuitBreaker(name, { consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
    const enterprise = createEnterprise({ logLevel: 'silent', env: {}, alerts: false });
    const listener = createMonitoringListener({
      enterprise,
      prefix: MOUNT,
      public: true,
      realtimeIntervalMs: 300,
      instrument: false,
    });
    const server: Server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${MOUNT}`;
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addInitScript(() => {
      const page = globalThis as any;
      page.__cspViolations = [];
      page.document.addEventListener('securitypolicyviolation', (event: any) => {
        page.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') {
          problems.push(`console.${message.type()}: ${message.text()}`);
        }
      });
      await page.goto(`${url}/dashboard`);
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
      expect(await page.evaluate(() => (globalThis as any).__cspViolations)).toEqual([]);
    } finally {
      await context.close();
      await listener.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await enterprise.shutdown();
      defaultBreakerRegistry().remove(name);
      payments.dispose();
    }
  }, 60_000);
});
