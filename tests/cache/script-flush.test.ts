// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH: every write of the Redis
// tier then goes again by EVAL, the first ones after later calls that found the script loaded. Two
// caches (memory in front of Redis, with the bus) share a private Redis flushed every few
// milliseconds: after each key's sequence of sets, deletes and tag invalidations, every instance,
// Redis itself and its tag indexes hold what the last operation said; an entry is deleted if
// unchanged only while it is unchanged.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/cache/cache.js';
import { redisTier } from '../../src/cache/tiers/redis.js';
import type { StoredEntry } from '../../src/cache/types.js';
import { redisServer, usePrivateRedis } from '../support/private-redis.js';
import { requires } from '../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../support/script-flusher.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NS = 'ns';
const KEYS = 24;
const ROUNDS = 30;

/** A cache of the seed's pair on `url`, failing the test on any tier error. */
function instance(url: string, prefix: string, errors: string[]): Cache {
  const cache = createCache({
    redisUrl: url,
    prefix,
    logger: silent,
    // Generous: a timed-out write would be reported, not thrown, and still land later.
    remote: { timeoutMs: 2_000, registry: false },
  });
  cache.on('tier-error', ({ tier, operation, error }) =>
    errors.push(`${tier} ${operation}: ${error.message}`),
  );
  return cache;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe.runIf(requires(redisServer))('the cache on Redis while Redis forgets its scripts', () => {
  const redis = usePrivateRedis();

  it('keeps what the last set, delete or tag invalidation of each key said', async () => {
    const prefix = 'flush:cache';
    const errors: string[] = [];
    const caches = [instance(redis.url, prefix, errors), instance(redis.url, prefix, errors)];
    // Redis alone, without a memory tier in front: what a new instance would read.
    const l2 = createCache({
      tiers: [redisTier({ url: redis.url, prefix })],
      bus: false,
      logger: silent,
      remote: { registry: false },
    });
    const expected = new Map<string, string | undefined>();
    const done = { set: 0, delete: 0, tags: 0, tagsInNamespace: 0 };
    const before = await scriptFallbacks(redis.admin);
    const flusher = flushScripts(redis.admin);
    try {
      try {
        await Promise.all(caches.map((cache) => cache.ready()));
        await Promise.all(
          Array.from({ length: KEYS }, async (_, k) => {
            const key = `key-${k}`;
            const next = random(k + 1);
            for (let round = 0; round < ROUNDS; round++) {
              const actor = caches[Math.floor(next() * 2)]!;
              const other = caches.find((cache) => cache !== actor)!;
              const roll = next();
              // The other instance reads meanwhile: its promotions race the actor's writes.
              const reading = other.get(key, { namespace: NS });
              if (roll < 0.5 || round === 0) {
                const value = `${key}:${round}`;
                await actor.set(key, value, {
                  namespace: NS,
                  ttl: '1h',
                  tags: [`own-${k}`, `alt-${k}`],
                });
                expected.set(key, value);
                done.set++;
              } else if (roll < 0.7) {
                await actor.delete(key, { namespace: NS });
                expected.set(key, undefined);
                done.delete++;
              } else if (roll < 0.85) {
                await actor.invalidateTags([next() < 0.5 ? `own-${k}` : `alt-${k}`]);
                expected.set(key, undefined);
                done.tags++;
              } else {
                await actor.invalidateTags([`alt-${k}`], { namespace: NS });
                expected.set(key, undefined);
                done.tagsInNamespace++;
              }
              await reading;
              // The instance that acted reads its own write at once, from either tier.
              expect(await actor.get(key, { namespace: NS }), `${key} round ${round}`).toBe(
                expected.get(key),
              );
            }
          }),
        );
      } finally {
        await flusher.stop();
      }
      const after = await scriptFallbacks(redis.admin);
      expect(flusher.flushes).toBeGreaterThan(20);
      // The fallback really ran: tier writes were answered NOSCRIPT and went again by EVAL.
      expect(after.noscript - before.noscript).toBeGreaterThan(50);
      expect(after.evals - before.evals).toBeGreaterThan(50);
      expect(done.set + done.delete + done.tags + done.tagsInNamespace).toBe(KEYS * ROUNDS);
      for (const count of Object.values(done)) expect(count).toBeGreaterThan(40);
      expect(errors).toEqual([]);

      for (const [key, value] of expected) {
        expect(await l2.get(key, { namespace: NS }), `${key} in Redis`).toBe(value);
        // The other instance's memory tier hears of the last change through the bus.
        await until(async () => {
          const seen = await Promise.all(caches.map((cache) => cache.get(key, { namespace: NS })));
          return seen.every((v) => v === value);
        }, `${key} = ${value} on both instances`);
        // The tag indexes list the key exactly while it holds a value.
        const k = key.slice('key-'.length);
        for (const tag of [`own-${k}`, `alt-${k}`]) {
          const members = await redis.admin.smembers(`${prefix}:{${NS}}:t:${tag}`);
          expect(members, `${key} under ${tag}`).toEqual(value === undefined ? [] : [`=${key}`]);
        }
      }
      expect(errors).toEqual([]);
    } finally {
      await Promise.all([...caches, l2].map((cache) => cache.close()));
    }
  }, 30_000);

  it('deletes an entry if unchanged only while it is unchanged', async () => {
    const tier = redisTier({ url: redis.url, prefix: 'flush:unchanged', commandTimeoutMs: 2_000 });
    const entry = (text: string, tags: string[]) => {
      const now = Date.now();
      return {
        payload: new TextEncoder().encode(text),
        createdAt: now,
        expiresAt: now + 3_600_000,
        staleUntil: now + 3_600_000,
        tags,
      };
    };
    const bytes = (found: StoredEntry<Uint8Array> | undefined) =>
      found === undefined ? undefined : new TextDecoder().decode(found.payload);
    let kept = 0;
    let deleted = 0;
    const before = await scriptFallbacks(redis.admin);
    const flusher = flushScripts(redis.admin);
    try {
      await Promise.all(
        Array.from({ length: KEYS }, async (_, k) => {
          const key = `key-${k}`;
          const tag = `tag-${k}`;
          for (let round = 0; round < 10; round++) {
            const { payload: first, ...firstMeta } = entry(`${key}:${round}:a`, [tag]);
            await tier.set(NS, key, first, firstMeta);
            const read = (await tier.get(NS, key))!;
            expect(bytes(read)).toBe(`${key}:${round}:a`);
            const { payload: second, ...secondMeta } = entry(`${key}:${round}:b`, [tag]);
            await tier.set(NS, key, second, secondMeta);
            // What was read is no longer there: the newer entry stays.
            expect(await tier.deleteIfUnchanged(NS, key, read)).toBe(false);
            kept++;
            const current = (await tier.get(NS, key))!;
            expect(bytes(current)).toBe(`${key}:${round}:b`);
            expect(await tier.deleteIfUnchanged(NS, key, current)).toBe(true);
            deleted++;
            expect(await tier.get(NS, key)).toBeUndefined();
            expect(await redis.admin.smembers(`flush:unchanged:{${NS}}:t:${tag}`)).toEqual([]);
          }
        }),
      );
    } finally {
      await flusher.stop();
      await tier.close();
    }
    const after = await scriptFallbacks(redis.admin);
    expect(flusher.flushes).toBeGreaterThan(20);
    expect(after.noscript - before.noscript).toBeGreaterThan(50);
    expect([kept, deleted]).toEqual([KEYS * 10, KEYS * 10]);
  }, 20_000);
});
