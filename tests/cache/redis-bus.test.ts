import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheTierError } from '../../src/cache/errors.js';
import { RedisInvalidationBus } from '../../src/cache/redis-bus.js';
import type { InvalidationMessage } from '../../src/cache/types.js';
import { connectionIds } from '../support/redis-connections.js';
import { REDIS_URL, redis, redisCluster, requires } from '../support/requirements.js';

/** Polls `condition` until it holds or `ms` pass. */
async function eventually(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe.runIf(requires(redis))('redis invalidation bus', () => {
  let admin: Redis;
  let prefix: string;
  const opened: { close(): Promise<void> }[] = [];
  const clients: Redis[] = [];

  const bus = (options: ConstructorParameters<typeof RedisInvalidationBus>[0] = {}) => {
    const created = new RedisInvalidationBus({
      ...(options.client === undefined ? { url: REDIS_URL } : {}),
      prefix,
      ...options,
    });
    opened.push(created);
    return created;
  };
  const client = (name?: string) => {
    const created = new Redis(REDIS_URL, name === undefined ? {} : { connectionName: name });
    clients.push(created);
    return created;
  };

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    prefix = `test:${randomUUID()}`;
  });
  afterEach(async () => {
    for (const closable of opened.splice(0)) await closable.close();
    for (const c of clients.splice(0)) if (c.status !== 'end') await c.quit();
  });

  it('delivers messages to the other instances, never back to their origin', async () => {
    const a = bus();
    const b = bus({ client: client() });
    const gotA: InvalidationMessage[] = [];
    const gotB: InvalidationMessage[] = [];
    await a.subscribe('A', (m) => gotA.push(m));
    await b.subscribe('B', (m) => gotB.push(m));
    const fromA: InvalidationMessage = {
      type: 'delete',
      origin: 'A',
      namespace: 'ns',
      keys: ['k'],
    };
    const fromB: InvalidationMessage = { type: 'tags', origin: 'B', tags: ['t'] };
    await a.publish(fromA);
    await b.publish(fromB);
    await b.publish({ type: 'clear', origin: 'B', namespace: 'users' });
    await eventually(() => gotA.length === 2 && gotB.length === 1);
    await sleep(50);
    expect(gotB).toEqual([fromA]);
    expect(gotA).toEqual([fromB, { type: 'clear', origin: 'B', namespace: 'users' }]);
    expect(a.stats()).toEqual({ published: 1, received: 2, errors: 0 });
    expect(b.stats()).toEqual({ published: 2, received: 1, errors: 0 });
  });

  it('keeps a bus on another prefix out of the conversation', async () => {
    const a = bus();
    const other = bus({ prefix: `${prefix}:other` });
    const got = vi.fn();
    await other.subscribe('O', got);
    await a.publish({ type: 'clear', origin: 'A' });
    await sleep(100);
    expect(got).not.toHaveBeenCalled();
  });

  it('counts a malformed message as an error and keeps going', async () => {
    const onError = vi.fn();
    const b = bus({ onError });
    const got: InvalidationMessage[] = [];
    await b.subscribe('B', (m) => got.push(m));
    const channel = `${prefix}:invalidate`;
    for (const raw of [
      'not json',
      'null',
      '[]',
      '{"type":"delete","origin":"A","namespace":"ns"}',
      '{"type":"drop","origin":"A"}',
      '{"type":"tags","origin":"A","tags":[1]}',
      '{"type":"clear"}',
    ]) {
      await admin.publish(channel, raw);
    }
    await admin.publish(channel, JSON.stringify({ type: 'clear', origin: 'A' }));
    await eventually(() => got.length === 1);
    expect(got).toEqual([{ type: 'clear', origin: 'A' }]);
    expect(b.stats()).toEqual({ published: 0, received: 1, errors: 7 });
    expect(onError).toHaveBeenCalledTimes(7);
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(CacheTierError);
  });

  it('contains a handler that throws', async () => {
    const b = bus();
    await b.subscribe('B', () => {
      throw new Error('handler bug');
    });
    await bus().publish({ type: 'clear', origin: 'A' });
    await eventually(() => b.stats().errors === 1);
    expect(b.stats().received).toBe(1);
  });

  it('re-subscribes after its subscriber connection is killed', async () => {
    const name = `bus-${randomUUID().slice(0, 8)}`;
    const onReconnect = vi.fn();
    // The subscriber is a duplicate() of this client, so it carries the same connection name.
    const b = bus({ client: client(name), onReconnect, onError: () => {} });
    const got: InvalidationMessage[] = [];
    await b.subscribe('B', (m) => got.push(m));
    const a = bus();
    const subscribers = () => connectionIds(admin, name, true);
    const [id] = await subscribers();
    expect(id).toBeDefined();
    expect(await admin.client('KILL', 'ID', id!)).toBe(1);
    await eventually(async () => {
      const now = await subscribers();
      return now.length === 1 && now[0] !== id;
    });
    await eventually(() => onReconnect.mock.calls.length > 0);
    await a.publish({ type: 'tags', origin: 'A', tags: ['after'] });
    await eventually(() => got.length === 1);
    expect(got).toEqual([{ type: 'tags', origin: 'A', tags: ['after'] }]);
  });

  it('closes what it opened and nothing it was given', async () => {
    const given = client();
    const b = bus({ client: given });
    await b.subscribe('B', () => {});
    await b.close();
    await b.close();
    expect(await given.ping()).toBe('PONG');
    expect(await admin.pubsub('NUMSUB', `${prefix}:invalidate`)).toEqual([
      `${prefix}:invalidate`,
      0,
    ]);
    await expect(b.publish({ type: 'clear', origin: 'B' })).rejects.toBeInstanceOf(CacheTierError);
    expect(b.stats().errors).toBe(1);

    const own = bus();
    await own.subscribe('O', () => {});
    await own.close();
    expect(await admin.pubsub('NUMSUB', `${prefix}:invalidate`)).toEqual([
      `${prefix}:invalidate`,
      0,
    ]);
  });

  it('rejects quickly, and counts it, when Redis cannot be reached', async () => {
    const errors: Error[] = [];
    const down = bus({
      url: 'redis://127.0.0.1:1',
      commandTimeoutMs: 300,
      onError: (e) => errors.push(e),
    });
    const started = performance.now();
    await expect(down.publish({ type: 'clear', origin: 'D' })).rejects.toBeInstanceOf(
      CacheTierError,
    );
    await expect(down.subscribe('D', () => {})).rejects.toBeInstanceOf(CacheTierError);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(down.stats().errors).toBeGreaterThanOrEqual(1);
  });
});

/** Opt-in, as in redis-tier.test.ts: TEST_REDIS_CLUSTER_NODES=127.0.0.1:7201,127.0.0.1:7202. */
const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

describe.runIf(redisCluster())('redis invalidation bus on a Cluster', () => {
  it('delivers between buses on Cluster clients', async () => {
    const prefix = `test:${randomUUID()}`;
    const clusters = [new Cluster(clusterNodes!), new Cluster(clusterNodes!)];
    const [a, b] = clusters.map((client) => new RedisInvalidationBus({ client, prefix }));
    try {
      const got: InvalidationMessage[] = [];
      await b!.subscribe('B', (m) => got.push(m));
      await a!.publish({ type: 'clear', origin: 'A', namespace: 'ns' });
      await eventually(() => got.length === 1);
      expect(got).toEqual([{ type: 'clear', origin: 'A', namespace: 'ns' }]);
    } finally {
      await a!.close();
      await b!.close();
      for (const cluster of clusters) await cluster.quit();
    }
  });
});
