import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/cache/cache.js';
import { memoryTier } from '../../src/cache/tiers/memory.js';
import { redisTier } from '../../src/cache/tiers/redis.js';
import type {
  CacheTier,
  DistributedLock,
  EntryMeta,
  InvalidationBus,
  InvalidationMessage,
  StoredEntry,
} from '../../src/cache/types.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A local tier as a user would write one: a Map, the promise-returning members only. */
class MapTier implements CacheTier<unknown> {
  readonly name = 'map';
  readonly local = true;
  readonly entries = new Map<string, StoredEntry<unknown>>();
  reads = 0;

  async get(namespace: string, key: string): Promise<StoredEntry<unknown> | undefined> {
    this.reads++;
    const entry = this.entries.get(`${namespace}\u0000${key}`);
    return entry !== undefined && entry.staleUntil > Date.now() ? entry : undefined;
  }
  async set(namespace: string, key: string, payload: unknown, meta: EntryMeta): Promise<void> {
    this.entries.set(`${namespace}\u0000${key}`, { ...meta, payload });
  }
  async delete(namespace: string, key: string): Promise<boolean> {
    return this.entries.delete(`${namespace}\u0000${key}`);
  }
  async deleteByTags(tags: readonly string[], namespace?: string): Promise<number> {
    let removed = 0;
    for (const [id, entry] of this.entries) {
      if (namespace !== undefined && !id.startsWith(`${namespace}\u0000`)) continue;
      if (entry.tags.some((tag) => tags.includes(tag)) && this.entries.delete(id)) removed++;
    }
    return removed;
  }
  async clear(namespace?: string): Promise<void> {
    for (const id of this.entries.keys()) {
      if (namespace === undefined || id.startsWith(`${namespace}\u0000`)) this.entries.delete(id);
    }
  }
  async removeExpired(): Promise<number> {
    return 0;
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The same, answering synchronously as well: the engine's hot path then skips `get`. */
class PeekingMapTier extends MapTier {
  peeks = 0;
  peek(namespace: string, key: string, now: number): StoredEntry<unknown> | undefined {
    this.peeks++;
    const entry = this.entries.get(`${namespace}\u0000${key}`);
    return entry !== undefined && entry.staleUntil > now ? entry : undefined;
  }
}

/** get/set/delete/tags/getOrSet through `l1` in front of `l2`. */
async function exercise(cache: Cache, l1: MapTier, l2Holds: (key: string) => Promise<boolean>) {
  await cache.set('a', { n: 1 }, { tags: ['t'] });
  expect(l1.entries.size).toBe(1);
  expect(await l2Holds('a')).toBe(true);
  expect(await cache.get('a')).toEqual({ n: 1 });
  expect(cache.analytics().tiers[0]).toMatchObject({ name: 'map', hits: 1 });

  // A value only the lower tier holds is found there and copied up.
  l1.entries.clear();
  expect(await cache.get('a')).toEqual({ n: 1 });
  expect(l1.entries.size).toBe(1);

  expect(await cache.delete('a')).toBe(true);
  expect(await cache.get('a')).toBeUndefined();
  expect(await l2Holds('a')).toBe(false);

  await cache.set('b', 'B', { tags: ['t'] });
  await cache.set('c', 'C', { tags: ['u'] });
  await cache.invalidateTags(['t']);
  expect(await cache.get('b')).toBeUndefined();
  expect(await cache.get('c')).toBe('C');
  expect(l1.entries.size).toBe(1);

  let loads = 0;
  const load = async () => {
    loads++;
    return 'loaded';
  };
  expect(await cache.getOrSet('d', load)).toBe('loaded');
  expect(await cache.getOrSet('d', load)).toBe('loaded');
  expect(loads).toBe(1);
  expect(await l2Holds('d')).toBe(true);

  await cache.clear();
  expect(l1.entries.size).toBe(0);
  expect(await l2Holds('c')).toBe(false);
}

describe('a local tier written by the user', () => {
  const caches: Cache[] = [];
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  for (const Tier of [MapTier, PeekingMapTier]) {
    it(`${Tier.name} in front of the memory tier: get, set, delete, tags, getOrSet`, async () => {
      const l1 = new Tier();
      const l2 = memoryTier();
      const cache = createCache({ tiers: [l1, l2], logger: silent });
      caches.push(cache);
      await exercise(cache, l1, async (key) => (await l2.get('default', key)) !== undefined);
    });
  }

  it('answers a hit from peek without calling get', async () => {
    const l1 = new PeekingMapTier();
    const cache = createCache({ tiers: [l1], logger: silent });
    caches.push(cache);
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(l1.peeks).toBe(1);
    expect(l1.reads).toBe(0);
  });

  it('reports a failing local tier and answers from the tiers below', async () => {
    const l1 = new MapTier();
    l1.get = () => Promise.reject(new Error('map broke'));
    const l2 = memoryTier();
    const cache = createCache({ tiers: [l1, l2], logger: silent });
    caches.push(cache);
    const errors: string[] = [];
    cache.on('tier-error', ({ tier, operation }) => errors.push(`${tier}:${operation}`));
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(errors).toEqual(['map:get']);
  });

  it('uses the bus and the lock a remote tier offers, and the ones given over them', async () => {
    const published: InvalidationMessage[] = [];
    const bus: InvalidationBus = {
      publish: async (message) => {
        published.push(message);
      },
      subscribe: async () => {},
      close: async () => {},
    };
    const acquired: string[] = [];
    const lock: DistributedLock = {
      acquire: async (resource) => {
        acquired.push(resource);
        return 'token';
      },
      release: async () => {},
    };
    const remote: CacheTier = {
      ...memoryTier(),
      name: 'remote',
      local: false,
      get: async () => undefined,
      set: async () => {},
      delete: async () => false,
      deleteByTags: async () => 0,
      clear: async () => {},
      removeExpired: async () => 0,
      ping: async () => {},
      close: async () => {},
      invalidationBus: () => bus,
      distributedLock: () => lock,
    };
    const offered = createCache({ tiers: [new MapTier(), remote], logger: silent });
    caches.push(offered);
    await offered.set('k', 1);
    await offered.getOrSet('l', async () => 2, { lock: true });
    expect(published.map((message) => message.type)).toContain('delete');
    expect(acquired).toHaveLength(1);

    const mine: DistributedLock = { acquire: async () => 'mine', release: async () => {} };
    const given = createCache({
      tiers: [new MapTier(), remote],
      logger: silent,
      bus: false,
      lock: mine,
    });
    caches.push(given);
    published.length = 0;
    await given.set('k', 1);
    await given.getOrSet('m', async () => 3, { lock: true });
    expect(published).toEqual([]);
    expect(acquired).toHaveLength(1);
  });
});

describe.runIf(requires(redis))('a local tier written by the user, over Redis', () => {
  const prefix = `test:custom-tier:${randomUUID()}`;
  const caches: Cache[] = [];
  let admin: Redis | undefined;

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    admin ??= new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
    await admin.quit();
    admin = undefined;
  });

  it('works in front of the Redis tier: get, set, delete, tags, getOrSet', async () => {
    const l1 = new MapTier();
    const l2 = redisTier({ url: REDIS_URL, prefix });
    const cache = createCache({ tiers: [l1, l2], logger: silent });
    caches.push(cache);
    await exercise(cache, l1, async (key) => (await l2.get('default', key)) !== undefined);
  });

  it("is invalidated by another instance's change through the Redis tier's bus", async () => {
    const l1 = new MapTier();
    const a = createCache({ tiers: [l1, redisTier({ url: REDIS_URL, prefix })], logger: silent });
    const b = createCache({
      tiers: [memoryTier(), redisTier({ url: REDIS_URL, prefix })],
      logger: silent,
    });
    caches.push(a, b);
    await Promise.all([a.start(), b.start()]);
    await b.set('k', 'old');
    // b's own invalidation of `k` may reach `a` during its first read and skip the copy into L1.
    for (let i = 0; i < 100 && l1.entries.size === 0; i++) {
      expect(await a.get('k')).toBe('old');
      if (l1.entries.size === 0) await sleep(10);
    }
    expect(l1.entries.size).toBe(1);
    await b.set('k', 'new');
    const deadline = Date.now() + 3_000;
    while (l1.entries.size > 0 && Date.now() < deadline) await sleep(10);
    expect(await a.get('k')).toBe('new');
  });
});
