/**
 * npx tsx examples/fastify-app.ts
 *
 * A Fastify 5 app with the enterprise layer: every request gets a correlation id (`x-request-id`), security
 * headers, an `http.request` timing under its route template and one log line; the monitoring
 * router and its live dashboard answer under /api/v1/monitoring. One plugin registration provides both.
 * `instrument: { security: true }` has every request inspected by the security module too.
 *
 * Environment: PORT (3000), HOST (127.0.0.1), MONITORING_TOKEN (demo-token), REDIS_URL (none).
 * `--smoke` starts the app, requests its own endpoints and exits.
 */
import Fastify from 'fastify';
import { enterprisePlugin } from '../src/adapters/fastify.js';
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

const app = Fastify();
await app.register(enterprisePlugin, {
  prefix: PREFIX,
  auth: TOKEN,
  shutdownOnSignals: !SMOKE,
  instrument: { security: true },
});
app.get('/users/:id', async (request) => findUser((request.params as { id: string }).id));

await app.listen({ port: PORT, host: HOST });
const base = `http://${HOST}:${(app.server.address() as { port: number }).port}`;
printUrls('Fastify', base, PREFIX, TOKEN);
if (SMOKE) {
  try {
    await smokeTest(base, PREFIX, TOKEN);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
  await app.close();
}
