/**
 * The catalogue service on @revcopy/enterprise: the Fastify plugin (request context and id,
 * headers, `http.request` timing, one log line, the monitoring router with `/metrics`), `@Cached`
 * with tags on a memory tier in front of Redis with its invalidation bus, `@MonitorPerformance` on
 * the repository, and `submitTask` on the Redis backend with an `@BackgroundTask` handler in the
 * worker process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { CatalogueDb } from './catalogue-db.js';
import {
  CONFIRMATION_MS,
  type Confirmation,
  type Running,
  type ServiceConfig,
  TaskFigures,
  wallMs,
} from './contract.js';
import { ours } from './ours-library.js';

// What an application writes as `import { ... } from '@revcopy/enterprise'` (and `/tasks`,
// `/fastify`): see ours-library.ts for where the benchmark loads them from.
const { Cached, cache, configure, MonitorPerformance } = await ours.root();
const { BackgroundTask, redisTaskBackend, submitTask } = await ours.tasks();
const { enterprisePlugin } = await ours.fastify();

const TOKEN = 'bench-token';

function setUp(config: ServiceConfig) {
  return configure({
    redisUrl: config.redisUrl,
    cache: { prefix: `${config.prefix}cache`, maxSize: 10_000 },
    tasks: {
      backend: redisTaskBackend({ url: config.redisUrl, prefix: `${config.prefix}tasks` }),
      workerCount: 10,
      retention: { completed: { count: 1_000 } },
    },
  });
}

class ProductRepository {
  constructor(readonly db: CatalogueDb) {}

  @MonitorPerformance('db.products.find')
  find(id: number) {
    return this.db.findProduct(id);
  }

  @MonitorPerformance('db.products.list')
  list(categoryId: number, page: number) {
    return this.db.listCategory(categoryId, page);
  }

  @MonitorPerformance('db.products.update')
  updatePrice(id: number, priceCents: number) {
    return this.db.updatePrice(id, priceCents);
  }

  @MonitorPerformance('db.orders.insert')
  insertOrder(productId: number, quantity: number) {
    return this.db.insertOrder(productId, quantity);
  }
}

class Catalogue {
  constructor(readonly repository: ProductRepository) {}

  @Cached({ namespace: 'products', ttl: '1h', key: (id: number) => `product:${id}` })
  async product(id: number) {
    return this.repository.find(id);
  }

  @Cached({
    namespace: 'lists',
    ttl: '1h',
    key: (categoryId: number, page: number) => `category:${categoryId}:${page}`,
    tags: (_list, [categoryId]) => [`category:${categoryId}`],
  })
  async list(categoryId: number, page: number) {
    return this.repository.list(categoryId, page);
  }

  async updatePrice(id: number, priceCents: number): Promise<boolean> {
    const categoryId = await this.repository.updatePrice(id, priceCents);
    if (categoryId === undefined) return false;
    await Promise.all([
      cache.delete(`product:${id}`, { namespace: 'products' }),
      cache.invalidateTags([`category:${categoryId}`], { namespace: 'lists' }),
    ]);
    return true;
  }

  async order(productId: number, quantity: number): Promise<number> {
    const orderId = await this.repository.insertOrder(productId, quantity);
    // The worker process runs it: a process that only submits accepts any task name.
    await submitTask('send_confirmation', { orderId, submittedAt: wallMs() });
    return orderId;
  }
}

export async function startHttp(config: ServiceConfig): Promise<Running> {
  const enterprise = setUp(config);
  const db = new CatalogueDb(config.tables);
  const catalogue = new Catalogue(new ProductRepository(db));
  let submitted = 0;

  const app = Fastify();
  await app.register(enterprisePlugin, { enterprise, auth: TOKEN, start: false });
  app.get<{ Params: { id: string } }>('/products/:id', async (request, reply) => {
    const product = await catalogue.product(Number(request.params.id));
    return product ?? reply.code(404).send({ error: 'not found' });
  });
  app.get<{ Params: { id: string }; Querystring: { page?: string } }>(
    '/categories/:id/products',
    async (request) => catalogue.list(Number(request.params.id), Number(request.query.page ?? 1)),
  );
  app.put<{ Params: { id: string }; Body: { priceCents: number } }>(
    '/products/:id',
    async (request, reply) => {
      const found = await catalogue.updatePrice(Number(request.params.id), request.body.priceCents);
      return found ? { ok: true } : reply.code(404).send({ error: 'not found' });
    },
  );
  app.post<{ Body: { productId: number; quantity: number } }>('/orders', async (request, reply) => {
    const id = await catalogue.order(request.body.productId, request.body.quantity);
    submitted++;
    return reply.code(201).send({ id });
  });
  // This process only submits: the worker process runs the tasks.
  await enterprise.start({ workers: false, scheduler: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    port: (app.server.address() as { port: number }).port,
    metrics: { path: '/api/v1/monitoring/metrics', headers: { authorization: `Bearer ${TOKEN}` } },
    submitted: () => submitted,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

export async function startWorker(config: ServiceConfig): Promise<Running> {
  const enterprise = setUp(config);
  const tasks = new TaskFigures();

  class Confirmations {
    @BackgroundTask('send_confirmation')
    async send(confirmation: Confirmation) {
      await sleep(CONFIRMATION_MS);
      tasks.record(confirmation.submittedAt);
    }
  }
  new Confirmations();

  await enterprise.start();
  return { tasks, close: () => enterprise.shutdown() };
}
