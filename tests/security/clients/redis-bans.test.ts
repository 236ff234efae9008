import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../../src/redis/client.js';
import { BanList, RedisBanStore } from '../../../src/security/clients/index.js';
import type { BanStore } from '../../../src/security/types.js';
import { eventually } from '../../support/eventually.js';
import { deleteKeysUnderTag } from '../../support/redis-keys.js';
import { REDIS_URL, redis, redisCluster, requires } from '../../support/requirements.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';

const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

/** Two instances of a deployment: a store and a ban list each, on their own connections. */
function deployment(open: (prefix: string) => BanStore, prefix: string, refreshMs = 1_000) {
  const stores = [open(prefix), open(prefix)];
  const lists = stores.map((store) => new BanList({ store, refreshMs }));
  return {
    a: lists[0]!,
    b: lists[1]!,
    stores,
    async close() {
      await Promise.all(lists.map((list) => list.close()));
      await Promise.all(stores.map((store) => store.close?.()));
    },
  };
}

/** The shared-bans behaviour, on a standalone Redis or a Cluster. */
function describeSharedBans(open: (prefix: string) => BanStore, keysOf: () => Redis[]) {
  let prefix: string;
  let instances: ReturnType<typeof deployment> | undefined;
  afterEach(async () => {
    await instances?.close();
    instances = undefined;
    await deleteKeysUnderTag(keysOf(), prefix);
  });
  const start = async (refreshMs?: number) => {
    prefix = `test:bans:${randomUUID()}`;
    instances = deployment(open, prefix, refreshMs);
    await Promise.all([instances.a.start(), instances.b.start()]);
    return instances;
  };

  it('a ban on one instance is refused on the other within a second', async () => {
    const { a, b } = await start();
    const started = performance.now();
    await a.ban('203.0.113.7', '1h', 'brute force', 'logins');
    await eventually(() => b.isBanned('203.0.113.7'), 'the ban on the other instance', 1_000);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(b.get('203.0.113.7')).toMatchObject({ reason: 'brute force', source: 'logins' });
  });

  it('an unban on one instance lifts it on the other within a second', async () => {
    const { a, b } = await start();
    await a.ban('203.0.113.7', '1h', 'test');
    await eventually(() => b.isBanned('203.0.113.7'), 'the ban on the other instance', 1_000);
    const started = performance.now();
    expect(await b.unban('203.0.113.7')).toBe(true);
    await eventually(() => !a.isBanned('203.0.113.7'), 'the unban on the first instance', 1_000);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a ban ends on time, in the store too', async () => {
    const { a, b, stores } = await start();
    await a.ban('203.0.113.7', '400ms', 'short');
    await eventually(() => b.isBanned('203.0.113.7'), 'the ban on the other instance', 1_000);
    await sleep(450);
    expect(a.isBanned('203.0.113.7')).toBe(false);
    expect(b.isBanned('203.0.113.7')).toBe(false);
    expect(await stores[0]!.list()).toEqual([]);
    // The ended ban left the hash: nothing of it stays in Redis but the version counter.
    const left: string[] = [];
    for (const node of keysOf()) {
      for (const key of await node.keys(`{${prefix}}:*`)) {
        if ((await node.type(key)) !== 'string') left.push(key);
        else expect(key).toBe(`{${prefix}}:bans:version`);
      }
    }
    expect(left).toEqual([]);
  });

  it('keeps every key under one hash tag, with a TTL on the bans', async () => {
    const { a } = await start();
    await a.ban('203.0.113.7', '1h', 'test');
    await a.ban('2001:db8:1:2::/64', '2h', 'test');
    const keys: string[] = [];
    for (const node of keysOf()) keys.push(...(await node.keys(`*${prefix}*`)));
    expect(keys.sort()).toEqual(
      [`{${prefix}}:bans`, `{${prefix}}:bans:ends`, `{${prefix}}:bans:version`].sort(),
    );
    let ttl = -2;
    for (const node of keysOf()) {
      const [hash] = await node.keys(`{${prefix}}:bans`);
      if (hash !== undefined) ttl = await node.pttl(hash);
    }
    // Kept until the last ban ends, and a minute.
    expect(ttl).toBeGreaterThan(2 * 3_600_000 - 5_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3_600_000 + 60_000);
  });

  it('without change messages, the refresh brings a ban over within a second', async () => {
    prefix = `test:bans:${randomUUID()}`;
    // The stores of the two instances, seen as plain BanStores: no watch, no version.
    const plain = (store: BanStore): BanStore => ({
      put: (ban) => store.put(ban),
      delete: (client) => store.delete(client),
      list: () => store.list(),
      close: () => store.close?.() ?? Promise.resolve(),
    });
    instances = deployment((p) => plain(open(p)), prefix, 500);
    const { a, b } = instances;
    await Promise.all([a.start(), b.start()]);
    const started = performance.now();
    await a.ban('203.0.113.7', '1h', 'test');
    await eventually(() => b.isBanned('203.0.113.7'), 'the ban on the other instance', 1_000);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
}

describe.runIf(requires(redis))('bans shared through Redis', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });

  describeSharedBans(
    (prefix) => new RedisBanStore({ url: REDIS_URL, prefix }),
    () => [admin],
  );

  it('a ban that already ended leaves the others alone', async () => {
    const prefix = `test:bans:${randomUUID()}`;
    const store = new RedisBanStore({ url: REDIS_URL, prefix });
    try {
      const now = Date.now();
      const ban = { reason: 'test', source: 'manual', createdAt: now };
      await store.put({ ...ban, client: '203.0.113.7', until: now + 60_000 });
      await store.put({ ...ban, client: '203.0.113.8', until: now - 3_600_000 });
      expect((await store.list()).map((b) => b.client)).toEqual(['203.0.113.7']);
      expect(await admin.pttl(`{${prefix}}:bans`)).toBeGreaterThan(60_000);
    } finally {
      await store.close();
      await deleteKeysUnderTag([admin], prefix);
    }
  });

  it('a given client is left open by close()', async () => {
    const client = new Redis(REDIS_URL);
    const prefix = `test:bans:${randomUUID()}`;
    const store = new RedisBanStore({ client, prefix });
    const stop = await store.watch(() => undefined);
    await stop();
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });
});

describe.runIf(redisCluster())('bans shared through a Redis Cluster', () => {
  const clusters: Cluster[] = [];
  let admin: Cluster;
  beforeAll(async () => {
    admin = new Cluster(clusterNodes!);
    await new Promise((ready) => admin.once('ready', ready));
  });
  afterAll(async () => {
    await Promise.all([admin, ...clusters].map((c) => c.quit()));
  });

  describeSharedBans(
    (prefix) => {
      const cluster = new Cluster(clusterNodes!);
      clusters.push(cluster);
      return new RedisBanStore({ client: cluster as RedisClient, prefix });
    },
    () => admin.nodes('master'),
  );
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('bans when Redis is down', () => {
  it('from the start: nothing throws or hangs, decisions are local', async () => {
    const port = await closedPort();
    const errors: Error[] = [];
    const store = new RedisBanStore({
      url: `redis://127.0.0.1:${port}`,
      prefix: `test:bans:${randomUUID()}`,
      commandTimeoutMs: 200,
      onError: (error) => errors.push(error),
    });
    const bans = new BanList({ store, storeTimeoutMs: 300, refreshMs: 100 });
    let started = performance.now();
    await bans.start();
    expect(performance.now() - started).toBeLessThan(1_000);
    started = performance.now();
    await bans.ban('203.0.113.7', '1h', 'while down');
    expect(bans.isBanned('203.0.113.7')).toBe(true);
    expect(await bans.unban('203.0.113.7')).toBe(true);
    expect(bans.isBanned('203.0.113.7')).toBe(false);
    await bans.ban('203.0.113.8', '1h', 'while down');
    await bans.refresh();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(bans.isBanned('203.0.113.8')).toBe(true);
    // Refreshes go on failing quietly in the background.
    await sleep(300);
    expect(bans.isBanned('203.0.113.8')).toBe(true);
    started = performance.now();
    await bans.close();
    await store.close();
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it.runIf(requires(redis))(
    'when it goes away: decisions go on locally, and the writes reach it once it is back',
    async () => {
      const url = new URL(REDIS_URL);
      const target = { port: Number(url.port || 6379), host: url.hostname };
      const proxy = await startTcpProxy(target.port, target.host);
      const prefix = `test:bans:${randomUUID()}`;
      const store = new RedisBanStore({
        url: `redis://127.0.0.1:${proxy.port}`,
        prefix,
        commandTimeoutMs: 200,
      });
      const bans = new BanList({ store, storeTimeoutMs: 300, refreshMs: 100 });
      const admin = new Redis(REDIS_URL);
      let back: Server | undefined;
      try {
        await bans.start();
        await bans.ban('203.0.113.7', '1h', 'before');
        expect(await admin.hexists(`{${prefix}}:bans`, '203.0.113.7')).toBe(1);
        await proxy.close();
        const started = performance.now();
        await bans.ban('203.0.113.8', '1h', 'during');
        expect(await bans.unban('203.0.113.7')).toBe(true);
        expect(performance.now() - started).toBeLessThan(1_000);
        expect(bans.isBanned('203.0.113.7')).toBe(false);
        expect(bans.isBanned('203.0.113.8')).toBe(true);
        expect(bans.pending).toBe(2);
        await sleep(300);
        expect(bans.isBanned('203.0.113.8')).toBe(true);
        expect(await admin.hkeys(`{${prefix}}:bans`)).toEqual(['203.0.113.7']);
        // Redis answers on the same address again: the next refreshes make the pending writes.
        back = forward(proxy.port, target);
        await eventually(() => bans.pending === 0, 'the pending writes', 5_000);
        expect(await admin.hkeys(`{${prefix}}:bans`)).toEqual(['203.0.113.8']);
        expect(bans.list().map((ban) => ban.client)).toEqual(['203.0.113.8']);
      } finally {
        await bans.close();
        await store.close();
        await new Promise((resolve) => (back ? back.close(resolve) : resolve(undefined)));
        await deleteKeysUnderTag([admin], prefix);
        await admin.quit();
      }
    },
  );
});

/** A plain TCP forwarder from `port` to `target`, standing in for Redis coming back. */
function forward(port: number, target: { port: number; host: string }): Server {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  }) as typeof server.close;
  server.listen(port, '127.0.0.1');
  return server;
}
