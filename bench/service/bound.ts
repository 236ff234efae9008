/**
 * The bound: the same routes with a plain in-process `Map` cache and no instrumentation, no Redis
 * (the confirmation runs in this process after the order is stored). No stack with
 * instrumentation and a shared cache can beat it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { CatalogueDb, type Product, type ProductSummary } from './catalogue-db.js';
import {
  CONFIRMATION_MS,
  type Running,
  type ServiceConfig,
  TaskFigures,
  wallMs,
} from './contract.js';

export async function startHttp(config: ServiceConfig): Promise<Running> {
  const db = new CatalogueDb(config.tables);
  const products = new Map<number, Product | undefined>();
  /** Per category, its cached pages. */
  const lists = new Map<number, Map<number, ProductSummary[]>>();
  const tasks = new TaskFigures();
  let submitted = 0;

  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/products/:id', async (request, reply) => {
    const id = Number(request.params.id);
    let product = products.get(id);
    if (product === undefined) {
      product = await db.findProduct(id);
      products.set(id, product);
    }
    return product ?? reply.code(404).send({ error: 'not found' });
  });
  app.get<{ Params: { id: string }; Querystring: { page?: string } }>(
    '/categories/:id/products',
    async (request) => {
      const categoryId = Number(request.params.id);
      const page = Number(request.query.page ?? 1);
      let pages = lists.get(categoryId);
      if (pages === undefined) lists.set(categoryId, (pages = new Map()));
      let list = pages.get(page);
      if (list === undefined) {
        list = await db.listCategory(categoryId, page);
        pages.set(page, list);
      }
      return list;
    },
  );
  app.put<{ Params: { id: string }; Body: { priceCents: number } }>(
    '/products/:id',
    async (request, reply) => {
      const id = Number(request.params.id);
      const categoryId = await db.updatePrice(id, request.body.priceCents);
      if (categoryId === undefined) return reply.code(404).send({ error: 'not found' });
      products.delete(id);
      lists.delete(categoryId);
      return { ok: true };
    },
  );
  app.post<{ Body: { productId: number; quantity: number } }>('/orders', async (request, reply) => {
    const orderId = await db.insertOrder(request.body.productId, request.body.quantity);
    const submittedAt = wallMs();
    submitted++;
    void sleep(CONFIRMATION_MS).then(() => tasks.record(submittedAt));
    return reply.code(201).send({ id: orderId });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    port: (app.server.address() as { port: number }).port,
    tasks,
    submitted: () => submitted,
    async close() {
      await app.close();
      await db.close();
    },
  };
}
