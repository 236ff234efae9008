import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitoringRouter } from '../../src/adapters/express.js';
import { monitoringApp } from '../../src/adapters/hono.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { DASHBOARD_CONTENT_SECURITY_POLICY } from '../../src/monitoring/security-headers.js';
import { closeServer, listen } from '../adapters/helpers.js';
import { cspContext, cspViolations, watch } from '../dashboard/browser-page.js';
import { chromiumAvailable, launchChromium } from '../support/browser.js';

/**
 * The `/docs` page in headless Chromium, from real hosts with the router mounted under a prefix:
 * Swagger UI renders the router's own document under the dashboard's CSP, an operation expands and
 * runs, and the page asks nothing of any other host.
 */
const MOUNT = '/api/v1/monitoring';
const TOKEN = 'docs-page-token';
const POLL = { timeout: 15_000 };

interface Host {
  url: string;
  close: () => Promise<void>;
}

function testEnterprise(): Enterprise {
  return createEnterprise({
    logLevel: 'silent',
    env: {},
    alerts: false,
    performance: { systemMetrics: false },
  });
}

async function expressHost(enterprise: Enterprise): Promise<Host> {
  const app = express();
  app.use(MOUNT, monitoringRouter({ enterprise, auth: TOKEN }));
  const server = createServer(app);
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}

async function honoHost(enterprise: Enterprise): Promise<Host> {
  const app = new Hono();
  const monitoring = monitoringApp({ enterprise, public: true });
  app.route(MOUNT, monitoring);
  const server = await new Promise<Server>((resolve) => {
    const s = serve(
      { fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false },
      () => resolve(s as Server),
    ) as Server;
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await monitoring.close();
      await closeServer(server);
    },
  };
}

/** Every request the page makes, and the ones aimed at another host (aborted). */
async function recordRequests(page: Page, origin: string) {
  const local: string[] = [];
  const foreign: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) {
      local.push(url);
      return route.continue();
    }
    foreign.push(url);
    return route.abort();
  });
  return { local, foreign };
}

/** The operations Swagger UI lists, as `METHOD path`. */
const operations = (page: Page) =>
  page
    .locator('.opblock-summary')
    .evaluateAll((nodes) =>
      nodes.map(
        (node: any) =>
          `${node.querySelector('.opblock-summary-method')?.textContent} ${node.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
      ),
    );

describe.runIf(chromiumAvailable)('/docs in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  for (const [name, start, secured] of [
    ['Express, with auth', expressHost, true],
    ['Hono, public', honoHost, false],
  ] as const) {
    it(`renders the router's document and runs an operation (${name})`, async () => {
      const enterprise = testEnterprise();
      const host = await start(enterprise);
      const context = await cspContext(browser);
      try {
        const page = await context.newPage();
        // Chromium logs the document's 401 before the token is entered: part of the scenario.
        const problems = watch(page, secured ? [/status of 401/] : []);
        const requests = await recordRequests(page, host.url);
        const response = await page.goto(`${host.url}${MOUNT}/docs`);
        // The dashboard's policy, unchanged: Swagger UI needs nothing looser.
        expect(response?.headers()['content-security-policy']).toBe(
          DASHBOARD_CONTENT_SECURITY_POLICY,
        );

        if (secured) {
          await page.locator('#docs-token').fill(TOKEN);
          await page.getByRole('button', { name: 'Show the API' }).click();
        }
        await expect
          .poll(() => operations(page), POLL)
          .toEqual(
            expect.arrayContaining(['GET /health', 'GET /performance/summary', 'GET /health/live']),
          );

        // Expanding an operation shows its details; "Try it out" then "Execute" calls the router
        // under its mount prefix (the document's relative server) with the stored token.
        const live = page.locator('#operations-health-healthLive');
        await live.locator('.opblock-summary-control').click();
        await expect.poll(() => live.locator('.opblock-body').isVisible(), POLL).toBe(true);
        await live.getByRole('button', { name: 'Try it out' }).click();
        await live.getByRole('button', { name: 'Execute' }).click();
        await expect
          .poll(
            () =>
              live
                .locator('.live-responses-table tbody td.response-col_status')
                .first()
                .textContent(),
            POLL,
          )
          .toContain('200');
        expect(requests.local).toContain(`${host.url}${MOUNT}/health/live`);

        // The page's own links: the dashboard, relative to the mount.
        expect(await page.locator('.docs-bar a').getAttribute('href')).toBe('dashboard');
        // From the dashboard, its "API docs" link opens the page again, with the same token.
        await page.goto(`${host.url}${MOUNT}/dashboard`);
        await page.getByRole('link', { name: 'API docs' }).click();
        await expect.poll(() => page.url(), POLL).toBe(`${host.url}${MOUNT}/docs`);
        await expect.poll(() => operations(page), POLL).toContain('GET /health');
        expect(await page.locator('#docs-auth').isHidden()).toBe(true);
        expect(await cspViolations(page)).toEqual([]);
        expect(problems).toEqual([]);
        expect(requests.foreign).toEqual([]);
        expect(requests.local.every((url) => url.startsWith(`${host.url}${MOUNT}/`))).toBe(true);
      } finally {
        await context.close();
        await host.close();
        await enterprise.shutdown();
      }
      // Swagger UI's bundle takes seconds to parse on a loaded two-core machine.
    }, 90_000);
  }
});
