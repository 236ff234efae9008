/**
 * npx tsx examples/node-app.ts
 *
 * A plain node:http server with the enterprise layer: every request gets a correlation id (`x-request-id`), security
 * headers, an `http.request` timing under its route template and one log line; the monitoring
 * router and its live dashboard answer under /api/v1/monitoring. No framework: the listener routes the prefix to the monitoring router and the rest to the app.
 *
 * Environment: PORT (3000), HOST (127.0.0.1), MONITORING_TOKEN (demo-token), REDIS_URL (none).
 * `--smoke` starts the app, requests its own endpoints and exits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMonitoringListener } from '../src/adapters/node.js';
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

async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = /^\/users\/([^/?]+)/.exec(req.url ?? '');
  res.setHeader('content-type', 'application/json');
  if (req.method === 'GET' && match !== null) {
    res.end(JSON.stringify(await findUser(match[1]!)));
    return;
  }
  res.statusCode = 404;
  res.end(JSON.stringify({ error: 'not found' }));
}

const listener = createMonitoringListener({
  prefix: PREFIX,
  auth: TOKEN,
  shutdownOnSignals: !SMOKE,
  handler: app,
  // A plain server has no router to ask: name the route templates (never raw paths).
  instrument: { routeOf: (req) => (req.url?.startsWith('/users/') ? '/users/:id' : undefined) },
});
const server = createServer(listener);
server.listen(PORT, HOST, async () => {
  const base = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  printUrls('node:http', base, PREFIX, TOKEN);
  if (!SMOKE) return;
  try {
    await smokeTest(base, PREFIX, TOKEN);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
  server.close();
});
