// The AnalyticsStore conformance suite against the package's stores: memory, Redis (two
// connections on one prefix, as two instances of a deployment) and Redis Cluster.
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe } from 'vitest';
import { MemoryAnalyticsStore } from '../../src/analytics/events/memory-store.js';
import { RedisAnalyticsStore } from '../../src/analytics/events/redis-store.js';
import { describeAnalyticsStore } from '../../src/testing/index.js';
import { REDIS_URL, redis, redisCluster, requires } from '../support/requirements.js';

const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

/** The keys under `prefix`'s hash tag on each node given. */
async function scan(nodes: Redis[], prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

async function deleteKeys(nodes: Redis[], prefix: string): Promise<void> {
  for (const node of nodes) {
    const keys = await scan([node], prefix);
    for (let i = 0; i < keys.length; i += 500) await node.del(...keys.slice(i, i + 500));
  }
}

async function expiries(node: Redis, prefix: string): Promise<number[]> {
  const keys = await scan([node], prefix);
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

describe.runIf(requires(redis))('redis analytics store', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(() => admin.quit());

  describeAnalyticsStore('redis', vitest, {
    create() {
      const prefix = `test:analytics:${randomUUID()}`;
      const store = new RedisAnalyticsStore({ url: REDIS_URL, prefix });
      const second = new RedisAnalyticsStore({ url: REDIS_URL, prefix });
      return {
        store,
        second,
        expiries: () => expiries(admin, prefix),
        async cleanup() {
          await Promise.all([store.close(), second.close()]);
          await deleteKeys([admin], prefix);
        },
      };
    },
  });
});

describe.runIf(redisCluster())('redis analytics store on a Cluster', () => {
  let cluster: Cluster;
  let other: Cluster;
  beforeAll(async () => {
    cluster = new Cluster(clusterNodes!);
    other = new Cluster(clusterNodes!);
    await Promise.all([cluster, other].map((c) => new Promise((ok) => c.once('ready', ok))));
  });
  afterAll(async () => {
    await Promise.all([cluster.quit(), other.quit()]);
  });

  describeAnalyticsStore('redis cluster', vitest, {
    create() {
      const prefix = `test:analytics:${randomUUID()}`;
      // Given clients: the stores never close them.
      const store = new RedisAnalyticsStore({ client: cluster, prefix });
      const second = new RedisAnalyticsStore({ client: other, prefix });
      return { store, second, cleanup: () => deleteKeys(cluster.nodes('master'), prefix) };
    },
  });
});
