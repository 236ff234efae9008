/**
 * npm run demo   (or: npx tsx examples/demo.ts)
 *
 * A small shop on Express with every module of the enterprise layer in use, and a workload that
 * drives it from the first second, so each view of the dashboard has live data at once:
 * - product reads through a cached, monitored repository (Zipf-like popularity: hits and misses),
 *   price updates that invalidate a product's tag;
 * - orders that submit tasks: confirmations that succeed, imports that fail twice then succeed
 *   (retries), payments for a blocked card that end in the dead letter queue; a schedule every 10 s;
 * - searches tracked as analytics events by user (active users, top events, a checkout funnel);
 * - a few hostile requests (SQL injection, a scanner, probes) and failed logins for the security view;
 * - alerts evaluated on all of it.
 *
 * With REDIS_URL set, the cache, tasks, security, analytics and history use Redis, and a second
 * instance of the shop starts in a child process (on PORT + 1), so the cluster scope shows both.
 *
 * Environment: PORT (3000), HOST (127.0.0.1), MONITORING_TOKEN (demo-token), REDIS_URL (none),
 * DEMO_RATE (requests a second of the workload, 20), DEMO_PREFIX (of its Redis keys, demo:shop). `--smoke` runs the workload for a few
 * seconds, checks that every view has data, and exits (tests/examples/demo.test.ts).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { enterpriseMiddleware, monitoringRouter } from '../src/adapters/express.js';
import { configure } from '../src/index.js';
import { redisTaskBackend } from '../src/tasks/index.js';
import { shopService } from './support/demo-shop.js';
import { drive, verifyViews } from './support/demo-workload.js';

const SMOKE = process.argv.includes('--smoke') || process.env.SMOKE === '1';
const SECOND = process.argv.includes('--second');
const REDIS_URL = process.env.REDIS_URL;
const HOST = process.env.HOST ?? '127.0.0.1';
const BASE_PORT = Number(process.env.PORT ?? (SMOKE ? 0 : 3000));
const PORT = SECOND && BASE_PORT !== 0 ? BASE_PORT + 1 : BASE_PORT;
const PREFIX = '/api/v1/monitoring';
const TOKEN = process.env.MONITORING_TOKEN ?? 'demo-token';
const RATE = Number(process.env.DEMO_RATE ?? 20);
/** Every Redis key of the demo starts with it. */
const KEYS = process.env.DEMO_PREFIX ?? 'demo:shop';

const enterprise = configure({
  logLevel: SMOKE || SECOND ? 'warn' : 'info',
  cache: { prefix: KEYS },
  tasks: {
    backend: REDIS_URL ? redisTaskBackend({ url: REDIS_URL, prefix: `${KEYS}:tasks` }) : 'memory',
    maxRetries: 2,
  },
  analytics: {
    hashKey: process.env.ANALYTICS_HASH_KEY ?? 'demo-analytics-key-change-me',
    store: REDIS_URL ? 'redis' : 'memory',
    prefix: `${KEYS}:analytics`,
    funnels: { checkout: { steps: ['view_product', 'add_to_cart', 'order'], within: '30m' } },
    history: { store: REDIS_URL ? 'redis' : 'memory', prefix: `${KEYS}:history` },
  },
  security: { mode: 'detect' },
} as Parameters<typeof configure>[0]);

const shop = shopService(enterprise);

const app = express();
app.use(enterpriseMiddleware({ security: true }));
app.use(express.json());
app.use(PREFIX, monitoringRouter({ auth: TOKEN, shutdownOnSignals: !SMOKE }));
app.get('/products/:id', async (req, res) => {
  res.json(await shop.product(req.params.id, req.query.user as string | undefined));
});
app.put('/products/:id/price', async (req, res) => {
  res.json(await shop.reprice(req.params.id, Number(req.body?.price ?? 10)));
});
app.post('/orders', async (req, res) => {
  res.status(202).json(await shop.order(req.body ?? {}));
});
app.get('/search', async (req, res) => {
  res.json(await shop.search(String(req.query.q ?? ''), req.query.user as string | undefined));
});
app.post('/login', (req, res) => {
  res.status(shop.login(req.body ?? {}, req.ip ?? '127.0.0.1') ? 200 : 401).end();
});

await enterprise.start();
const server = createServer(app);
await new Promise<void>((resolve) => server.listen(PORT, HOST, resolve));
const base = `http://${HOST}:${(server.address() as AddressInfo).port}`;

let second: ReturnType<typeof spawn> | undefined;
if (REDIS_URL !== undefined && !SECOND) {
  // The second instance: same code, same Redis, its own port and workload.
  second = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--second',
      ...(SMOKE ? ['--smoke'] : []),
    ],
    {
      env: { ...process.env, PORT: String(SMOKE ? 0 : BASE_PORT) },
      stdio: 'inherit',
    },
  );
}

if (!SECOND || !SMOKE) {
  console.log(`${SECOND ? 'Second instance' : 'Shop'} listening on ${base}`);
  if (!SECOND) {
    console.log(`  dashboard:  ${base}${PREFIX}/dashboard   (token: ${TOKEN})`);
    console.log(`  metrics:    ${base}${PREFIX}/metrics`);
    if (second !== undefined)
      console.log('  a second instance runs on the next port (cluster scope)');
  }
}

const stopWorkload = drive(base, { rate: RATE, seconds: SMOKE ? 6 : undefined });

async function stop(code: number): Promise<never> {
  stopWorkload();
  second?.kill('SIGTERM');
  server.close();
  await enterprise.shutdown();
  process.exit(code);
}

if (SMOKE) {
  try {
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    if (!SECOND) await verifyViews(base, PREFIX, TOKEN);
    await stop(0);
  } catch (error) {
    console.error(error);
    await stop(1);
  }
}
