/**
 * npx tsx examples/koa-app.ts
 *
 * A Koa 3 app with the enterprise layer: every request gets a correlation id (`x-request-id`), security
 * headers, an `http.request` timing under its route template and one log line; the monitoring
 * router and its live dashboard answer under /api/v1/monitoring. Koa 2 works the same way.
 *
 * Environment: PORT (3000), HOST (127.0.0.1), MONITORING_TOKEN (demo-token), REDIS_URL (none).
 * `--smoke` starts the app, requests its own endpoints and exits.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { enterpriseMiddleware, monitoringRouter } from '../src/adapters/koa.js';
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

const app = new Koa();
app.use(enterpriseMiddleware());
app.use(monitoringRouter({ prefix: PREFIX, auth: TOKEN, shutdownOnSignals: !SMOKE }));
// A one-route "router"; with @koa/router the middleware reads the template it sets itself.
app.use(async (ctx, next) => {
  const match = /^\/users\/([^/]+)$/.exec(ctx.path);
  if (ctx.method !== 'GET' || match === null) return next();
  (ctx as { _matchedRoute?: string })._matchedRoute = '/users/:id';
  ctx.body = await findUser(match[1]!);
});

const server = createServer(app.callback());
server.listen(PORT, HOST, async () => {
  const base = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  printUrls('Koa', base, PREFIX, TOKEN);
  if (!SMOKE) return;
  try {
    await smokeTest(base, PREFIX, TOKEN);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
  server.close();
});
