/**
 * npm run demo:cache
 *
 * The multi-tier cache with in-memory defaults (set REDIS_URL to put Redis behind it): a cached
 * service method, a stampede of 1,000 callers, a loader that fails while a stale value exists,
 * tag invalidation, and the analytics at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Cached, cache, configure } from '../src/index.js';

// With REDIS_URL set, the demo keeps its keys under its own prefix and starts from an empty cache.
const enterprise = configure({ logLevel: 'error', cache: { prefix: 'demo:cache' } });

let queries = 0;
const db = {
  async product(id: string) {
    queries++;
    await sleep(20);
    return { id, name: `Product ${id}`, price: 10 + id.length, updatedAt: new Date() };
  },
};

class ProductService {
  @Cached({
    namespace: 'products',
    ttl: '10m',
    tags: (product: { id: string }) => [`product:${product.id}`],
  })
  async find(id: string) {
    return db.product(id);
  }
}

await enterprise.start();
await cache.clear();
const products = new ProductService();

// 1. A cached method: the second call does not reach the database.
await products.find('42');
await products.find('42');
console.log(`cached method: 2 calls, ${queries} database query`);

// 2. A stampede: 1,000 concurrent callers for a missing key run the loader once.
queries = 0;
await Promise.all(
  Array.from({ length: 1_000 }, () => cache.getOrSet('best-sellers', () => db.product('best'))),
);
console.log(`stampede: 1000 callers, ${queries} database query`);

// 3. Grace: when the loader fails, the expired value is served instead of an error.
await cache.set('exchange-rate', 1.08, { ttl: '50ms', grace: '1h' });
await sleep(100);
const rate = await cache.getOrSet('exchange-rate', () =>
  Promise.reject(new Error('rates API down')),
);
console.log(`grace: rates API down, served the last known rate ${rate}`);

// 4. Tags: one call removes every entry of a product, in every tier and instance.
await cache.invalidateTags(['product:42']);
queries = 0;
await products.find('42');
console.log(
  `tags: after invalidateTags(['product:42']) the next call queried the database ${queries} time`,
);

const analytics = cache.analytics();
console.log(
  `\nanalytics: ${analytics.hits} hits, ${analytics.misses} misses, hit ratio ${(analytics.hitRatio * 100).toFixed(0)}%, tiers ${analytics.tiers.map((t) => t.name).join(' + ')}`,
);
for (const [namespace, stats] of Object.entries(analytics.namespaces)) {
  console.log(
    `  ${namespace}: ${stats.hits} hits, ${stats.misses} misses, ${stats.loaderCalls} loader calls, ${stats.dedupedCalls} deduplicated, ${stats.staleServed} stale served`,
  );
}
await enterprise.shutdown();
