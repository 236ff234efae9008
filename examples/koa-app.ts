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
import { configure, getCorrelationId, monitorPerformance } from '../src/index.js';
import { printUrls, smokeTest } from './support/example-runner.js';

const SMOKE = process.argv.includes('--smoke') || process.env.SMOKE === '1';
const PORT = Number(process.env.PORT ?? (SMOKE ? 0 : 3000));
const HOST = process.env.HOST ?? '127.0.0.1';
const PREFIX = '/api/v1/monitoring';
// The dashboard asks for this token (Authorization: Bearer) on its first data call.
const TOKEN = process.env.MONITORING_TOKEN ?? 'demo-token';

// In-memory defaults: no Redis or database needed (set REDIS_URL to add the Redis tiers).
const enterprise = configure({ logLevel: SMOKE ? 'warn' : 'info' });

/** A monitored, cached lookup: shows up in the dashboard's operations and cache views. */
const findUser = monitorPerformance('UserService.find', async (id: string) =>
  enterprise.cache.getOrSet(
    `user:${id}`,
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { id, name: `User ${id}`, correlationId: getCorrelationId() };
    },
    { ttl: 30 },
  ),
);

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
