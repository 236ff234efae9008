import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/cache/cache.js';
import { RedisLock } from '../../src/cache/redis-lock.js';
import { MemoryTier } from '../../src/cache/tiers/memory.js';
import { postgresTier } from '../../src/cache/tiers/postgres.js';
import { redisTier } from '../../src/cache/tiers/redis.js';
import type { DistributedLock } from '../../src/cache/types.js';
import { createEnterprise, LifecycleError } from '../../src/index.js';
import { POSTGRES_URL, postgres, REDIS_URL, redis, requires } from '../support/requirements.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Deletes every key under `prefix` (SCAN + DEL), so each test leaves Redis as it found it. */
async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

async function until(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/**
 * A TCP proxy in front of the real Redis that can stop forwarding (data is held, not dropped),
 * which is what a stalled server or a saturated network looks like to a client.
 */
async function stallingProxy(target: URL) {
  let stalled = false;
  const sockets = new Set<net.Socket>();
  const held: (() => void)[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (stalled) held.push(() => to.write(chunk));
        else to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall(on: boolean) {
      stalled = on;
      if (!on) for (const release of held.splice(0)) release();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.runIf(requires(redis))('cache on a real Redis: instances sharing L2', () => {
  const caches: Cache[] = [];
  const prefix = `test:cache:${randomUUID()}`;
  const admin = new Redis(REDIS_URL);

  function instance(): Cache {
    const cache = createCache({ redisUrl: REDIS_URL, prefix, logger: silent });
    caches.push(cache);
    return cache;
  }

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await dropPrefix(admin, prefix);
  });

  it('builds memory + Redis from a URL, and another instance reads what one wrote', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.start(), b.start()]);
    await a.set('user:1', { name: 'Ada' }, { namespace: 'users', ttl: 60 });
    expect(await b.get('user:1', { namespace: 'users' })).toEqual({ name: 'Ada' });
    expect(a.analytics().tiers.map((t) => t.name)).toEqual(['memory', 'redis']);
  });

  it('drops the other instances\u2019 L1 copy on set, delete, tag invalidation and clear', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.start(), b.start()]);
    await a.set('k', 'v1', { tags: ['t'] });
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2', { tags: ['t'] });
    await until(async () => (await b.get('k')) === 'v2');
    await a.invalidateTags(['t']);
    await until(async () => (await b.get('k')) === undefined);
    await a.set('k', 'v3', { namespace: 'n' });
    expect(await b.get('k', { namespace: 'n' })).toBe('v3');
    await a.clear({ namespace: 'n' });
    await until(async () => (await b.get('k', { namespace: 'n' })) === undefined);
    await a.set('k', 'v4');
    expect(await b.get('k')).toBe('v4');
    await a.delete('k');
    await until(async () => (await b.get('k')) === undefined);
    expect(b.analytics().bus!.received).toBeGreaterThan(0);
  });

  it('closes the tiers it was given on close, and leaves the clients given to them open', async () => {
    const client = new Redis(REDIS_URL);
    const fromUrl = redisTier({ url: REDIS_URL, prefix: `${prefix}:url` });
    const fromClient = redisTier({ client, prefix: `${prefix}:client` });
    const memory = new MemoryTier();
    const cache = createCache({ tiers: [memory, fromUrl, fromClient], logger: silent, bus: false });
    await cache.set('k', 'v');
    await cache.close();
    // The tier that opened its own connection quit it; the one given a client left it open.
    expect(fromUrl.client.status).toBe('end');
    expect(await client.ping()).toBe('PONG');
    await expect(fromClient.get('default', 'k')).rejects.toThrow(/after close/);
    await dropPrefix(admin, `${prefix}:client`);
    client.disconnect();
  });

  it('gives an enterprise instance memory + Redis when REDIS_URL is set, and closes it on shutdown', async () => {
    const enterprise = createEnterprise({
      env: { REDIS_URL },
      logLevel: 'silent',
      performance: { systemMetrics: false },
      cache: { prefix },
    });
    await enterprise.start();
    await enterprise.cache.set('seed', 'the seed configuration');
    expect(enterprise.cache.analytics().tiers.map((t) => t.name)).toEqual(['memory', 'redis']);
    expect(await admin.exists(`${prefix}:{default}:k:=seed`)).toBe(1);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    await enterprise.shutdown();
    const after = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    expect(after).toBeLessThan(before);
    expect(
      createEnterprise({ env: {}, logLevel: 'silent' })
        .cache.analytics()
        .tiers.map((t) => t.name),
    ).toEqual(['memory']);
  });

  it('listens to other instances from its creation, without start()', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2');
    await until(async () => (await b.get('k')) === 'v2');
  });

  it('derives the bus and the lock from a Redis tier given in tiers', async () => {
    const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    const caches = clients.map((client) =>
      createCache({ tiers: [new MemoryTier(), redisTier({ client, prefix })], logger: silent }),
    );
    try {
      await Promise.all(caches.map((cache) => cache.ready()));
      expect(caches[0]!.analytics().bus).not.toBeNull();
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(80);
        return 'once';
      };
      await Promise.all(caches.map((cache) => cache.getOrSet('locked', loader, { lock: true })));
      expect(calls).toBe(1);
      await caches[0]!.set('k', 'v1');
      expect(await caches[1]!.get('k')).toBe('v1');
      await caches[0]!.set('k', 'v2');
      await until(async () => (await caches[1]!.get('k')) === 'v2');
    } finally {
      await Promise.all(caches.map((cache) => cache.close()));
      await Promise.all(clients.map((client) => client.quit()));
    }
  });

  it('refuses to build the cache of an instance that was shut down, so no connection outlives it', async () => {
    const enterprise = createEnterprise({ env: { REDIS_URL }, logLevel: 'silent' });
    await enterprise.shutdown();
    expect(() => enterprise.cache).toThrow(LifecycleError);
  });

  it('runs a loader once across instances with lock: true', async () => {
    const instances = [instance(), instance(), instance()];
    await Promise.all(instances.map((cache) => cache.start()));
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(100);
      return 'computed';
    };
    const results = await Promise.all(
      instances.flatMap((cache) =>
        Array.from({ length: 5 }, () => cache.getOrSet('expensive', loader, { lock: true })),
      ),
    );
    expect(results.every((r) => r === 'computed')).toBe(true);
    expect(calls).toBe(1);
  });

  it('looks again after taking the lock, so a value the previous holder stored is not loaded twice', async () => {
    const lockClient = new Redis(REDIS_URL);
    const lockPrefix = `${prefix}:lock`;
    const shared = new RedisLock({ client: lockClient, prefix: lockPrefix });
    let asking!: () => void;
    const asked = new Promise<void>((resolve) => {
      asking = resolve;
    });
    let letThrough!: () => void;
    const firstDone = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    // The second instance reaches the lock only once the first has loaded, stored and released:
    // the window between its last look at the cache and its taking the lock, held open.
    const late: DistributedLock = {
      async acquire(resource, ttlMs) {
        asking();
        await firstDone;
        return shared.acquire(resource, ttlMs);
      },
      release: (resource, token) => shared.release(resource, token),
    };
    const first = createCache({ redisUrl: REDIS_URL, prefix, logger: silent, lock: shared });
    const second = createCache({
      redisUrl: REDIS_URL,
      prefix,
      logger: silent,
      lock: late,
      remote: { timeoutMs: 5_000 },
    });
    caches.push(first, second);
    try {
      let calls = 0;
      const loader = (value: string) => async () => {
        calls++;
        return value;
      };
      const waiting = second.getOrSet('once', loader('second'), { lock: true });
      await asked; // the second instance missed and is taking the lock
      expect(await first.getOrSet('once', loader('first'), { lock: true })).toBe('first');
      await until(async () => (await admin.keys(`${lockPrefix}:*`)).length === 0); // released
      letThrough();
      expect(await waiting).toBe('first');
      expect(calls).toBe(1);
    } finally {
      await lockClient.quit();
    }
  });

  it('keeps answering from memory when Redis cannot be reached, within the timeout', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const cache = createCache({
        redisUrl: 'redis://127.0.0.1:1',
        logger: silent,
        remote: { timeoutMs: 200 },
      });
      caches.push(cache);
      await cache.start();
      const started = performance.now();
      await cache.set('k', 'v');
      expect(await cache.get('k')).toBe('v');
      expect(await cache.getOrSet('k2', () => 'loaded')).toBe('loaded');
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(cache.analytics().tiers[1]!.errors).toBeGreaterThan(0);
      await sleep(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('answers within its timeout while Redis stalls (a proxy stops forwarding), and recovers', async () => {
    const proxy = await stallingProxy(new URL(REDIS_URL));
    try {
      const cache = createCache({
        redisUrl: `redis://127.0.0.1:${proxy.port}`,
        prefix,
        logger: silent,
        bus: false,
        remote: { timeoutMs: 200, failureThreshold: 3, halfOpenAfterMs: 300 },
      });
      caches.push(cache);
      await cache.set('before', 'v');
      proxy.stall(true);
      const started = performance.now();
      expect(await cache.get('before')).toBe('v');
      expect(await cache.get('not-in-memory')).toBeUndefined();
      await cache.set('during', 'w');
      expect(await cache.get('during')).toBe('w');
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(cache.analytics().tiers[1]!.timeouts).toBeGreaterThan(0);
      proxy.stall(false);
      await until(async () => {
        await cache.set('after', 'x');
        return (await admin.exists(`${prefix}:{default}:k:=after`)) === 1;
      }, 5_000);
    } finally {
      await proxy.close();
    }
  });

  it('recovers after its Redis connections are killed (CLIENT KILL)', async () => {
    const client = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise((resolve) => client.once('ready', resolve));
    client.on('error', () => {});
    const cache = createCache({
      tiers: [new MemoryTier(), redisTier({ client, prefix })],
      logger: silent,
      bus: false,
      remote: { timeoutMs: 300, failureThreshold: 100 },
    });
    caches.push(cache);
    await cache.set('k', 'before');
    const id = await client.client('ID');
    await admin.client('KILL', 'ID', String(id));
    await until(async () => {
      await cache.set('k2', 'after');
      return (await admin.exists(`${prefix}:{default}:k:=k2`)) === 1;
    }, 5_000);
    expect(await cache.get('k2')).toBe('after');
    await client.quit();
  });
});

describe.runIf(requires(postgres))('cache with a PostgreSQL L3', () => {
  it('promotes an L3 hit into L1 and invalidates tags in both', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const table = `cache_engine_${randomUUID().replaceAll('-', '')}`;
    const memory = new MemoryTier();
    const cache = createCache({
      tiers: [memory, postgresTier({ pool, table })],
      logger: silent,
      bus: false,
    });
    try {
      await cache.set('k', { big: 'x'.repeat(2_000) }, { tags: ['t'], ttl: 60 });
      memory.removeAll();
      expect(await cache.get('k')).toEqual({ big: 'x'.repeat(2_000) });
      expect(memory.read('default', 'k')).toBeDefined();
      await cache.invalidateTags(['t']);
      expect(await cache.get('k')).toBeUndefined();
      const { rows } = await pool.query(`select count(*)::int as n from ${table}`);
      expect(rows[0].n).toBe(0);
    } finally {
      await cache.close();
      await pool.query(`drop table if exists ${table}_tags, ${table}`).catch(() => {});
      await pool.end();
    }
  });
});
