// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH: a lock's release (a
// compare-and-delete script) then goes again by EVAL, after acquires sent later. On a private Redis
// flushed every few milliseconds: a lock is never held by two callers at once, a late release never
// frees another holder's lock, and getOrSet({ lock: true }) runs the loader once per key across
// two instances, as docs/cache.md promises.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/cache/cache.js';
import { RedisLock } from '../../src/cache/redis-lock.js';
import { redisServer, usePrivateRedis } from '../support/private-redis.js';
import { requires } from '../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../support/script-flusher.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe.runIf(requires(redisServer))('the cache lock while Redis forgets its scripts', () => {
  const redis = usePrivateRedis();

  it('never lets two callers hold a lock at once, nor a late release free the next holder', async () => {
    const RESOURCES = 4;
    const WORKERS = 12;
    const WANTED = 300;
    const locks = [0, 1].map(
      () => new RedisLock({ url: redis.url, prefix: 'flush:lock', commandTimeoutMs: 2_000 }),
    );
    const holders = new Map<string, string>();
    const overlaps: string[] = [];
    const lateReleases: Promise<void>[] = [];
    let acquired = 0;
    const before = await scriptFallbacks(redis.admin);
    const flusher = flushScripts(redis.admin);
    try {
      const deadline = Date.now() + 10_000;
      await Promise.all(
        Array.from({ length: WORKERS }, async (_, w) => {
          const lock = locks[w % 2]!;
          const resource = `resource-${w % RESOURCES}`;
          let previous: string | undefined;
          while (acquired < WANTED && Date.now() < deadline) {
            // A lease far longer than the test: only a release may free it.
            const token = await lock.acquire(resource, 30_000);
            if (token === undefined) {
              await sleep(1);
              continue;
            }
            acquired++;
            if (holders.has(resource)) overlaps.push(`${resource}: ${holders.get(resource)}`);
            holders.set(resource, token);
            // The previous holder's token released late, by the other connection, while this
            // holder has the lock: it must change nothing.
            if (previous !== undefined) {
              lateReleases.push(locks[(w + 1) % 2]!.release(resource, previous));
            }
            await sleep(1);
            if (holders.get(resource) !== token) overlaps.push(`${resource}: replaced`);
            holders.delete(resource);
            previous = token;
            await lock.release(resource, token);
          }
        }),
      );
      await Promise.all(lateReleases);
    } finally {
      await flusher.stop();
      for (const lock of locks) await lock.close();
    }
    const after = await scriptFallbacks(redis.admin);
    expect(flusher.flushes).toBeGreaterThan(20);
    expect(after.noscript - before.noscript).toBeGreaterThan(20);
    expect(acquired).toBeGreaterThanOrEqual(WANTED);
    expect(lateReleases.length).toBeGreaterThan(WANTED / 4);
    expect(overlaps).toEqual([]);
    expect(await redis.admin.keys('flush:lock:*')).toEqual([]);
  }, 20_000);

  it('runs the loader of getOrSet({ lock: true }) once per key across two instances', async () => {
    const KEYS = 16;
    const ROUNDS = 4;
    const CALLERS = 3;
    const errors: string[] = [];
    const caches: Cache[] = [0, 1].map(() => {
      const cache = createCache({
        redisUrl: redis.url,
        prefix: 'flush:load',
        logger: silent,
        remote: { timeoutMs: 2_000, registry: false },
      });
      cache.on('tier-error', ({ tier, operation, error }) =>
        errors.push(`${tier} ${operation}: ${error.message}`),
      );
      return cache;
    });
    const calls = new Map<string, number>();
    const running = new Set<string>();
    const overlaps: string[] = [];
    const before = await scriptFallbacks(redis.admin);
    const flusher = flushScripts(redis.admin);
    try {
      await Promise.all(caches.map((cache) => cache.ready()));
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(
          Array.from({ length: KEYS }, async (_, k) => {
            const key = `key-${k}`;
            const loader = async () => {
              const id = `${key}@${round}`;
              if (running.has(key)) overlaps.push(id);
              running.add(key);
              calls.set(id, (calls.get(id) ?? 0) + 1);
              await sleep(15);
              running.delete(key);
              return id;
            };
            const values = await Promise.all(
              Array.from({ length: 2 * CALLERS }, (_, c) =>
                caches[c % 2]!.getOrSet(key, loader, {
                  namespace: 'load',
                  ttl: '1h',
                  lock: { ttl: '30s', wait: '10s' },
                }),
              ),
            );
            expect(new Set(values), key).toEqual(new Set([`${key}@${round}`]));
            // The next round loads again: the key is gone from Redis and from both memory tiers.
            await caches[round % 2]!.delete(key, { namespace: 'load' });
            const deadline = Date.now() + 3_000;
            while ((await caches[(round + 1) % 2]!.get(key, { namespace: 'load' })) !== undefined) {
              if (Date.now() > deadline) throw new Error(`${key} still cached after its delete`);
              await sleep(5);
            }
          }),
        );
      }
    } finally {
      await flusher.stop();
      await Promise.all(caches.map((cache) => cache.close()));
    }
    const after = await scriptFallbacks(redis.admin);
    expect(flusher.flushes).toBeGreaterThan(20);
    expect(after.noscript - before.noscript).toBeGreaterThan(20);
    expect(calls.size).toBe(KEYS * ROUNDS);
    for (const [id, count] of calls) expect(count, id).toBe(1);
    expect(overlaps).toEqual([]);
    expect(errors).toEqual([]);
  }, 30_000);
});
