/**
 * npm run demo   (or: npx tsx examples/express-app.ts)
 *
 * An Express 5 app with the enterprise layer: every request gets a correlation id (`x-request-id`), security
 * headers, an `http.request` timing under its route template and one log line, and is inspected
 * by the security module (attack screening, bans, a rate limit on /users with its `RateLimit`
 * headers); the monitoring router and its live dashboard answer under /api/v1/monitoring.
 * Express 4 works the same way.
 *
 * Environment: PORT (3000), HOST (127.0.0.1), MONITORING_TOKEN (demo-token), REDIS_URL (none).
 * `--smoke` starts the app, requests its own endpoints and exits.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { enterpriseMiddleware, monitoringRouter } from '../src/adapters/express.js';
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

const app = express();
app.use(
  enterpriseMiddleware({
    // Mode (detect or block), trusted proxies and stores are the instance's `security` options.
    security: { rateLimits: [{ name: 'users', path: '/users/*', limit: 120, window: '1m' }] },
  }),
);
app.use(express.json());
app.use(PREFIX, monitoringRouter({ auth: TOKEN, shutdownOnSignals: !SMOKE }));
app.get('/users/:id', async (req, res) => {
  res.json(await findUser(req.params.id));
});

const server = createServer(app);
server.listen(PORT, HOST, async () => {
  const base = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  printUrls('Express', base, PREFIX, TOKEN);
  if (!SMOKE) return;
  try {
    await smokeTest(base, PREFIX, TOKEN);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
  server.close();
});
