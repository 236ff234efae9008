/**
 * The shop of `npm run demo`: a catalogue behind a cached, monitored repository, orders that
 * submit tasks (some retried, some dead-lettered), a schedule, analytics events and logins.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Enterprise, monitorPerformance } from '../../src/index.js';

interface Product {
  id: string;
  name: string;
  category: string;
  price: number;
}

/** A card the payment provider always declines: its charges end in the dead letter queue. */
export const DECLINED_CARD = '4000-0000-0000-0002';
export const PRODUCTS = 500;

export function shopService(enterprise: Enterprise) {
  const catalogue = new Map<string, Product>();
  for (let i = 1; i <= PRODUCTS; i++) {
    const id = String(i);
    catalogue.set(id, { id, name: `Product ${i}`, category: `c${i % 12}`, price: 5 + (i % 40) });
  }
  // The "database": a few milliseconds a query, timed under its own operation name.
  const findProduct = monitorPerformance('ProductRepository.find', async (id: string) => {
    await sleep(4 + Math.random() * 6);
    return catalogue.get(id) ?? null;
  });
  const searchProducts = monitorPerformance('ProductRepository.search', async (q: string) => {
    await sleep(10 + Math.random() * 15);
    return [...catalogue.values()].filter((p) => p.name.includes(q)).slice(0, 10);
  });

  const tasks = enterprise.tasks;
  tasks.register('send_confirmation', async (payload) => {
    await sleep(15);
    return { sent: (payload as { orderId: string }).orderId };
  });
  tasks.register(
    'charge_card',
    async (payload) => {
      await sleep(10);
      if ((payload as { card: string }).card === DECLINED_CARD) throw new Error('card declined');
      return { charged: true };
    },
    { maxRetries: 1, backoff: { type: 'fixed', delay: '200ms' } },
  );
  tasks.register(
    'import_inventory',
    async (_payload, { attempt }) => {
      // The supplier's API times out twice, then answers: two retries, then success.
      if (attempt < 3) throw new Error('supplier API timed out');
      return { rows: 120 };
    },
    { maxRetries: 3, backoff: { type: 'fixed', delay: '300ms' } },
  );
  tasks.register('refresh_stats', async () => ({ products: catalogue.size }));
  tasks.scheduler.scheduleEvery('10s', 'refresh_stats', 'refresh_stats');

  let orders = 0;
  return {
    async product(id: string, user?: string) {
      if (user) enterprise.analytics.track('view_product', { userId: user, properties: { id } });
      return enterprise.cache.getOrSet(`product:${id}`, () => findProduct(id), {
        ttl: 60,
        tags: [`product:${id}`],
      });
    },
    async reprice(id: string, price: number) {
      const product = catalogue.get(id);
      if (product) product.price = price;
      await enterprise.cache.invalidateTags([`product:${id}`]);
      return { id, price };
    },
    async order(body: { user?: string; card?: string; product?: string }) {
      orders++;
      const orderId = `o-${process.pid}-${orders}`;
      if (body.user) {
        enterprise.analytics.track('add_to_cart', { userId: body.user });
        enterprise.analytics.track('order', { userId: body.user, properties: { orderId } });
      }
      const ids = [
        await tasks.submit('charge_card', { orderId, card: body.card ?? '4242-4242-4242-4242' }),
        await tasks.submit('send_confirmation', { orderId }),
      ];
      if (orders % 15 === 1) ids.push(await tasks.submit('import_inventory', { orderId }));
      return { orderId, tasks: ids };
    },
    async search(q: string, user?: string) {
      if (user) enterprise.analytics.track('search', { userId: user, properties: { q } });
      return searchProducts(q);
    },
    login(body: { user?: string; password?: string }, ip: string): boolean {
      const success = body.password === 'correct horse';
      enterprise.security.recordLogin({
        userId: body.user ?? 'unknown',
        ip,
        success,
        ...(success ? {} : { reason: 'bad-password' }),
      });
      return success;
    },
  };
}
