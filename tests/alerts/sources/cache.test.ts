import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheSources } from '../../../src/alerts/sources/cache.js';
import { type Cache, createCache } from '../../../src/cache/cache.js';
import { MemoryTier } from '../../../src/cache/tiers/memory.js';
import { FaultTier } from '../../cache/fault-tier.js';
import { fakeClock } from '../../support/test-doubles.js';
import { read, valueFor } from './helpers.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const caches: Cache[] = [];

afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.close()));
});

function twoTiers() {
  const remote = new FaultTier('remote');
  const cache = createCache({
    tiers: [new MemoryTier({ maxSize: 1_000 }), remote],
    logger: silent,
    bus: false,
    remote: { timeoutMs: 100, failureThreshold: 3, halfOpenAfterMs: 60_000 },
  });
  caches.push(cache);
  return { cache, remote };
}

/** `hits` reads of a key that is there and `misses` of one that is not, in `namespace`. */
async function lookups(cache: Cache, namespace: string, hits: number, misses: number) {
  await cache.set('present', 1, { namespace });
  for (let i = 0; i < hits; i++) await cache.get('present', { namespace });
  for (let i = 0; i < misses; i++) await cache.get(`absent-${i}`, { namespace });
}

describe('cache value sources', () => {
  it('names its sources, each with a description', () => {
    const { cache } = twoTiers();
    const sources = cacheSources(cache);
    expect(sources.map((s) => s.name)).toEqual([
      'cache.hit_ratio',
      'cache.tier_errors',
      'cache.breaker_open',
    ]);
    for (const source of sources) expect(source.description).toBeTruthy();
  });

  it('reads the hit ratio per namespace and per tier', async () => {
    const { cache } = twoTiers();
    await lookups(cache, 'users', 3, 1);
    await lookups(cache, 'orders', 0, 2);
    const ratios = await read(cacheSources(cache, { clock: fakeClock() }), 'cache.hit_ratio');
    expect(ratios).toHaveLength(4);
    expect(valueFor(ratios, { namespace: 'users' })).toBe(0.75);
    expect(valueFor(ratios, { namespace: 'orders' })).toBe(0);
    // Every hit came from memory; each miss went through memory to the remote tier.
    expect(valueFor(ratios, { tier: 'memory' })).toBe(3 / 6);
    expect(valueFor(ratios, { tier: 'remote' })).toBe(0);
  });

  it('counts over the rolling window: a collapse shows at once, an idle namespace has no data', async () => {
    const { cache } = twoTiers();
    const clock = fakeClock();
    const sources = cacheSources(cache, { clock, window: '1m', reuseMs: 0 });
    await lookups(cache, 'users', 90, 10);
    expect(valueFor(await read(sources, 'cache.hit_ratio'), { namespace: 'users' })).toBe(0.9);
    clock.advance(61_000);
    await lookups(cache, 'users', 1, 9);
    // Since start the ratio is still 91 / 110; over the last minute it is 1 / 10.
    expect(cache.analytics().namespaces.users!.hitRatio).toBeCloseTo(91 / 110, 10);
    expect(valueFor(await read(sources, 'cache.hit_ratio'), { namespace: 'users' })).toBe(0.1);
    clock.advance(61_000);
    expect(valueFor(await read(sources, 'cache.hit_ratio'), { namespace: 'users' })).toBeNull();
  });

  it('reads the errors of each tier over the window, and 1 for a tier whose breaker is open', async () => {
    const { cache, remote } = twoTiers();
    const clock = fakeClock();
    const sources = cacheSources(cache, { clock, reuseMs: 0 });
    await cache.get('k');
    expect(await read(sources, 'cache.tier_errors')).toEqual([
      { labels: { tier: 'memory' }, value: 0 },
      { labels: { tier: 'remote' }, value: 0 },
    ]);
    expect(await read(sources, 'cache.breaker_open')).toEqual([
      { labels: { tier: 'memory' }, value: 0 },
      { labels: { tier: 'remote' }, value: 0 },
    ]);
    remote.failWith = new Error('connection refused');
    for (let i = 0; i < 5; i++) await cache.get(`k${i}`);
    // Three failures open the circuit; the two calls after it are skipped, which counts too.
    expect(cache.analytics().tiers[1]!.circuit).toBe('open');
    expect(valueFor(await read(sources, 'cache.tier_errors'), { tier: 'remote' })).toBe(5);
    expect(valueFor(await read(sources, 'cache.tier_errors'), { tier: 'memory' })).toBe(0);
    expect(await read(sources, 'cache.breaker_open')).toEqual([
      { labels: { tier: 'memory' }, value: 0 },
      { labels: { tier: 'remote' }, value: 1 },
    ]);
    // The errors came after the first read: a minute later they are still within the window...
    clock.advance(61_000);
    expect(valueFor(await read(sources, 'cache.tier_errors'), { tier: 'remote' })).toBe(5);
    // ...and a minute after that, without new ones, they have left it.
    clock.advance(61_000);
    expect(valueFor(await read(sources, 'cache.tier_errors'), { tier: 'remote' })).toBe(0);
  });

  it('calls analytics() once for the sources read within reuseMs', async () => {
    const { cache } = twoTiers();
    const clock = fakeClock();
    const spy = vi.spyOn(cache, 'analytics');
    const sources = cacheSources(cache, { clock, reuseMs: 1_000 });
    await Promise.all(sources.map((s) => s.read()));
    for (const source of sources) await source.read();
    expect(spy).toHaveBeenCalledTimes(1);
    clock.advance(1_000);
    await read(sources, 'cache.hit_ratio');
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('rejects a read when analytics() throws', async () => {
    const { cache } = twoTiers();
    vi.spyOn(cache, 'analytics').mockImplementation(() => {
      throw new Error('closed');
    });
    await expect(read(cacheSources(cache), 'cache.breaker_open')).rejects.toThrow('closed');
  });
});
