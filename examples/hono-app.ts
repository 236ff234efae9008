/**
 * npx tsx examples/hono-app.ts
 *
 * A Hono 4 app served by @hono/node-server with the enterprise layer: every request gets a correlation id (`x-request-id`), security
 * headers, an `http.request` timing under its route template and one log line; the monitoring
 * router and its live dashboard answer under /api/v1/monitoring. Without replacing the global Request/Response (`overrideGlobalObjects: false`).
 *
 * Environment: PORT (3000), HOST (127.0.0.1), MONITORING_TOKEN (demo-token), REDIS_URL (none).
 * `--smoke` starts the app, requests its own endpoints and exits.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { enterpriseMiddleware, monitoringApp } from '../src/adapters/hono.js';
import {
  demoService,
  HOST,
  PORT,
  PREFIX,
  printUrls,
  SMOKE,
  smokeTest,
  TOKEN,
} from './support/example-runner.js';

const { findUser } = demoService();

const app = new Hono();
app.use('*', enterpriseMiddleware());
const monitoring = monitoringApp({ auth: TOKEN, shutdownOnSignals: !SMOKE });
app.route(PREFIX, monitoring);
app.get('/users/:id', async (c) => c.json(await findUser(c.req.param('id'))));

const server = serve(
  { fetch: app.fetch, port: PORT, hostname: HOST, overrideGlobalObjects: false },
  async (info: AddressInfo) => {
    const base = `http://${HOST}:${info.port}`;
    printUrls('Hono', base, PREFIX, TOKEN);
    if (!SMOKE) return;
    try {
      await smokeTest(base, PREFIX, TOKEN);
    } catch (error) {
      console.error(error);
      process.exitCode = 1;
    }
    await monitoring.close();
    (server as Server).close();
  },
);
