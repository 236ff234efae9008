// The HistoryStore conformance suite against the Redis store, standalone and on a Cluster, and
// what is particular to it: its keys, their expiry, and calls bounded while Redis is away.
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisHistoryStore } from '../../../src/analytics/history/index.js';
import { operationRollup } from '../../../src/testing/history-store.js';
import { describeHistoryStore } from '../../../src/testing/index.js';
import { REDIS_URL, redis, redisCluster, requires } from '../../support/requirements.js';

const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

/** Deletes the keys under `prefix` on each node given. */
async function deleteKeys(nodes: Redis[], prefix: string): Promise<void> {
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) await node.del(key);
    } while (cursor !== '0');
  }
}

const testPrefix = () => `test:history:${randomUUID()}`;

describe.runIf(requires(redis))('redis history store', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(() => admin.quit());

  describeHistoryStore('redis', vitest, {
    create(options) {
      const prefix = testPrefix();
      // Two connections on one prefix, as two processes of a deployment have.
      const store = new RedisHistoryStore({ url: REDIS_URL, prefix, ...options });
      const second = new RedisHistoryStore({ url: REDIS_URL, prefix, ...options });
      return { store, second, cleanup: () => deleteKeys([admin], prefix) };
    },
  });

  it('keeps every key of a name under its hash tag, each expiring after its retention', async () => {
    const prefix = testPrefix();
    const store = new RedisHistoryStore({
      url: REDIS_URL,
      prefix,
      retention: { minutes: '2h', hours: '3d' },
    });
    try {
      const at = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
      await store.write({
        id: 'k:1',
        at,
        operations: [operationRollup('GET /a:{b}', { route: '/a' }, [1, 2])],
        metrics: [],
      });
      const keys = (await admin.keys(`${prefix}:*`)).sort();
      const tagged = keys.filter((key) => key !== `${prefix}:index`);
      expect(tagged).toHaveLength(3);
      // The name is escaped: its braces cannot end the tag early.
      for (const key of tagged)
        expect(key.startsWith(`${prefix}:{o%3AGET /a%3A%7Bb%7D}:`)).toBe(true);
      const hour = Math.floor(at / 3_600_000) * 3_600_000;
      const day = Math.floor(at / 86_400_000) * 86_400_000;
      const minutesKey = tagged.find((key) => key.includes(':m:'))!;
      const hoursKey = tagged.find((key) => key.includes(':h:'))!;
      expect(await admin.pexpiretime(minutesKey)).toBe(hour + 3_600_000 + 2 * 3_600_000);
      expect(await admin.pexpiretime(hoursKey)).toBe(day + 86_400_000 + 3 * 86_400_000);
      expect(await admin.pttl(`${prefix}:index`)).toBeGreaterThan(0);
    } finally {
      await store.close();
      await deleteKeys([admin], prefix);
    }
  });

  it('rejects within its timeout with a HistoryStoreError while Redis is away', async () => {
    // Nothing listens on port 1: the client reconnects forever, every call fails fast.
    const store = new RedisHistoryStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
    try {
      const started = performance.now();
      const error = await store
        .query({ operation: 'op', from: Date.now() - 600_000, to: Date.now(), step: 60 })
        .catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(error).toMatchObject({
        code: 'E_HISTORY_STORE',
        context: { store: 'redis', operation: 'query' },
      });
    } finally {
      await store.close();
    }
  });
});

describe.runIf(redisCluster())('redis history store on a Cluster', () => {
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

  describeHistoryStore('redis cluster', vitest, {
    create(options) {
      const prefix = testPrefix();
      const store = new RedisHistoryStore({ client: cluster, prefix, ...options });
      const second = new RedisHistoryStore({ client: other, prefix, ...options });
      return { store, second, cleanup: () => deleteKeys(cluster.nodes('master'), prefix) };
    },
  });
});
