/**
 * The same catalogue service on the stack a team would otherwise assemble, each library set up as
 * its documentation recommends for speed: Fastify's own pino logger (asynchronous destination, one
 * line per request: its `request completed`, with `incoming request` turned off), a prom-client request
 * histogram by route and a query histogram on the repository, a `nosniff` header hook,
 * BentoCache (memory in front of Redis, with its Redis bus and tags; L1 entries not serialized),
 * BullMQ for the task, and prom-client's `/metrics` with the default process metrics.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Queue, Worker } from 'bullmq';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';
import client from 'prom-client';
import { CatalogueDb } from './catalogue-db.js';
import {
  CONFIRMATION_MS,
  type Confirmation,
  type Running,
  type ServiceConfig,
  TaskFigures,
  wallMs,
} from './contract.js';

const QUEUE = 'confirmations';

/** Fastify's request log with one line per request (its `request completed`), as its docs show. */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
}

function redisOptions(url: string) {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
}

export async function startHttp(config: ServiceConfig): Promise<Running> {
  const redis = redisOptions(config.redisUrl);
  const db = new CatalogueDb(config.tables);
  const register = new client.Registry();
  client.collectDefaultMetrics({ register });
  const httpDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status_code'],
    registers: [register],
  });
  const queryDuration = new client.Histogram({
    name: 'db_query_duration_seconds',
    help: 'Database query duration',
    labelNames: ['operation'],
    registers: [register],
  });
  const timed = <T>(operation: string, query: () => Promise<T>): Promise<T> => {
    const end = queryDuration.startTimer({ operation });
    return query().finally(() => end());
  };
  const bento = new BentoCache({
    default: 'catalogue',
    prefix: `${config.prefix}bento`,
    stores: {
      catalogue: bentostore()
        // `serialize: false` (BentoCache's advice for speed) has a bug in 1.6: a value found in
        // Redis is put in memory as Redis' serialized string, and the next memory hit of that key
        // throws (`reading 'deserialize'`): the rare 500s of this stack in bench:service.
        .useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false }))
        .useL2Layer(redisDriver({ connection: redis }))
        .useBus(redisBusDriver({ connection: redis })),
    },
  });
  const queue = new Queue<Confirmation>(QUEUE, {
    connection: redis,
    prefix: `${config.prefix}bull`,
    defaultJobOptions: { removeOnComplete: 1_000, removeOnFail: 10_000 },
  });
  let submitted = 0;

  const app = Fastify({
    loggerInstance: pino(pino.destination({ dest: 1, sync: false, minLength: 4096 })),
    logController: new OneLinePerRequest(),
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe(
      { method: request.method, route, status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get<{ Params: { id: string } }>('/products/:id', async (request, reply) => {
    const id = Number(request.params.id);
    const product = await bento.getOrSet({
      key: `product:${id}`,
      ttl: '1h',
      factory: () => timed('find', () => db.findProduct(id)),
    });
    return product ?? reply.code(404).send({ error: 'not found' });
  });
  app.get<{ Params: { id: string }; Querystring: { page?: string } }>(
    '/categories/:id/products',
    async (request) => {
      const categoryId = Number(request.params.id);
      const page = Number(request.query.page ?? 1);
      return bento.getOrSet({
        key: `category:${categoryId}:${page}`,
        ttl: '1h',
        tags: [`category:${categoryId}`],
        factory: () => timed('list', () => db.listCategory(categoryId, page)),
      });
    },
  );
  app.put<{ Params: { id: string }; Body: { priceCents: number } }>(
    '/products/:id',
    async (request, reply) => {
      const id = Number(request.params.id);
      const categoryId = await timed('update', () => db.updatePrice(id, request.body.priceCents));
      if (categoryId === undefined) return reply.code(404).send({ error: 'not found' });
      await Promise.all([
        bento.delete({ key: `product:${id}` }),
        bento.deleteByTag({ tags: [`category:${categoryId}`] }),
      ]);
      return { ok: true };
    },
  );
  app.post<{ Body: { productId: number; quantity: number } }>('/orders', async (request, reply) => {
    const { productId, quantity } = request.body;
    const orderId = await timed('insert_order', () => db.insertOrder(productId, quantity));
    await queue.add('send_confirmation', { orderId, submittedAt: wallMs() });
    submitted++;
    return reply.code(201).send({ id: orderId });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(register.contentType);
    return register.metrics();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    port: (app.server.address() as { port: number }).port,
    metrics: { path: '/metrics' },
    submitted: () => submitted,
    async close() {
      await app.close();
      await Promise.all([queue.close(), bento.disconnect(), db.close()]);
    },
  };
}

export async function startWorker(config: ServiceConfig): Promise<Running> {
  const tasks = new TaskFigures();
  const worker = new Worker<Confirmation>(
    QUEUE,
    async (job) => {
      await sleep(CONFIRMATION_MS);
      tasks.record(job.data.submittedAt);
    },
    { connection: redisOptions(config.redisUrl), prefix: `${config.prefix}bull`, concurrency: 10 },
  );
  await worker.waitUntilReady();
  return { tasks, close: () => worker.close() };
}
