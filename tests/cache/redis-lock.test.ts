import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CacheTierError } from '../../src/cache/errors.js';
import { RedisLock } from '../../src/cache/redis-lock.js';
import { InvalidArgumentError } from '../../src/index.js';
import { REDIS_URL, redis, redisCluster, requires } from '../support/requirements.js';

describe.runIf(requires(redis))('redis lock', () => {
  let admin: Redis;
  let prefix: string;
  let lock: RedisLock;

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    prefix = `test:${randomUUID()}`;
    lock = new RedisLock({ client: admin, prefix });
  });
  afterEach(async () => {
    await lock.close();
    const [, keys] = await admin.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    if (keys.length > 0) await admin.del(...keys);
  });

  it('lets exactly one of many concurrent acquirers win', async () => {
    const others = Array.from({ length: 5 }, () => new RedisLock({ url: REDIS_URL, prefix }));
    try {
      const tokens = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? lock : others[i % others.length]!).acquire('report', 10_000),
        ),
      );
      const winners = tokens.filter((token) => token !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatch(/^[\w-]{22}$/);
    } finally {
      for (const other of others) await other.close();
    }
  });

  it('ignores a release with a wrong token and frees the lock with the right one', async () => {
    const token = await lock.acquire('r', 10_000);
    expect(token).toBeDefined();
    await lock.release('r', 'not-the-token');
    expect(await lock.acquire('r', 10_000)).toBeUndefined();
    await lock.release('r', token!);
    const next = await lock.acquire('r', 10_000);
    expect(next).toBeDefined();
    expect(next).not.toBe(token);
    // The first holder, late, must not release the second holder's lock.
    await lock.release('r', token!);
    expect(await lock.acquire('r', 10_000)).toBeUndefined();
  });

  it('expires after its ttl', async () => {
    expect(await lock.acquire('short', 150)).toBeDefined();
    expect(await lock.acquire('short', 150)).toBeUndefined();
    await sleep(250);
    expect(await lock.acquire('short', 150)).toBeDefined();
  });

  it('keeps resources apart, long ones included', async () => {
    const long = 'r'.repeat(5_000);
    expect(await lock.acquire(`${long}1`, 10_000)).toBeDefined();
    expect(await lock.acquire(`${long}2`, 10_000)).toBeDefined();
    expect(await lock.acquire('a:b', 10_000)).toBeDefined();
    expect(await lock.acquire('a%3Ab', 10_000)).toBeDefined();
    const [, keys] = await admin.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    expect(keys.every((key) => key.length < prefix.length + 80)).toBe(true);
  });

  it('refuses invalid arguments and fails fast when Redis is away', async () => {
    await expect(lock.acquire('', 1_000)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(lock.acquire('r', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    const down = new RedisLock({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 300 });
    const started = performance.now();
    await expect(down.acquire('r', 1_000)).rejects.toBeInstanceOf(CacheTierError);
    await expect(down.release('r', 'token')).rejects.toBeInstanceOf(CacheTierError);
    expect(performance.now() - started).toBeLessThan(3_000);
    await down.close();
  });
});

/** Opt-in, as in redis-tier.test.ts: TEST_REDIS_CLUSTER_NODES=127.0.0.1:7201,127.0.0.1:7202. */
const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

describe.runIf(redisCluster())('redis lock on a Cluster', () => {
  it('acquires and releases', async () => {
    const cluster = new Cluster(clusterNodes!);
    const lock = new RedisLock({ client: cluster, prefix: `test:${randomUUID()}` });
    try {
      const tokens = await Promise.all(Array.from({ length: 10 }, () => lock.acquire('r', 5_000)));
      const winner = tokens.find((token) => token !== undefined);
      expect(tokens.filter((token) => token !== undefined)).toHaveLength(1);
      await lock.release('r', 'wrong');
      expect(await lock.acquire('r', 5_000)).toBeUndefined();
      await lock.release('r', winner!);
      const again = await lock.acquire('r', 5_000);
      expect(again).toBeDefined();
      await lock.release('r', again!);
    } finally {
      await cluster.quit();
    }
  });
});
