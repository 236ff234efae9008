import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/cache/cache.js';
import type { CodecOptions } from '../../src/cache/codec.js';
import { redisTier } from '../../src/cache/tiers/redis.js';
import { decodeEntry, encodeEntry } from '../../src/cache/tiers/redis-entry.js';
import type { EntryMeta } from '../../src/cache/types.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

// Fault injection on a real Redis: what someone with write access to Redis, or a bug, does to the
// stored entries, and what each cache instance then serves. See "Threat model" in docs/cache.md.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const withK1: CodecOptions = { encryption: { keys: { k1: K1 }, currentKeyId: 'k1' } };
const withK2: CodecOptions = { encryption: { keys: { k1: K1, k2: K2 }, currentKeyId: 'k2' } };

async function until(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe.runIf(requires(redis))(
  'cache on a real Redis: stored entries rewritten behind its back',
  () => {
    const admin = new Redis(REDIS_URL);
    const opened: { close(): Promise<void> }[] = [];
    let prefix = '';

    /** An instance with the Redis tier only (no memory tier), so every read reaches Redis. */
    function instance(codec: CodecOptions): Cache {
      const client = new Redis(REDIS_URL);
      const cache = createCache({
        tiers: [redisTier({ client, prefix })],
        codec,
        logger: silent,
        bus: false,
      });
      opened.push(cache, { close: async () => void (await client.quit()) });
      return cache;
    }

    /** Where the tier keeps `key` (keys without `:`, `%`, `{` or `}` are stored as they are). */
    const entryKey = (key: string) => `${prefix}:{default}:k:=${key}`;

    /** Rewrites the tier's header of `key` in place, keeping the payload and the Redis expiry. */
    async function rewriteHeader(key: string, change: Partial<EntryMeta>): Promise<void> {
      const raw = (await admin.getBuffer(entryKey(key)))!;
      const entry = decodeEntry(raw);
      const ttl = await admin.pttl(entryKey(key));
      await admin.set(
        entryKey(key),
        encodeEntry(entry.payload, { ...entry, ...change }),
        'PX',
        ttl,
      );
    }

    function decodeErrors(cache: Cache): { reason: string; corrupt: boolean }[] {
      const events: { reason: string; corrupt: boolean }[] = [];
      cache.on('decode-error', (e) => events.push({ reason: e.reason, corrupt: e.corrupt }));
      return events;
    }

    const exists = async (key: string) => (await admin.exists(entryKey(key))) === 1;

    afterEach(async () => {
      for (const closable of opened.splice(0)) await closable.close();
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await admin.del(...keys);
      } while (cursor !== '0');
    });
    afterAll(async () => {
      await admin.quit();
    });

    const fresh = () => {
      prefix = `test:integrity:${randomUUID()}`;
    };

    describe('with encryption: what decides what is served is authenticated', () => {
      it('does not serve an expired entry whose expiry was extended in the header', async () => {
        fresh();
        const cache = instance(withK1);
        const events = decodeErrors(cache);
        await cache.set('k', { role: 'viewer' }, { ttl: '100ms', grace: '1m' });
        await sleep(150);
        expect(await cache.get('k')).toBeUndefined(); // expired, kept for its grace period
        await rewriteHeader('k', { expiresAt: Date.now() + 3_600_000 });
        expect(await cache.get('k')).toBeUndefined();
        expect(events).toEqual([{ reason: 'authentication-failed', corrupt: true }]);
        // The check failed with a key this instance holds: no reader can use it, so it goes.
        await until(async () => !(await exists('k')));
      });

      it('does not serve an entry whose stale time was extended in the header', async () => {
        fresh();
        const cache = instance(withK1);
        await cache.set('k', 'v', { ttl: '1h' });
        await rewriteHeader('k', { staleUntil: Date.now() + 7_200_000 });
        expect(await cache.get('k')).toBeUndefined();
      });

      it('does not let an entry escape a tag invalidation by a tag removed from its header and index', async () => {
        fresh();
        const cache = instance(withK1);
        await cache.set('k', { role: 'admin' }, { tags: ['user:1', 'all'] });
        await rewriteHeader('k', { tags: ['all'] });
        await admin.srem(`${prefix}:{default}:t:user%3A1`, '=k');
        await cache.invalidateTags(['user:1']);
        expect(await exists('k')).toBe(true); // the invalidation did not find it...
        expect(await cache.get('k')).toBeUndefined(); // ...but it is not served
      });

      it('does not serve an entry copied under another key', async () => {
        fresh();
        const cache = instance(withK1);
        await cache.set('admin', { role: 'admin' });
        await admin.set(
          entryKey('guest'),
          (await admin.getBuffer(entryKey('admin')))!,
          'PX',
          60_000,
        );
        expect(await cache.get('guest')).toBeUndefined();
        expect(await cache.get('admin')).toEqual({ role: 'admin' });
      });

      it('serves an older entry of the same key written back: replay is not prevented (documented)', async () => {
        fresh();
        const cache = instance(withK1);
        await cache.set('user-1', { role: 'admin' });
        const older = (await admin.getBuffer(entryKey('user-1')))!;
        await cache.set('user-1', { role: 'viewer' });
        await admin.set(entryKey('user-1'), older, 'PX', 60_000);
        // An authentic entry of the same key and namespace: the cache cannot tell it is not the
        // latest without a version kept outside the store. docs/cache.md, "Threat model".
        expect(await cache.get('user-1')).toEqual({ role: 'admin' });
      });

      it('does not serve a written-back older entry past its own authenticated stale time', async () => {
        fresh();
        const cache = instance(withK1);
        await cache.set('k', 'old', { ttl: '200ms' });
        const older = (await admin.getBuffer(entryKey('k')))!;
        await sleep(300);
        await admin.set(entryKey('k'), older, 'PX', 60_000);
        expect(await cache.get('k')).toBeUndefined();
      });
    });

    describe('decode failures: only what no reader can decode is deleted', () => {
      it('leaves a new-key entry to the instances that have the key while another rotates', async () => {
        fresh();
        const rotated = instance(withK2);
        const behind = instance(withK1);
        const events = decodeErrors(behind);
        await rotated.set('k', { v: 'new key' });
        for (let i = 0; i < 3; i++) expect(await behind.get('k')).toBeUndefined();
        await sleep(20);
        expect(events).toEqual(Array(3).fill({ reason: 'unknown-key-id', corrupt: false }));
        expect(await exists('k')).toBe(true);
        expect(await rotated.get('k')).toEqual({ v: 'new key' });
        // and the old key still reads what was written before the rotation
        await behind.set('old', 'k1 entry');
        expect(await rotated.get('old')).toBe('k1 entry');
      });

      it('leaves encrypted entries alone when read by an instance without encryption, and plain ones the other way round', async () => {
        fresh();
        const encrypted = instance(withK1);
        const plain = instance({});
        const events = decodeErrors(plain);
        const refused = decodeErrors(encrypted);
        await encrypted.set('secret', 's');
        await plain.set('open', 'o');
        expect(await plain.get('secret')).toBeUndefined();
        expect(await encrypted.get('open')).toBeUndefined();
        await sleep(20);
        expect(events).toEqual([{ reason: 'encryption-not-configured', corrupt: false }]);
        expect(refused).toEqual([{ reason: 'not-encrypted', corrupt: false }]);
        expect(await exists('secret')).toBe(true);
        expect(await exists('open')).toBe(true);
        expect(await encrypted.get('secret')).toBe('s');
        expect(await plain.get('open')).toBe('o');
      });

      it('deletes an entry with a flipped ciphertext byte, encrypted with a key it holds', async () => {
        fresh();
        const cache = instance(withK1);
        const events = decodeErrors(cache);
        await cache.set('k', { role: 'viewer' });
        const raw = (await admin.getBuffer(entryKey('k')))!;
        raw[raw.length - 20] = raw[raw.length - 20]! ^ 0x01;
        await admin.set(entryKey('k'), raw, 'PX', 60_000);
        expect(await cache.get('k')).toBeUndefined();
        expect(events).toEqual([{ reason: 'authentication-failed', corrupt: true }]);
        await until(async () => !(await exists('k')));
      });

      it('keeps a value stored after the corrupt one it replaced (the delete compares the bytes)', async () => {
        fresh();
        const cache = instance(withK1);
        const tier = redisTier({ client: admin, prefix });
        await cache.set('k', 'corrupt soon');
        const read = (await tier.get('default', 'k'))!;
        await cache.set('k', 'newer');
        expect(await tier.deleteIfUnchanged('default', 'k', read)).toBe(false);
        expect(await cache.get('k')).toBe('newer');
      });
    });
  },
);
