import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/cache/cache.js';
import { CacheCodecError, CacheLoaderTimeoutError } from '../../src/cache/errors.js';
import { MemoryTier } from '../../src/cache/tiers/memory.js';
import { InvalidArgumentError } from '../../src/index.js';
import { fakeClock } from '../support/test-doubles.js';
import { FaultTier } from './fault-tier.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function twoTiers(options: ConstructorParameters<typeof Cache>[0] = {}) {
  const memory = new MemoryTier({ maxSize: 1_000 });
  const remote = new FaultTier();
  const cache = createCache({
    tiers: [memory, remote],
    logger: silent,
    bus: false,
    remote: { timeoutMs: 100, failureThreshold: 3, halfOpenAfterMs: 200 },
    ...options,
  });
  return { cache, memory, remote };
}

describe('cache: reads and writes', () => {
  it('stores and reads values with their types, per namespace', async () => {
    const { cache } = twoTiers();
    const value = { when: new Date(0), tags: new Set(['a']), big: 2n ** 70n };
    await cache.set('k', value, { namespace: 'users' });
    expect(await cache.get('k', { namespace: 'users' })).toEqual(value);
    expect(await cache.get('k', { namespace: 'products' })).toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.has('k', { namespace: 'users' })).toBe(true);
  });

  it('uses the default namespace when none is named', async () => {
    const { cache } = twoTiers();
    await cache.set('k', 1);
    expect(await cache.get('k', { namespace: 'default' })).toBe(1);
  });

  it('deletes from every tier and says whether any held the key', async () => {
    const { cache, memory, remote } = twoTiers();
    await cache.set('k', 'v');
    expect(await cache.delete('k')).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    expect(memory.size).toBe(0);
    expect(remote.entries.size).toBe(0);
    expect(await cache.delete('k')).toBe(false);
  });

  it('expires values after their TTL', async () => {
    const { cache } = twoTiers();
    await cache.set('k', 'v', { ttl: '100ms' });
    expect(await cache.get('k')).toBe('v');
    await sleep(150);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('fills the faster tier from a hit below, with the remaining TTL and never a longer one', async () => {
    const { cache, memory, remote } = twoTiers();
    await cache.set('k', 'v', { ttl: 60 });
    memory.remove('default', 'k');
    const remoteEntry = remote.entries.get('default\u0000k')!;
    expect(await cache.get('k')).toBe('v');
    const promoted = memory.read('default', 'k')!;
    expect(promoted.expiresAt).toBe(remoteEntry.expiresAt);
    expect(promoted.staleUntil).toBe(remoteEntry.staleUntil);
  });

  it('caps what the memory tier keeps with its maxTtlMs', async () => {
    const memory = new MemoryTier({ maxTtlMs: 1_000 });
    const cache = createCache({ tiers: [memory, new FaultTier()], logger: silent, bus: false });
    await cache.set('k', 'v', { ttl: 3600 });
    expect(memory.read('default', 'k')!.staleUntil).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('reads and writes many keys at once', async () => {
    const { cache } = twoTiers();
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2, ttl: 10 },
    ]);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, 2, undefined]);
  });

  it('refuses bad input with typed errors', async () => {
    const { cache } = twoTiers();
    await expect(cache.get('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.get(42 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError);
    // A bad namespace rejects the returned promise too, never throws where the call is made.
    await expect(cache.get('k', { namespace: 'a\nb' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(cache.set('k', undefined)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.set('k', 1, { ttl: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.set('k', 1, { namespace: 'a\nb' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(cache.set('k', 1, { tags: [''] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.getOrSet('k', 'not a function' as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('works with very long keys and keys of any characters', async () => {
    const { cache } = twoTiers();
    const long = 'x'.repeat(10_000);
    await cache.set(long, 'long');
    await cache.set('a:b{c}*\n\u0000\uD800', 'odd');
    expect(await cache.get(long)).toBe('long');
    expect(await cache.get('a:b{c}*\n\u0000\uD800')).toBe('odd');
  });

  it('rejects a value that cannot be serialized at set, before writing any tier', async () => {
    const { cache, memory, remote } = twoTiers();
    await expect(cache.set('fn', { run: () => 1 })).rejects.toBeInstanceOf(CacheCodecError);
    expect(memory.size).toBe(0);
    expect(remote.entries.size).toBe(0);
  });

  it('keeps values by reference in a memory-only cache (nothing is serialized)', async () => {
    const cache = createCache({ logger: silent });
    const value = { fn: () => 1 };
    await cache.set('k', value);
    expect(await cache.get('k')).toBe(value);
  });
});

describe('cache: expiry on the system clock', () => {
  it('sees an L1 entry expire within a millisecond, also in a loop that never yields to timers', async () => {
    const cache = createCache({ tiers: [new MemoryTier()], logger: silent, bus: false });
    const setAt = performance.now();
    await cache.set('k', 'v', { ttl: '20ms' });
    // Fresh while well inside its TTL (a slow machine may do fewer than 200 reads in that time).
    for (let i = 0; i < 200 && performance.now() - setAt < 15; i++) {
      expect(await cache.get('k')).toBe('v');
    }
    await sleep(30);
    expect(await cache.get('k')).toBeUndefined();
    // Only awaited reads, no timer can run: the clock is still read again every 64 hits.
    await cache.set('k', 'v', { ttl: '5ms' });
    const deadline = Date.now() + 50;
    let expiredAt: number | undefined;
    while (expiredAt === undefined && Date.now() < deadline) {
      if ((await cache.get('k')) === undefined) expiredAt = Date.now();
    }
    expect(expiredAt).toBeDefined();
    await cache.close();
  });
});

describe('cache: ping', () => {
  it('reports each tier ok, or down with the reason, within the remote timeout', async () => {
    const { cache, remote } = twoTiers();
    const healthy = await cache.ping();
    expect(healthy.map(({ name, local, ok, circuit }) => ({ name, local, ok, circuit }))).toEqual([
      { name: 'memory', local: true, ok: true, circuit: null },
      { name: 'fault', local: false, ok: true, circuit: 'closed' },
    ]);
    remote.failWith = new Error('connection refused');
    const failing = await cache.ping();
    expect(failing[1]).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
    remote.failWith = undefined;
    remote.hang = true;
    const started = performance.now();
    const hanging = await cache.ping();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(hanging[1]).toMatchObject({ ok: false, error: expect.stringMatching(/timed out/) });
    // Pings neither read nor write: the statistics show no traffic.
    const analytics = cache.analytics();
    expect(analytics.hits + analytics.misses).toBe(0);
    expect(analytics.tiers.map((tier) => tier.hits + tier.misses + tier.sets)).toEqual([0, 0]);
    expect(Object.keys(analytics.namespaces)).toEqual([]);
  });
});

describe('cache: tags and clear', () => {
  it('invalidates tags in every tier and every namespace, or in one', async () => {
    const { cache, remote } = twoTiers();
    await cache.set('a', 1, { namespace: 'n1', tags: ['user:1'] });
    await cache.set('b', 2, { namespace: 'n2', tags: ['user:1', 'profiles'] });
    await cache.set('c', 3, { namespace: 'n2', tags: ['profiles'] });
    await cache.invalidateTags(['profiles'], { namespace: 'n2' });
    expect(await cache.get('b', { namespace: 'n2' })).toBeUndefined();
    expect(await cache.get('c', { namespace: 'n2' })).toBeUndefined();
    expect(await cache.get('a', { namespace: 'n1' })).toBe(1);
    await cache.invalidateTags(['user:1']);
    expect(await cache.get('a', { namespace: 'n1' })).toBeUndefined();
    expect(remote.entries.size).toBe(0);
  });

  it('clears one namespace or all of them', async () => {
    const { cache } = twoTiers();
    await cache.set('a', 1, { namespace: 'n1' });
    await cache.set('b', 2, { namespace: 'n2' });
    await cache.clear({ namespace: 'n1' });
    expect(await cache.get('a', { namespace: 'n1' })).toBeUndefined();
    expect(await cache.get('b', { namespace: 'n2' })).toBe(2);
    await cache.clear();
    expect(await cache.get('b', { namespace: 'n2' })).toBeUndefined();
  });
});

describe('cache: getOrSet', () => {
  it('runs the loader once for 1,000 concurrent callers and caches the value', async () => {
    const { cache } = twoTiers();
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(20);
      return { id: 1 };
    };
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () => cache.getOrSet('user:1', loader)),
    );
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await cache.get('user:1')).toEqual({ id: 1 });
    const stats = cache.analytics().namespaces.default!;
    expect(stats.loaderCalls).toBe(1);
    expect(stats.dedupedCalls).toBe(999);
  });

  it('adds up the time its loaders take per namespace, failed loads included', async () => {
    const clock = fakeClock();
    const cache = createCache({ tiers: [new MemoryTier()], logger: silent, bus: false, clock });
    const takes =
      (ms: number, fail = false) =>
      async () => {
        clock.advance(ms);
        if (fail) throw new Error('db down');
        return ms;
      };
    await cache.getOrSet('a', takes(120), { namespace: 'slow' });
    await expect(cache.getOrSet('b', takes(80, true), { namespace: 'slow' })).rejects.toThrow();
    await cache.getOrSet('c', takes(3), { namespace: 'fast' });
    const { slow, fast } = cache.analytics().namespaces;
    expect(slow).toMatchObject({ loaderCalls: 2, loaderErrors: 1, loaderMs: 200 });
    expect(fast).toMatchObject({ loaderCalls: 1, loaderMs: 3 });
    await cache.close();
  });

  it('passes the loader its key and namespace, and applies ttl and tags (a function of the value)', async () => {
    const { cache } = twoTiers();
    const value = await cache.getOrSet('k', ({ key, namespace }) => ({ key, namespace, id: 7 }), {
      namespace: 'ns',
      tags: (v) => [`item:${v.id}`],
    });
    expect(value).toEqual({ key: 'k', namespace: 'ns', id: 7 });
    await cache.invalidateTags(['item:7']);
    expect(await cache.get('k', { namespace: 'ns' })).toBeUndefined();
  });

  it('does not cache a loader that fails, and lets the next call try again', async () => {
    const { cache } = twoTiers();
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('db down')))).rejects.toThrow(
      'db down',
    );
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
  });

  it('with grace, serves the expired value while one background refresh runs', async () => {
    const { cache } = twoTiers();
    let version = 0;
    const loader = async () => {
      version++;
      await sleep(30);
      return `v${version}`;
    };
    expect(await cache.getOrSet('k', loader, { ttl: '50ms', grace: '10s' })).toBe('v1');
    await sleep(80);
    const events: string[] = [];
    cache.on('stale-served', (e) => events.push(e.reason));
    const [a, b] = await Promise.all([
      cache.getOrSet('k', loader, { ttl: '50ms', grace: '10s' }),
      cache.getOrSet('k', loader, { ttl: '50ms', grace: '10s' }),
    ]);
    expect([a, b]).toEqual(['v1', 'v1']);
    expect(events).toEqual(['refreshing', 'refreshing']);
    await sleep(60);
    expect(version).toBe(2);
    expect(await cache.get('k')).toBe('v2');
  });

  it('with grace, serves the expired value when the loader fails (fail-safe)', async () => {
    const { cache } = twoTiers();
    await cache.set('k', 'old', { ttl: '30ms', grace: '10s' });
    await sleep(60);
    const events: string[] = [];
    cache.on('stale-served', (e) => events.push(e.reason));
    const value = await cache.getOrSet('k', () => Promise.reject(new Error('down')), {
      timeout: { soft: '1s' },
    });
    expect(value).toBe('old');
    expect(events).toEqual(['loader-failed']);
    expect(cache.analytics().namespaces.default!.loaderErrors).toBe(1);
  });

  it('with a soft timeout, returns a fast loader value but a stale one when the loader is slow', async () => {
    const { cache } = twoTiers();
    await cache.set('k', 'old', { ttl: '20ms', grace: '10s' });
    await sleep(40);
    expect(await cache.getOrSet('k', () => 'fresh', { timeout: { soft: '200ms' } })).toBe('fresh');
    await cache.set('k', 'old', { ttl: '20ms', grace: '10s' });
    await sleep(40);
    const slow = async () => {
      await sleep(200);
      return 'slow';
    };
    expect(await cache.getOrSet('k', slow, { timeout: { soft: '20ms' } })).toBe('old');
    await sleep(250);
    expect(await cache.get('k')).toBe('slow');
  });

  it('with a hard timeout and nothing stale, rejects with CacheLoaderTimeoutError and still caches the late value', async () => {
    const { cache } = twoTiers();
    const slow = async () => {
      await sleep(100);
      return 'late';
    };
    const error = await cache.getOrSet('k', slow, { timeout: { hard: '20ms' } }).catch((e) => e);
    expect(error).toBeInstanceOf(CacheLoaderTimeoutError);
    expect(error.code).toBe('E_CACHE_LOADER_TIMEOUT');
    await sleep(150);
    expect(await cache.get('k')).toBe('late');
  });
});

describe('cache: failing remote tiers', () => {
  it('answers from the tiers that work when a remote tier throws, and never throws itself', async () => {
    const { cache, remote } = twoTiers();
    const errors: string[] = [];
    cache.on('tier-error', (e) => errors.push(e.operation));
    remote.failWith = new Error('ECONNREFUSED');
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(await cache.delete('k')).toBe(true);
    expect(await cache.getOrSet('k2', () => 'loaded')).toBe('loaded');
    await cache.invalidateTags(['t']);
    await cache.clear();
    expect(errors).toContain('set');
    expect(cache.analytics().tiers[1]!.errors).toBeGreaterThan(0);
  });

  it('gives up on a hanging tier after its timeout', async () => {
    const { cache, remote } = twoTiers();
    remote.hang = true;
    const started = performance.now();
    expect(await cache.get('missing')).toBeUndefined();
    await cache.set('k', 'v');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(cache.analytics().tiers[1]!.timeouts).toBeGreaterThanOrEqual(2);
    expect(await cache.get('k')).toBe('v');
  });

  it('times out every concurrent call on a hanging tier about its timeout after it started', async () => {
    const { cache, remote } = twoTiers({ remote: { timeoutMs: 100, failureThreshold: 10_000 } });
    remote.hang = true;
    const durations: number[] = [];
    const timed = async (key: string) => {
      const started = performance.now();
      await cache.get(key);
      durations.push(performance.now() - started);
    };
    const batches: Promise<void>[] = [];
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 30; i++) batches.push(timed(`b${batch}-${i}`));
      await sleep(40);
    }
    await Promise.all(batches);
    expect(durations).toHaveLength(90);
    for (const duration of durations) {
      expect(duration).toBeGreaterThanOrEqual(95);
      expect(duration).toBeLessThan(250);
    }
    expect(cache.analytics().tiers[1]!.timeouts).toBe(90);
  });

  it('opens the circuit after consecutive failures, skips the tier, and closes it again once healthy', async () => {
    const { cache, remote } = twoTiers();
    const states: string[] = [];
    cache.on('circuit', (e) => states.push(e.state));
    remote.failWith = new Error('down');
    for (let i = 0; i < 3; i++) await cache.get(`miss${i}`);
    expect(cache.analytics().tiers[1]!.circuit).toBe('open');
    const callsBefore = remote.calls.length;
    await cache.get('skipped');
    expect(remote.calls.length).toBe(callsBefore);
    remote.failWith = undefined;
    await sleep(250);
    await cache.get('probe');
    expect(cache.analytics().tiers[1]!.circuit).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('treats an entry that cannot be decoded as a miss, reports it and removes it', async () => {
    const { cache, remote } = twoTiers();
    const now = Date.now();
    remote.entries.set('default\u0000k', {
      payload: new Uint8Array([1, 2, 3]),
      createdAt: now,
      expiresAt: now + 60_000,
      staleUntil: now + 60_000,
      tags: [],
    });
    const events: string[] = [];
    cache.on('decode-error', (e) => events.push(e.key));
    expect(await cache.get('k')).toBeUndefined();
    expect(events).toEqual(['k']);
    await sleep(10);
    expect(remote.entries.has('default\u0000k')).toBe(false);
  });

  it('does not let a read racing an invalidation put the old value back in the memory tier', async () => {
    const { cache, memory, remote } = twoTiers();
    await cache.set('k', 'old');
    memory.remove('default', 'k');
    let open!: () => void;
    remote.gate = new Promise((resolve) => {
      open = resolve;
    });
    const read = cache.get('k');
    await sleep(5);
    const deleting = cache.delete('k');
    open();
    remote.gate = undefined;
    await Promise.all([read, deleting]);
    expect(memory.read('default', 'k')).toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('cache: changes racing reads and loads', () => {
  it('keeps caching loads of untagged keys and of other tags while tags are invalidated', async () => {
    const { cache } = twoTiers();
    let calls = 0;
    const slow = async () => {
      calls++;
      await sleep(50);
      return 'loaded';
    };
    const untagged = cache.getOrSet('product:1', slow);
    const otherTag = cache.getOrSet('list:2', slow, { tags: ['category:2'] });
    await sleep(10);
    await cache.invalidateTags(['category:1']);
    expect(await untagged).toBe('loaded');
    expect(await otherTag).toBe('loaded');
    expect(await cache.getOrSet('product:1', slow)).toBe('loaded');
    expect(await cache.getOrSet('list:2', slow, { tags: ['category:2'] })).toBe('loaded');
    expect(calls).toBe(2);
  });

  it('lets callers after a tag invalidation join loads under way that cannot carry its tags, and only those', async () => {
    const { cache } = twoTiers();
    const calls: Record<string, number> = {};
    const slow = (name: string) => async () => {
      const mine = (calls[name] ?? 0) + 1;
      calls[name] = mine;
      await sleep(50);
      return `${name}-${mine}`;
    };
    const byFunction = (value: string) => [`tag:${value.split('-')[0]}`];
    const first = [
      cache.getOrSet('untagged', slow('untagged')),
      cache.getOrSet('other', slow('other'), { tags: ['tag:other'] }),
      cache.getOrSet('hit', slow('hit'), { tags: ['tag:hit'] }),
      cache.getOrSet('fn', slow('fn'), { tags: byFunction }),
    ];
    await sleep(10);
    await cache.invalidateTags(['tag:hit', 'tag:fn']);
    const second = [
      cache.getOrSet('untagged', slow('untagged')),
      cache.getOrSet('other', slow('other'), { tags: ['tag:other'] }),
      cache.getOrSet('hit', slow('hit'), { tags: ['tag:hit'] }),
      cache.getOrSet('fn', slow('fn'), { tags: byFunction }),
    ];
    expect(await Promise.all(first)).toEqual(['untagged-1', 'other-1', 'hit-1', 'fn-1']);
    expect(await Promise.all(second)).toEqual(['untagged-1', 'other-1', 'hit-2', 'fn-2']);
    expect(calls).toEqual({ untagged: 1, other: 1, hit: 2, fn: 2 });
  });

  it('does not cache a load whose value carries a tag invalidated while it ran', async () => {
    const { cache } = twoTiers();
    const slow = async () => {
      await sleep(50);
      return { category: 1 };
    };
    const load = cache.getOrSet('list:1', slow, {
      tags: (value: { category: number }) => [`category:${value.category}`],
    });
    await sleep(10);
    await cache.invalidateTags(['category:1']);
    expect(await load).toEqual({ category: 1 });
    expect(await cache.get('list:1')).toBeUndefined();
  });

  it('does not cache, nor promote, a value of a tag whose invalidation is still under way', async () => {
    const { cache, memory, remote } = twoTiers();
    await cache.set('read', 'old', { tags: ['category:1'] });
    memory.remove('default', 'read');
    let open!: () => void;
    remote.tagsGate = new Promise((resolve) => {
      open = resolve;
    });
    const invalidating = cache.invalidateTags(['category:1']);
    await sleep(5);
    expect(await cache.getOrSet('loaded', () => 'v', { tags: ['category:1'] })).toBe('v');
    expect(await cache.getOrSet('untagged', () => 'u')).toBe('u');
    expect(await cache.get('read')).toBe('old');
    expect(memory.read('default', 'read')).toBeUndefined();
    expect(memory.read('default', 'loaded')).toBeUndefined();
    expect(memory.read('default', 'untagged')).toBeDefined();
    open();
    remote.tagsGate = undefined;
    await invalidating;
    expect(await cache.get('loaded')).toBeUndefined();
    expect(await cache.get('read')).toBeUndefined();
    expect(await cache.get('untagged')).toBe('u');
  });

  it('promotes other keys while a delete of one is still under way', async () => {
    const { cache, memory, remote } = twoTiers();
    await cache.set('a', 'A');
    await cache.set('b', 'B');
    memory.remove('default', 'a');
    memory.remove('default', 'b');
    let openDelete!: () => void;
    remote.deleteGate = new Promise((resolve) => {
      openDelete = resolve;
    });
    const deleting = cache.delete('a');
    expect(await cache.get('b')).toBe('B');
    expect(memory.read('default', 'b')).toBeDefined();
    openDelete();
    remote.deleteGate = undefined;
    await deleting;
    expect(await cache.get('a')).toBeUndefined();
  });

  it('does not promote a value read while a delete of it is still under way', async () => {
    const { cache, memory, remote } = twoTiers();
    await cache.set('k', 'old');
    memory.remove('default', 'k');
    let openDelete!: () => void;
    remote.deleteGate = new Promise((resolve) => {
      openDelete = resolve;
    });
    const read = cache.get('k');
    const deleting = cache.delete('k');
    expect(await read).toBe('old');
    openDelete();
    await deleting;
    expect(memory.read('default', 'k')).toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
  });

  it('does not cache what a loader returns when the key was deleted while it ran, and starts a new load after', async () => {
    const { cache } = twoTiers();
    let calls = 0;
    const slow = async () => {
      calls++;
      const mine = calls;
      await sleep(50);
      return `value-${mine}`;
    };
    const first = cache.getOrSet('k', slow);
    await sleep(10);
    await cache.delete('k');
    const second = cache.getOrSet('k', slow);
    expect(await first).toBe('value-1');
    expect(await second).toBe('value-2');
    expect(calls).toBe(2);
    expect(await cache.get('k')).toBe('value-2');
  });

  it('keeps a stale value fresh for a while after the loader failed, so a source that is down is not called by every request', async () => {
    const { cache } = twoTiers({ failSafeThrottle: '1s' });
    await cache.set('k', 'old', { ttl: '30ms', grace: '1h' });
    await sleep(50);
    let calls = 0;
    const down = async () => {
      calls++;
      throw new Error('down');
    };
    for (let i = 0; i < 20; i++) {
      expect(await cache.getOrSet('k', down, { timeout: { soft: '1s' } })).toBe('old');
    }
    expect(calls).toBe(1);
  });

  it('does not let a lock store that never answers hold getOrSet({ lock: true })', async () => {
    const hanging = { acquire: () => new Promise<string>(() => {}), release: async () => {} };
    const { cache } = twoTiers({ lock: hanging });
    const started = performance.now();
    expect(await cache.getOrSet('k', () => 'loaded', { lock: true })).toBe('loaded');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('cache: warmers and analytics', () => {
  it('runs warmers on start() and on demand, reporting failures without stopping the others', async () => {
    const { cache } = twoTiers();
    cache.registerWarmer('top', async () => {
      await cache.set('top', [1, 2, 3]);
    });
    cache.registerWarmer('broken', () => {
      throw new Error('nope');
    });
    const warmed: { name: string; failed: boolean }[] = [];
    cache.on('warmed', (e) => warmed.push({ name: e.name, failed: e.error !== undefined }));
    await cache.start();
    expect(await cache.get('top')).toEqual([1, 2, 3]);
    expect(warmed).toEqual([
      { name: 'top', failed: false },
      { name: 'broken', failed: true },
    ]);
    expect((await cache.warm('top'))[0]!.ok).toBe(true);
    await expect(cache.warm('unknown')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(cache.warmers()).toEqual(['top', 'broken']);
  });

  it('counts hits, misses and sets per tier and namespace, with hit ratios and codec figures', async () => {
    const { cache, memory } = twoTiers();
    await cache.set('k', 'x'.repeat(5_000), { namespace: 'big' });
    await cache.get('k', { namespace: 'big' });
    memory.remove('big', 'k');
    await cache.get('k', { namespace: 'big' });
    await cache.get('missing', { namespace: 'big' });
    const analytics = cache.analytics();
    expect(analytics).toMatchObject({ hits: 2, misses: 1 });
    expect(analytics.hitRatio).toBeCloseTo(2 / 3);
    expect(analytics.namespaces.big).toMatchObject({ hits: 2, misses: 1, sets: 1 });
    expect(analytics.tiers.map((t) => t.name)).toEqual(['memory', 'fault']);
    expect(analytics.tiers[0]).toMatchObject({ hits: 1, sets: 1 });
    expect(analytics.tiers[1]).toMatchObject({ hits: 1, sets: 1, circuit: 'closed' });
    expect(analytics.tiers[1]!.latency.count).toBeGreaterThan(0);
    expect(analytics.codec.compressed).toBe(1);
    expect(analytics.codec.compressionRatio).toBeLessThan(0.1);
    expect(JSON.parse(JSON.stringify(analytics))).toEqual(analytics);
  });
});
