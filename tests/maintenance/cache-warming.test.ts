import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/cache.js';
import { HotKeys } from '../../src/cache/hot-keys.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { silent } from '../monitoring/helpers.js';

/** A clock moved by hand, from the real time (the memory tier's own expiry runs on it). */
function movingClock() {
  const start = Date.now();
  let t = 0;
  return {
    now: () => t,
    epochNow: () => start + t,
    advance(ms: number) {
      t += ms;
    },
  };
}

const instances: Enterprise[] = [];
afterEach(async () => {
  for (const enterprise of instances.splice(0)) await enterprise.shutdown();
});

describe('the hot-key sketch', () => {
  it('keeps at most its capacity per namespace and always ends up holding a key read often', () => {
    const hot = new HotKeys(8, 2);
    const loader = () => 1;
    for (let i = 0; i < 10_000; i++) {
      hot.touch('a', `cold:${i}`, loader, {});
      if (i % 4 === 0) hot.touch('a', 'hot', loader, {});
    }
    hot.touch('b', 'x', loader, {});
    hot.touch('c', 'ignored', loader, {});
    const top = hot.top();
    expect(top.filter((k) => k.namespace === 'a')).toHaveLength(8);
    expect(top[0]).toMatchObject({ namespace: 'a', key: 'hot' });
    expect(top.some((k) => k.namespace === 'c')).toBe(false);
    const before = top[0]!.count;
    hot.decay();
    expect(hot.top()[0]!.count).toBe(Math.floor(before / 2));
  });
});

describe('cache_warming', () => {
  it('runs the warmers, then refreshes the hottest getOrSet keys about to expire, leaving set() entries alone', async () => {
    const clock = movingClock();
    const enterprise = createEnterprise({
      logger: silent,
      env: {},
      alerts: false,
      clock,
      cache: { bus: false },
    });
    instances.push(enterprise);
    const cache = enterprise.cache;
    let warmed = 0;
    cache.registerWarmer('catalog', () => {
      warmed++;
    });
    const loads = new Map<string, number>();
    const loader = (key: string) => () => {
      loads.set(key, (loads.get(key) ?? 0) + 1);
      return `${key}#${loads.get(key)}`;
    };
    for (let i = 0; i < 20; i++) await cache.getOrSet('hot', loader('hot'), { ttl: 60 });
    await cache.getOrSet('cool', loader('cool'), { ttl: 600 });
    await cache.set('plain', 'v', { ttl: 60 });
    clock.advance(30_000);
    enterprise.maintenance.enable({ cache_warming: { hotKeys: { within: '1m' } } });
    const result = await enterprise.maintenance.run('cache_warming');
    expect(result.ok, result.error?.message).toBe(true);
    expect(warmed).toBe(1);
    expect(result.done).toMatchObject({ warmersRun: 1, warmersFailed: 0, hotKeysRefreshed: 1 });
    expect(result.details?.refreshed).toEqual(['default:hot']);
    expect(loads.get('hot')).toBe(2);
    expect(loads.get('cool')).toBe(1);
    // The refreshed value is served, with a fresh TTL: no load when its old expiry passes.
    clock.advance(40_000);
    expect(await cache.getOrSet('hot', loader('hot'), { ttl: 60 })).toBe('hot#2');
    expect(loads.get('hot')).toBe(2);
  });

  it('refreshes nothing past its budget of keys', async () => {
    const cache = createCache({ logger: silent, bus: false });
    try {
      for (let i = 0; i < 5; i++) await cache.getOrSet(`k${i}`, () => i, { ttl: 1 });
      const report = await cache.refreshHotKeys({ withinMs: 60_000, maxKeys: 2, budgetMs: 10_000 });
      expect(report.refreshed).toBe(2);
    } finally {
      await cache.close();
    }
  });
});
