import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { MemoryTier, memoryTier } from '../../src/cache/tiers/memory.js';
import { InvalidArgumentError } from '../../src/index.js';
import { describeCacheTier } from '../../src/testing/index.js';

describeCacheTier<unknown>('memory', vitest, {
  async create() {
    const tier = memoryTier({ maxSize: 1_000 });
    return { tier, cleanup: () => tier.close() };
  },
  payload: (n) => ({ n, nested: { list: [n, String(n)] } }),
});

const meta = (tags: string[] = []) => {
  const now = Date.now();
  return { createdAt: now, expiresAt: now + 60_000, staleUntil: now + 60_000, tags };
};

describe('memory tier', () => {
  it('evicts the least recently used entry beyond maxSize and forgets its tags', async () => {
    const tier = new MemoryTier({ maxSize: 2 });
    await tier.set('ns', 'a', 1, meta(['t']));
    await tier.set('ns', 'b', 2, meta(['t']));
    await tier.get('ns', 'a');
    await tier.set('ns', 'c', 3, meta(['t']));
    expect(await tier.get('ns', 'b')).toBeUndefined();
    expect((await tier.get('ns', 'a'))?.payload).toBe(1);
    expect(await tier.deleteByTags(['t'])).toBe(2);
    expect(tier.size).toBe(0);
  });

  it('bounds the total size in bytes when maxBytes is set', async () => {
    const tier = new MemoryTier({ maxSize: 1_000, maxBytes: 100, sizeOf: (v) => String(v).length });
    for (let i = 0; i < 20; i++) await tier.set('ns', `k${i}`, 'x'.repeat(10), meta());
    expect(tier.size).toBeLessThanOrEqual(10);
    expect(await tier.get('ns', 'k19')).toBeDefined();
  });

  it('keeps values by reference, or as clones when asked', async () => {
    const value = { list: [1] };
    const plain = new MemoryTier();
    await plain.set('ns', 'k', value, meta());
    expect((await plain.get('ns', 'k'))?.payload).toBe(value);
    const cloning = new MemoryTier({ clone: true });
    await cloning.set('ns', 'k', value, meta());
    value.list.push(2);
    const got = (await cloning.get('ns', 'k'))?.payload as { list: number[] };
    expect(got).toEqual({ list: [1] });
    got.list.push(3);
    const again = (await cloning.get('ns', 'k'))!.payload as { list: number[] };
    expect(again.list).toEqual([1]);
  });

  it('forgets evicted, deleted and replaced keys in its read index', async () => {
    const tier = new MemoryTier({ maxSize: 10 });
    for (let i = 0; i < 1_000; i++) await tier.set(`ns${i % 3}`, `k${i}`, i, meta([`t${i % 5}`]));
    for (let i = 0; i < 50; i++) await tier.set('ns0', 'same', i, meta());
    await tier.delete('ns0', 'same');
    await tier.deleteByTags(['t1']);
    await tier.clear('ns2');
    expect(tier.indexedKeys).toBe(tier.size);
    await tier.clear();
    expect(tier.indexedKeys).toBe(0);
  });

  it('rejects an invalid maxSize or maxBytes', () => {
    expect(() => new MemoryTier({ maxSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new MemoryTier({ maxBytes: -1 })).toThrow(InvalidArgumentError);
  });
});
