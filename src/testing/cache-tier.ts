import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { CacheTier, EntryMeta } from '../cache/types.js';
import type { TestApi } from './test-api.js';

/** How a conformance run builds the tier under test. */
export interface TierHarness<P> {
  /**
   * A fresh tier, isolated from every other test (a random prefix, table or file). `sibling` is
   * a second tier on the same store with a different prefix/table, when the tier supports that.
   */
  create(): Promise<{ tier: CacheTier<P>; sibling?: CacheTier<P>; cleanup(): Promise<void> }>;
  /** A distinct payload for `n`. */
  payload(n: number): P;
  /** Whether two payloads are the same value. @defaultValue deep equality */
  same?(a: P, b: P): boolean;
}

/** Bytes compare by content (a tier may hand back a Buffer for a Uint8Array); the rest deeply. */
function defaultSame(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array)
    return Buffer.from(a).equals(Buffer.from(b));
  return isDeepStrictEqual(a, b);
}

/**
 * Metadata of an entry written now: fresh for a minute, stale for another.
 *
 * @example
 * ```ts
 * await tier.set('ns', 'k', payload, entryMeta({ tags: ['a'] }));
 * ```
 */
export const entryMeta = (overrides: Partial<EntryMeta> = {}): EntryMeta => {
  const now = Date.now();
  return {
    createdAt: now,
    expiresAt: now + 60_000,
    staleUntil: now + 120_000,
    tags: [],
    ...overrides,
  };
};

/**
 * The contract every {@link CacheTier} implementation passes. Each implementation calls this
 * once with a harness that builds it against its real store; the package's memory, Redis,
 * PostgreSQL and SQLite tiers run it.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeCacheTier } from '@revcopy/enterprise/testing';
 *
 * describeCacheTier('my tier', vitest, {
 *   async create() {
 *     const tier = new MyTier({ prefix: crypto.randomUUID() });
 *     return { tier, cleanup: () => tier.close() };
 *   },
 *   payload: (n) => new Uint8Array([n]),
 * });
 * ```
 */
export function describeCacheTier<P>(name: string, api: TestApi, harness: TierHarness<P>): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  describe(`CacheTier conformance: ${name}`, () => {
    let tier: CacheTier<P>;
    let sibling: CacheTier<P> | undefined;
    let cleanup: () => Promise<void>;
    const same = (a: P | undefined, b: P) => a !== undefined && (harness.same ?? defaultSame)(a, b);

    beforeEach(async () => {
      ({ tier, sibling, cleanup } = await harness.create());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('answers undefined for a key never set', async () => {
      expect(await tier.get('ns', 'missing')).toBeUndefined();
    });

    it('returns the payload and the metadata exactly as set', async () => {
      const m = entryMeta({ tags: ['a', 'b'] });
      await tier.set('ns', 'k', harness.payload(1), m);
      const entry = await tier.get('ns', 'k');
      expect(entry).toBeDefined();
      expect(same(entry!.payload, harness.payload(1))).toBe(true);
      expect(entry).toMatchObject({
        createdAt: m.createdAt,
        expiresAt: m.expiresAt,
        staleUntil: m.staleUntil,
      });
      expect([...entry!.tags].sort()).toEqual(['a', 'b']);
    });

    it('replaces an entry and its tags on set', async () => {
      await tier.set('ns', 'k', harness.payload(1), entryMeta({ tags: ['old'] }));
      await tier.set('ns', 'k', harness.payload(2), entryMeta({ tags: ['new'] }));
      expect(same((await tier.get('ns', 'k'))?.payload, harness.payload(2))).toBe(true);
      expect(await tier.deleteByTags(['old'])).toBe(0);
      expect(await tier.get('ns', 'k')).toBeDefined();
      expect(await tier.deleteByTags(['new'])).toBe(1);
      expect(await tier.get('ns', 'k')).toBeUndefined();
    });

    it('keeps an expired entry until staleUntil and drops it afterwards', async () => {
      const now = Date.now();
      await tier.set('ns', 'stale', harness.payload(1), {
        createdAt: now - 1_000,
        expiresAt: now - 500,
        staleUntil: now + 400,
        tags: [],
      });
      expect((await tier.get('ns', 'stale'))?.expiresAt).toBe(now - 500);
      await sleep(600);
      expect(await tier.get('ns', 'stale')).toBeUndefined();
    });

    it('deletes one entry and says whether it existed', async () => {
      await tier.set('ns', 'k', harness.payload(1), entryMeta());
      expect(await tier.delete('ns', 'k')).toBe(true);
      expect(await tier.get('ns', 'k')).toBeUndefined();
      expect(await tier.delete('ns', 'k')).toBe(false);
    });

    it('isolates namespaces whatever characters they and the keys hold', async () => {
      const pairs: [string, string][] = [
        ['a', 'b:c'],
        ['a:b', 'c'],
        ['a', 'b'],
        ['{a}', 'k'],
        ['a}', '{k'],
        ['%3A', 'k'],
        [':', ':'],
        ['a*', '*'],
        ['a?[x]', 'k'],
        ['spaces and ünïcödé ✓', 'key with\nnewline'],
        ['=', '#'],
      ];
      for (const [i, [ns, key]] of pairs.entries()) {
        await tier.set(ns, key, harness.payload(i), entryMeta({ tags: [`t${i}`] }));
      }
      for (const [i, [ns, key]] of pairs.entries()) {
        expect(same((await tier.get(ns, key))?.payload, harness.payload(i)), `${ns} / ${key}`).toBe(
          true,
        );
      }
      await tier.clear('a');
      expect(await tier.get('a', 'b:c')).toBeUndefined();
      expect(await tier.get('a', 'b')).toBeUndefined();
      for (const [i, [ns, key]] of pairs.entries()) {
        if (ns === 'a') continue;
        expect(same((await tier.get(ns, key))?.payload, harness.payload(i)), `${ns} / ${key}`).toBe(
          true,
        );
      }
      expect(await tier.deleteByTags(['t3'], 'a}')).toBe(0);
      expect(await tier.get('{a}', 'k')).toBeDefined();
    });

    it('stores very long keys, and long keys that differ only at the end stay apart', async () => {
      const base = 'k'.repeat(10_000);
      await tier.set('ns', `${base}1`, harness.payload(1), entryMeta());
      await tier.set('ns', `${base}2`, harness.payload(2), entryMeta());
      expect(same((await tier.get('ns', `${base}1`))?.payload, harness.payload(1))).toBe(true);
      expect(same((await tier.get('ns', `${base}2`))?.payload, harness.payload(2))).toBe(true);
      expect(await tier.delete('ns', `${base}1`)).toBe(true);
      expect(await tier.get('ns', `${base}2`)).toBeDefined();
    });

    it('deletes an entry only while it is exactly as read, when it supports deleteIfUnchanged', async () => {
      const deleteIfUnchanged = tier.deleteIfUnchanged?.bind(tier);
      if (deleteIfUnchanged === undefined) return;
      await tier.set('ns', 'k', harness.payload(1), entryMeta({ tags: ['t'] }));
      const read = (await tier.get('ns', 'k'))!;
      // Replaced after the read: the old entry is gone, the new value must survive.
      await tier.set('ns', 'k', harness.payload(2), entryMeta({ tags: ['t'] }));
      expect(await deleteIfUnchanged('ns', 'k', read)).toBe(false);
      const current = (await tier.get('ns', 'k'))!;
      expect(same(current.payload, harness.payload(2))).toBe(true);
      // The same payload with other metadata is not the same entry either.
      for (const changed of [
        { expiresAt: current.expiresAt + 1 },
        { staleUntil: current.staleUntil + 1 },
        { createdAt: current.createdAt + 1 },
        { tags: [] },
      ]) {
        expect(await deleteIfUnchanged('ns', 'k', { ...current, ...changed })).toBe(false);
      }
      expect(await tier.get('ns', 'k')).toBeDefined();
      expect(await deleteIfUnchanged('ns', 'k', current)).toBe(true);
      expect(await tier.get('ns', 'k')).toBeUndefined();
      expect(await deleteIfUnchanged('ns', 'k', current)).toBe(false);
      // Its tag went with it: a later entry carrying the tag is counted alone.
      await tier.set('ns', 'other', harness.payload(3), entryMeta({ tags: ['t'] }));
      expect(await tier.deleteByTags(['t'])).toBe(1);
    });

    it('deletes by tag in every namespace, or in one when asked', async () => {
      await tier.set('n1', 'a', harness.payload(1), entryMeta({ tags: ['users'] }));
      await tier.set('n2', 'b', harness.payload(2), entryMeta({ tags: ['users', 'profiles'] }));
      await tier.set('n2', 'c', harness.payload(3), entryMeta({ tags: ['profiles'] }));
      await tier.set('n2', 'd', harness.payload(4), entryMeta());
      expect(await tier.deleteByTags(['users'], 'n2')).toBe(1);
      expect(await tier.get('n1', 'a')).toBeDefined();
      expect(await tier.get('n2', 'b')).toBeUndefined();
      expect(await tier.deleteByTags(['users', 'profiles'])).toBe(2);
      expect(await tier.get('n1', 'a')).toBeUndefined();
      expect(await tier.get('n2', 'c')).toBeUndefined();
      expect(await tier.get('n2', 'd')).toBeDefined();
      expect(await tier.deleteByTags([])).toBe(0);
    });

    it('clears every namespace, and nothing of another tier on the same store', async () => {
      await tier.set('n1', 'a', harness.payload(1), entryMeta());
      await tier.set('n2', 'b', harness.payload(2), entryMeta());
      await sibling?.set('n1', 'a', harness.payload(3), entryMeta());
      await tier.clear();
      expect(await tier.get('n1', 'a')).toBeUndefined();
      expect(await tier.get('n2', 'b')).toBeUndefined();
      if (sibling)
        expect(same((await sibling.get('n1', 'a'))?.payload, harness.payload(3))).toBe(true);
    });

    it('removes entries past staleUntil on removeExpired and keeps the others', async () => {
      const now = Date.now();
      await tier.set('ns', 'old', harness.payload(1), {
        createdAt: now - 2_000,
        expiresAt: now - 1_500,
        staleUntil: now + 150,
        tags: ['x'],
      });
      await tier.set('ns', 'live', harness.payload(2), entryMeta());
      await sleep(300);
      const removed = await tier.removeExpired();
      expect(removed).toBeGreaterThanOrEqual(0);
      expect(await tier.get('ns', 'old')).toBeUndefined();
      expect(await tier.get('ns', 'live')).toBeDefined();
    });

    it('answers ping without reading or writing anything', async () => {
      await tier.set('ns', 'k', harness.payload(1), entryMeta());
      await expect(tier.ping()).resolves.toBeUndefined();
      expect(await tier.get('ns', 'k')).toBeDefined();
    });

    it('reports its server version as a non-empty string, when it has serverVersion', async () => {
      if (typeof tier.serverVersion !== 'function') return;
      await expect(tier.serverVersion()).resolves.toMatch(/^\d+(\.\d+)*/);
    });

    it('closes idempotently, and a remote tier refuses ping once closed', async () => {
      await tier.close();
      await tier.close();
      if (!tier.local) await expect(tier.ping()).rejects.toThrow();
    });
  });
}
