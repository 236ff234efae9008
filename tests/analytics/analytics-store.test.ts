// The AnalyticsStore conformance suite against the package's stores: memory, Redis (two
// connections on one prefix, as two instances of a deployment) and Redis Cluster.
import type { Redis } from 'ioredis';
import * as vitest from 'vitest';
import { describe } from 'vitest';
import { MemoryAnalyticsStore } from '../../src/analytics/events/memory-store.js';
import { RedisAnalyticsStore } from '../../src/analytics/events/redis-store.js';
import { describeAnalyticsStore } from '../../src/testing/index.js';
import { clusterClients } from '../support/redis-cluster.js';
import { keysUnderTag } from '../support/redis-keys.js';
import { redisAdmin, type StoreConnection, storePair } from '../support/redis-store-pair.js';
import { redis, redisCluster, requires } from '../support/requirements.js';

async function expiries(node: Redis, prefix: string): Promise<number[]> {
  const keys = await keysUnderTag([node], prefix);
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.pttl(key);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([, ms]) => (Number(ms) < 0 ? Number.POSITIVE_INFINITY : Number(ms)));
}

describeAnalyticsStore('memory', vitest, {
  create() {
    const store = new MemoryAnalyticsStore();
    return { store, cleanup: () => store.close() };
  },
});

const open = (connection: StoreConnection, prefix: string) =>
  new RedisAnalyticsStore({ ...connection, prefix });

describe.runIf(requires(redis))('redis analytics store', () => {
  const admin = redisAdmin();

  describeAnalyticsStore('redis', vitest, {
    create() {
      const stores = storePair({ admin }, 'test:analytics', open);
      return { ...stores, expiries: () => expiries(admin(), stores.prefix) };
    },
  });
});

describe.runIf(redisCluster())('redis analytics store on a Cluster', () => {
  const clusters = clusterClients(2);

  describeAnalyticsStore('redis cluster', vitest, {
    create: () => storePair({ clusters }, 'test:analytics', open),
  });
});
